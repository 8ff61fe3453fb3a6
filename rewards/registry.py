"""The reward registry: a reward's name, as recipes use it, to its function."""

from __future__ import annotations

from collections.abc import Callable

RewardFunc = Callable[..., list[float | None]]
REGISTRY: dict[str, RewardFunc] = {}


def register(name: str) -> Callable[[RewardFunc], RewardFunc]:
    """Add a reward function to ``REGISTRY`` under ``name`` (also its ``__name__``, which TRL logs)."""

    def decorator(fn: RewardFunc) -> RewardFunc:
        if name in REGISTRY:
            raise ValueError(f"reward {name!r} is already registered")
        fn.__name__ = name
        REGISTRY[name] = fn
        return fn

    return decorator
