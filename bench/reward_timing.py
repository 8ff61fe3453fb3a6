"""Timing reward functions as TRL calls them, one implementation for every bench that does.

TRL calls each reward function over a whole generation batch, one after another; a pass here
does the same over every batch, parse caches emptied first (as a new step's completions find
them) and the garbage collector off while timing, as in ``timeit`` (a collection over the caches
would land in whichever pass it hits). ``bench/rewards.py`` times the reward set on one core;
the GPU bench (``bench/gpu_timing.py``) times the recipe's rewards beside a real step.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mcr.rewards import clear_caches

# a generation batch as TRL hands it to the rewards: the completions and the data set's columns
Batch = tuple[Sequence[Any], Mapping[str, Sequence[Any]]]


def timed_pass(funcs: Sequence[Callable[..., Any]], batches: Sequence[Batch]) -> float:
    """Seconds one pass of ``funcs`` over ``batches`` takes, caches cold, the collector off."""
    clear_caches()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for completions, columns in batches:
            for fn in funcs:
                fn(completions, **columns)
        return time.perf_counter() - start
    finally:
        gc.enable()


def median_pass(funcs: Sequence[Callable[..., Any]], batches: Sequence[Batch], repeats: int) -> float:
    """The median seconds of ``repeats`` passes (``timed_pass``); the caches are left empty."""
    seconds = statistics.median(timed_pass(funcs, batches) for _ in range(repeats))
    clear_caches()
    return seconds
