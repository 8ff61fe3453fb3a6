"""What every benchmark home provides, so that training, evaluation and the ``mcr`` command
stay benchmark-agnostic.

A benchmark loads a split of its release, turns examples into rows (a conversational
``prompt``, the ``image`` or images, a ``gold`` column, the input ``text``, its ``task`` name,
and the original and resized image sizes), scores raw model outputs by its official rule, and
wires its own ``mcr score`` and ``mcr data stats`` commands. A training task also renders an
example in an MRSI reasoning style and can synthesize a data set in its release layout.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from mcr.image_space import ImageSpace


class Benchmark(Protocol):
    name: str  # as recipes name it (task, eval.benchmarks) and the prompt template's file name
    cli_name: str  # as `mcr score` / `mcr data stats` name it
    default_split: str
    trains: bool  # a training task: rows for GRPO, MRSI styles for SFT

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list: ...

    def rows(self, examples: Sequence, space: ImageSpace) -> list[dict]: ...

    def score(self, examples: Sequence, rows: Sequence[dict], completions: Sequence[str]) -> dict: ...

    def format_score(self, completion: str) -> float: ...

    def headline(self, metrics: dict) -> dict[str, float]: ...

    def score_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def score_files(self, args: argparse.Namespace) -> dict: ...

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def stats(self, args: argparse.Namespace) -> dict: ...


class TrainingTask(Benchmark, Protocol):
    def sft_example(self, example: Any, style: str, space: ImageSpace) -> dict: ...

    def has_data(self, root: str | Path) -> bool: ...

    def synthesize(
        self,
        root: str | Path,
        n: int,
        seed: int,
        *,
        images: str | Path | None = None,
        splits: tuple[float, float, float] = (0.8, 0.1, 0.1),
        layout: str = "free",
        factor: int = 28,
    ) -> Path: ...

    def synth_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def synth(self, args: argparse.Namespace) -> dict: ...
