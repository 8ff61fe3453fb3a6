"""Per-completion caches, and the one call that empties them all.

The output contract's parser, the gold decoding and the rewards' assessments are computed once
per completion (or gold) and kept, so that TRL's separate reward calls share them. A cache made
with ``cached`` (``functools.lru_cache`` that also registers itself) and any other per-batch
state whose reset is registered with ``on_clear`` is emptied by ``clear_caches()``: no list of
caches is kept by hand. It sits with the foundations, below the contract and the rewards, so
that both register here.

    from mcr.caches import cached

    @cached(maxsize=4096)
    def gold_summary(gold: str) -> tuple[int, float]: ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_CLEARERS: list[Callable[[], None]] = []


def on_clear(reset: Callable[[], None]) -> Callable[[], None]:
    """Have ``clear_caches()`` call ``reset`` (no arguments); returns it, so it decorates."""
    if not any(reset is known for known in _CLEARERS):
        _CLEARERS.append(reset)
    return reset


def cached(fn: F | None = None, /, *, maxsize: int | None = 8192) -> Any:
    """``functools.lru_cache(maxsize)`` that ``clear_caches()`` empties; ``@cached`` or
    ``@cached(maxsize=N)``. The cached function keeps ``cache_info`` and ``cache_clear``."""

    def decorator(f: F) -> F:
        wrapped = lru_cache(maxsize=maxsize)(f)
        on_clear(wrapped.cache_clear)
        return wrapped  # type: ignore[return-value]

    return decorator(fn) if fn is not None else decorator


def clear_caches() -> None:
    """Empty every registered cache and reset every registered per-batch state."""
    for reset in list(_CLEARERS):
        reset()
