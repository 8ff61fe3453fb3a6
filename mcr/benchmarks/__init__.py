"""One home per benchmark: ``mcr.benchmarks.<name>`` holds everything about it.

Each home has its loader and stats, its rows (prompt, gold column, image sizes), its MRSI style
context (training tasks), its official scorer and its prediction-file reading, and names where
its templates (``templates/prompts/<name>.jinja``, ``templates/mrsi/<name>/``) and rewards
(``rewards/``) are. ``BENCHMARKS`` maps a benchmark's name to it; the protocol is in ``base``.

| name | trains | home |
|---|---|---|
| ``gmner`` | yes | Twitter-GMNER (grounded multimodal NER) |
| ``mate`` | yes | MATE (cross-modal entity linking) |
| ``mmra`` | no | MMRA (multi-image relational association) |
| ``grec`` | no | GREC on gRefCOCO (generalized referring expressions) |
| ``mner_mi`` | no | MNER-MI (multimodal NER, several images) |
"""

from __future__ import annotations

from mcr.benchmarks import gmner, grec, mate, mmra, mner_mi
from mcr.benchmarks.base import Benchmark, TrainingTask

BENCHMARKS: dict[str, Benchmark] = {
    module.BENCHMARK.name: module.BENCHMARK for module in (gmner, mate, mmra, grec, mner_mi)
}


def get_benchmark(name: str) -> Benchmark:
    key = name.replace("-", "_")
    if key not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; available: {sorted(BENCHMARKS)}")
    return BENCHMARKS[key]


def get_task(name: str) -> TrainingTask:
    """A benchmark a recipe can train on (its ``task``)."""
    benchmark = get_benchmark(name)
    if not benchmark.trains:
        trainable = sorted(n for n, b in BENCHMARKS.items() if b.trains)
        raise ValueError(f"task {name!r} is evaluated only; a recipe trains on one of {trainable}")
    return benchmark  # type: ignore[return-value]


__all__ = ["BENCHMARKS", "Benchmark", "TrainingTask", "get_benchmark", "get_task"]
