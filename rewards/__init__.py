"""CVO reward functions, importable as ``mcr.rewards``.

``REGISTRY`` maps a reward's name (the one a recipe uses) to a function with TRL's reward
signature ``fn(completions, **kwargs) -> list[float | None]``. The scoring itself lives in
pure per-completion functions (``format_score``, ``gmner_f1_score``); the wrappers below only
map TRL's batch arguments onto them. To add a reward: write a function with that signature
in a module of this package, register it with ``@register("name")``, and list ``name: weight``
under ``rewards.funcs`` in a recipe. Every module of the package is imported below, so a new
file needs no other edit.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from typing import Any

from mcr.rewards.format import format_score
from mcr.rewards.gmner import gmner_f1_score
from mcr.rewards.parse import completion_text, parse_completion

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


@register("format")
def format_reward(completions: list[Any], **kwargs: Any) -> list[float | None]:
    return [format_score(completion_text(c)) for c in completions]


@register("gmner_f1")
def gmner_f1_reward(
    completions: list[Any], gold: list[str], iou_threshold: float = 0.5, **kwargs: Any
) -> list[float | None]:
    return [
        gmner_f1_score(completion_text(c), g, iou_threshold=iou_threshold)
        for c, g in zip(completions, gold, strict=True)
    ]


def get_reward_funcs(weights: dict[str, float], **knobs: Any) -> tuple[list[RewardFunc], list[float]]:
    """The functions and weights a recipe names, with the recipe's knobs bound (e.g. ``iou_threshold``)."""
    unknown = [name for name in weights if name not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown reward(s) {unknown}; registered: {sorted(REGISTRY)}")
    funcs = []
    for name in weights:
        fn = REGISTRY[name]
        if knobs:
            fn = _bind(fn, name, knobs)
        funcs.append(fn)
    return funcs, [float(w) for w in weights.values()]


def _bind(fn: RewardFunc, name: str, knobs: dict[str, Any]) -> RewardFunc:
    def bound(completions: list[Any], **kwargs: Any) -> list[float | None]:
        return fn(completions, **{**knobs, **kwargs})

    bound.__name__ = name
    return bound


def _import_reward_modules() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_reward_modules()

__all__ = ["REGISTRY", "completion_text", "get_reward_funcs", "parse_completion", "register"]
