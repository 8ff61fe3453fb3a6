"""The format reward: does the completion follow the output contract, with an answer of the
row's task's shape? Each benchmark defines its shape (``format_score`` in ``mcr.benchmarks``)."""

from __future__ import annotations

from mcr.benchmarks import BENCHMARKS, get_benchmark

_TRAINING = tuple(b for b in BENCHMARKS.values() if b.trains)


def format_score(completion: str, task: str | None = None) -> float:
    """1.0 for ``<think>…</think><answer>JSON</answer>`` with nothing around it and an answer of
    ``task``'s shape (None: the shape of any training task)."""
    if task is None:
        return max(b.format_score(completion) for b in _TRAINING)
    return get_benchmark(task).format_score(completion)
