"""What every benchmark provides, so that training, evaluation and the ``mcr`` command stay
benchmark-agnostic: the base classes ``Benchmark`` and ``TrainingTask``.

A benchmark loads a split of its release, turns examples into rows (a conversational
``prompt``, the ``image`` or images, a ``gold`` column, the input ``text``, its ``task`` name,
and the original and resized image sizes), scores raw model outputs by its official rule, and
wires its own ``mcr score`` and ``mcr data stats`` commands: the abstract methods below, which
each benchmark writes. Each example has an ``id``, the ``id`` of its row.

Optional capabilities are declared here with their defaults, and callers ask them, never
``hasattr``; a benchmark overrides those it has:

| capability | default | built-ins that have it |
|---|---|---|
| ``probes``, ``probe_rows``: reliance probes it runs | ``()``: none | gmner, mner_mi, mate |
| ``answered``: an answer's (span, type, boxed) entities | ``None``: headline drop only | gmner, mner_mi |
| ``box_overlay``: gold and predicted boxes to draw | returns ``None``: no boxes | gmner, grec |
| ``format_score``: the contract, with its answer's shape | the contract's tags and JSON | each its own |
| ``cli_name``: its name in ``mcr score`` / ``data stats`` | ``name``, ``-`` for ``_`` | (all the default) |

A training task (``TrainingTask``) also renders an example in an MRSI reasoning style
(``sft_example``) and, when it declares ``synthesizes``, writes a synthetic data set in its
release layout (``has_data``, ``synthesize``, ``synth_arguments``, ``synth``).
"""

from __future__ import annotations

import abc
import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from mcr.contract.parse import parse_completion
from mcr.image_space import ImageSpace

# one box to draw: (box in the original image's pixels, caption, kind: gold, matched, wrong, unshown)
OverlayBox = tuple[tuple, str, str]
# one answered entity: (normalised span, type, given a box)
AnsweredEntity = tuple[str, str, bool]


class Benchmark(abc.ABC):
    """A benchmark: subclass it, write the abstract methods, override the capabilities it has,
    and name an instance ``BENCHMARK`` in its module (``mcr.benchmarks`` registers it)."""

    # as recipes name it (task, eval.benchmarks, eval.data.<name>) and the prompt template's file
    # name: lower case, digits and underscores
    name: ClassVar[str]
    default_split: ClassVar[str] = "test"
    trains: ClassVar[bool] = False  # a training task (``TrainingTask``): rows for GRPO, MRSI styles for SFT

    @property
    def cli_name(self) -> str:
        """As ``mcr score`` and ``mcr data stats`` name it."""
        return self.name.replace("_", "-")

    # what every benchmark writes -----------------------------------------------------------
    @abc.abstractmethod
    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list:
        """The split's examples, every image checked to exist."""

    @abc.abstractmethod
    def rows(self, examples: Sequence, space: ImageSpace) -> list[dict]:
        """One row per example: ``id``, ``task``, ``prompt``, ``image`` (a path or a list of
        paths), ``gold``, ``text``, ``image_size``, ``input_size`` (and ``box_frame`` where
        answers hold boxes)."""

    @abc.abstractmethod
    def score(self, examples: Sequence, rows: Sequence[dict], completions: Sequence[str]) -> dict:
        """The official metrics of raw model outputs, one per row."""

    @abc.abstractmethod
    def headline(self, metrics: dict) -> dict[str, float]:
        """The figures of the comparison table (the first one is the probes' headline)."""

    @abc.abstractmethod
    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``mcr score <cli_name>``'s arguments (``parser.description`` is its help line)."""

    @abc.abstractmethod
    def score_files(self, args: argparse.Namespace) -> dict:
        """``mcr score <cli_name>``: the metrics of a predictions file against a gold file."""

    @abc.abstractmethod
    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``mcr data stats <cli_name>``'s arguments."""

    @abc.abstractmethod
    def stats(self, args: argparse.Namespace) -> dict:
        """``mcr data stats <cli_name>``: a split's counts, from its annotations alone."""

    # optional capabilities -----------------------------------------------------------------
    def format_score(self, completion: str) -> float:
        """1.0 when the completion follows the output contract (``<think>…</think><answer>JSON
        </answer>``, nothing around it); a benchmark checks its answer's shape too."""
        return float(parse_completion(completion).well_formed)

    # the modality-reliance probes it runs (eval/reliance.py); empty: none
    probes: ClassVar[tuple[str, ...]] = ()

    def probe_rows(
        self, examples: Sequence, rows: Sequence[dict], probe: str, space: ImageSpace
    ) -> list[dict]:
        """The rows with one modality taken away or replaced (``mcr.benchmarks.reliance_inputs``),
        for each probe of ``probes``."""
        raise ValueError(f"benchmark {self.name!r} has no probe {probe!r}; its probes: {list(self.probes)}")

    # ``answered(completion)``: the (span, type, boxed) entities of an answer, or None when it
    # cannot be read; a benchmark whose answers are entities defines it, and the reliance probes
    # then report agreement, boxed and absent. None: the probes report the headline's drop.
    answered: ClassVar[Callable[[Any, str], list[AnsweredEntity] | None] | None] = None

    def box_overlay(self, row: dict, completion: str) -> dict[str, list[OverlayBox]] | None:
        """The gold and predicted boxes of a row to draw on its first image, in the original
        image's pixels: ``{"ground_truth": [...], "predictions": [...]}``; None: no boxes."""
        return None


class TrainingTask(Benchmark):
    """A benchmark a recipe trains on (its ``task``): MRSI renders its examples in reasoning
    styles for SFT, and GRPO trains on its rows."""

    trains: ClassVar[bool] = True
    # whether it writes a synthetic data set (data.synth.n, mcr data synth <cli_name>)
    synthesizes: ClassVar[bool] = False

    @abc.abstractmethod
    def sft_example(self, example: Any, style: str, space: ImageSpace) -> dict:
        """One SFT example: the prompt and the gold answer reasoned in ``style``."""

    # synthetic data, when ``synthesizes`` -------------------------------------------------------
    def has_data(self, root: str | Path) -> bool:
        """Whether ``root`` already holds a data set (else ``data.synth.n`` writes one there)."""
        raise NotImplementedError(self._no_synthesis())

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
        colour_look_alikes: float = 0.0,
    ) -> Path:
        """Write ``n`` synthetic examples at ``root`` in the release layout; returns ``root``."""
        raise NotImplementedError(self._no_synthesis())

    def synth_arguments(self, parser: argparse.ArgumentParser) -> None:
        """``mcr data synth <cli_name>``'s arguments."""
        raise NotImplementedError(self._no_synthesis())

    def synth(self, args: argparse.Namespace) -> dict:
        """``mcr data synth <cli_name>``: write a synthetic data set, return what was written."""
        raise NotImplementedError(self._no_synthesis())

    def _no_synthesis(self) -> str:
        return f"task {self.name!r} synthesizes no data (its synthesizes is False)"
