"""CVO reward functions, importable as ``mcr.rewards``.

``REGISTRY`` maps a reward's name (the one a recipe uses) to a function with TRL's reward
signature ``fn(completions, **kwargs) -> list[float | None]``. ``completions`` are strings or
TRL's conversational lists; the other arguments are the dataset's columns: ``gold`` (a JSON
string: a GMNER list ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]`` with boxes
in the model's resized-image pixels, or a MATE object ``{"answer": ...}``), ``text`` (the
input text) and ``task`` (the row's task, as ``mcr.benchmarks`` writes it).

The scoring lives in pure per-completion functions (``constraints``, ``consistency``,
``format``, ``mate``); the functions here only map TRL's batch arguments onto them. A reward
that does not apply to a row's ``task`` (a GMNER reward on a MATE row, or the reverse) returns
None for it, which TRL leaves out of the weighted sum; without a ``task`` column every row is
taken to be of the reward's own task.

A reward's keyword parameters (``iou_threshold`` of ``grounding``, or a new reward's own) are
set per recipe: ``rewards.iou_threshold`` (σ) goes to every reward that takes it, and
``rewards.params.<name>.<key>`` to that reward alone. ``reward_set`` turns a recipe's rewards
section into callables, for training and evaluation alike; they pickle (TRL's asynchronous
reward workers need that).

| name | range | what it scores |
|---|---|---|
| format | {0, 1} | the output contract is followed exactly |
| count | [0, 1] | R_c = 1 - min(1, abs(n_pred - n_gold) / max(1, n_gold)) |
| span | [0, 1] | F1 of predicted vs gold spans |
| type | [0, 1] | share of span-matched entities with the right type |
| entailment | [0, 1] | share of span-matched entities with gold's shown-or-not decision |
| grounding | [0, 1] | share of matched groundable entities with IoU >= σ |
| consistency | [0, 1] | the reasoning's verdicts agree with the answer |
| textual_shortcut | [0, 1] | penalty: boxes for entities the image does not show |
| visual_shortcut | [0, 1] | penalty: answered entities absent from the text (needs a ``text`` column) |
| gmner_f1 | [0, 1] | GMNER F1 by the evaluation's rule (IoU > 0.5, no case folding) |
| mate | {0, 1} | MATE's official exact match |

Penalties are 0 for a clean completion and reach 1 when every answered entity is a
shortcut; recipes give them negative weights. To add a reward: write a function with TRL's
signature in a module of this package, register it with ``@register("name")``, and name it
under ``rewards.funcs`` in a recipe. Every module of the package is imported below, so a new
file needs no other edit.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mcr.benchmarks.gmner import REWARDS as GMNER_REWARDS
from mcr.contract.parse import completion_text, parse_completion
from mcr.rewards.consistency import consistency_score
from mcr.rewards.constraints import (
    count_score,
    entailment_score,
    grounding_score,
    span_score,
    textual_shortcut_score,
    type_score,
    visual_shortcut_score,
)
from mcr.rewards.format import format_score
from mcr.rewards.gmner import gmner_f1_score
from mcr.rewards.mate import mate_score
from mcr.rewards.registry import REGISTRY, RewardFunc, register

if __name__ != "mcr.rewards":  # the folder imported by its path, e.g. from the repository root
    raise ImportError(
        f"the rewards package is mcr.rewards: import mcr.rewards (or mcr.rewards.<module>), not "
        f"{__name__!r}; a second copy would register every reward twice"
    )

CVO_GMNER = tuple(name for name in GMNER_REWARDS if name != "gmner_f1")
"""The CVO reward set for GMNER: one reward per constraint, consistency and the two penalties."""


def _tasks(task: Sequence[str] | None, n: int, own: str) -> Sequence[str]:
    """The rows' tasks: the ``task`` column, or the reward's own task for every row without one."""
    return task if task is not None else [own] * n


def _gmner_rows(score: Callable[[str, str], float], completions, gold, task) -> list[float | None]:
    return [
        score(completion_text(c), g) if t == "gmner" else None
        for c, g, t in zip(completions, gold, _tasks(task, len(gold), "gmner"), strict=True)
    ]


@register("format")
def format_reward(completions: list[Any], task: list[str] | None = None, **kwargs: Any) -> list[float | None]:
    tasks = task if task is not None else [None] * len(completions)
    return [format_score(completion_text(c), t) for c, t in zip(completions, tasks, strict=True)]


@register("count")
def count_reward(completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any):
    return _gmner_rows(count_score, completions, gold, task)


@register("span")
def span_reward(completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any):
    return _gmner_rows(span_score, completions, gold, task)


@register("type")
def type_reward(completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any):
    return _gmner_rows(type_score, completions, gold, task)


@register("entailment")
def entailment_reward(completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any):
    return _gmner_rows(entailment_score, completions, gold, task)


@register("textual_shortcut")
def textual_shortcut_reward(
    completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any
):
    return _gmner_rows(textual_shortcut_score, completions, gold, task)


@register("grounding")
def grounding_reward(
    completions: list[Any],
    gold: list[str],
    task: list[str] | None = None,
    iou_threshold: float = 0.5,
    **kwargs: Any,
) -> list[float | None]:
    return [
        grounding_score(completion_text(c), g, iou_threshold) if t == "gmner" else None
        for c, g, t in zip(completions, gold, _tasks(task, len(gold), "gmner"), strict=True)
    ]


@register("consistency")
def consistency_reward(
    completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any
) -> list[float | None]:
    return [
        consistency_score(completion_text(c)) if t == "gmner" else None
        for c, t in zip(completions, _tasks(task, len(gold), "gmner"), strict=True)
    ]


@register("visual_shortcut")
def visual_shortcut_reward(
    completions: list[Any],
    gold: list[str],
    text: list[str] | None = None,
    task: list[str] | None = None,
    **kwargs: Any,
) -> list[float | None]:
    if text is None:
        raise ValueError(
            "the visual_shortcut reward needs the input text: add a 'text' column to the dataset"
        )
    return [
        visual_shortcut_score(completion_text(c), s) if t == "gmner" else None
        for c, s, t in zip(completions, text, _tasks(task, len(gold), "gmner"), strict=True)
    ]


@register("gmner_f1")
def gmner_f1_reward(
    completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any
) -> list[float | None]:
    # The evaluation's own rule: strict IoU > 0.5, whatever σ the recipe sets for grounding.
    return _gmner_rows(gmner_f1_score, completions, gold, task)


@register("mate")
def mate_reward(
    completions: list[Any], gold: list[str], task: list[str] | None = None, **kwargs: Any
) -> list[float | None]:
    return [
        mate_score(completion_text(c), g) if t == "mate" else None
        for c, g, t in zip(completions, gold, _tasks(task, len(gold), "mate"), strict=True)
    ]


def reward_parameters(name: str) -> list[str]:
    """The keyword parameters a recipe may set for reward ``name``."""
    signature = inspect.signature(REGISTRY[name])
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    columns = {"completions", "gold", "text", "task", "prompts", "completion_ids"}
    return [p.name for p in signature.parameters.values() if p.kind in kinds and p.name not in columns]


class Reward:
    """A registered reward with its recipe parameters bound; pickles by the reward's name."""

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        if name not in REGISTRY:
            raise ValueError(f"unknown reward {name!r}; registered: {sorted(REGISTRY)}")
        unknown = sorted(set(params or {}) - set(reward_parameters(name)))
        if unknown:
            raise ValueError(
                f"reward {name!r} takes no parameter {unknown[0]!r}; its parameters: "
                f"{reward_parameters(name) or 'none'}"
            )
        self.__name__ = name
        self.params = dict(params or {})

    def __call__(self, completions: list[Any], **kwargs: Any) -> list[float | None]:
        return REGISTRY[self.__name__](completions, **{**self.params, **kwargs})

    def __reduce__(self):
        return Reward, (self.__name__, self.params)

    def __repr__(self) -> str:
        return f"Reward({self.__name__!r}, {self.params})"


def get_reward_funcs(
    weights: Mapping[str, float],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    iou_threshold: float | None = None,
) -> tuple[list[Reward], list[float]]:
    """The rewards named in ``weights`` with their parameters bound, and their weights.

    ``iou_threshold`` (σ) goes to every reward that takes it; ``params[name]`` to one reward,
    over σ.
    """
    unknown = [name for name in weights if name not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown reward(s) {unknown}; registered: {sorted(REGISTRY)}")
    stray = sorted(set(params or {}) - set(weights))
    if stray:
        raise ValueError(f"rewards.params names {stray}, which rewards.funcs does not use")
    funcs = []
    for name in weights:
        bound = {}
        if iou_threshold is not None and "iou_threshold" in reward_parameters(name):
            bound["iou_threshold"] = iou_threshold
        bound.update((params or {}).get(name, {}))
        funcs.append(Reward(name, bound))
    return funcs, [float(w) for w in weights.values()]


def reward_set(section: Any) -> tuple[list[Reward], list[float]]:
    """The rewards of a recipe's ``rewards`` section (``funcs``, ``params``, ``iou_threshold``):
    what GRPO trains with and what evaluation reports, through this one function."""
    return get_reward_funcs(section.funcs, params=section.params, iou_threshold=section.iou_threshold)


def clear_caches() -> None:
    """Empty every per-completion cache (parsing, gold decoding, assessments)."""
    from mcr.contract import matching
    from mcr.rewards import constraints, gmner, mate, monitors

    for cached in (
        parse_completion,
        matching.decode_gold,
        matching.gold_index,
        gmner.assess,
        constraints.visual_shortcut_score,
        constraints.padded_key,
        mate.gold_answer,
        monitors.gold_summary,
    ):
        cached.cache_clear()
    monitors._last_batch[:] = [None, None]


def _import_reward_modules() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_reward_modules()

__all__ = [
    "CVO_GMNER",
    "REGISTRY",
    "Reward",
    "RewardFunc",
    "clear_caches",
    "completion_text",
    "get_reward_funcs",
    "parse_completion",
    "register",
    "reward_parameters",
    "reward_set",
]
