"""CVO reward functions, importable as ``mcr.rewards``.

``REGISTRY`` maps a reward's name (the one a recipe uses) to a function with TRL's reward
signature ``fn(completions, **kwargs) -> list[float | None]``. ``completions`` are strings or
TRL's conversational lists; the gold answer comes from the dataset column ``gold`` (a JSON
string: a GMNER list ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]`` with boxes
in the model's resized-image pixels, or a MATE object ``{"answer": ...}``).

The scoring lives in pure per-completion functions (``constraints``, ``consistency``,
``format``, ``mate``); the wrappers here only map TRL's batch arguments onto them. A reward
that does not apply to a row's task (a GMNER reward on a MATE row, or the reverse) returns
None for it, which TRL leaves out of the weighted sum.

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
import pkgutil
from collections.abc import Callable
from typing import Any

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
from mcr.rewards.gmner import gmner_f1_score, is_mate_gold
from mcr.rewards.mate import mate_score
from mcr.rewards.parse import completion_text, parse_completion

RewardFunc = Callable[..., list[float | None]]
REGISTRY: dict[str, RewardFunc] = {}

CVO_GMNER = (
    "format",
    "count",
    "span",
    "type",
    "entailment",
    "grounding",
    "consistency",
    "textual_shortcut",
    "visual_shortcut",
)
"""The CVO reward set for GMNER: one reward per constraint, consistency and the two penalties."""


def register(name: str) -> Callable[[RewardFunc], RewardFunc]:
    """Add a reward function to ``REGISTRY`` under ``name`` (also its ``__name__``, which TRL logs)."""

    def decorator(fn: RewardFunc) -> RewardFunc:
        if name in REGISTRY:
            raise ValueError(f"reward {name!r} is already registered")
        fn.__name__ = name
        REGISTRY[name] = fn
        return fn

    return decorator


def _gmner(score: Callable[[str, str], float]) -> RewardFunc:
    """A TRL reward from a per-completion GMNER score; None on rows of another task."""

    def reward(completions: list[Any], gold: list[str], **kwargs: Any) -> list[float | None]:
        return [
            None if is_mate_gold(g) else score(completion_text(c), g)
            for c, g in zip(completions, gold, strict=True)
        ]

    return reward


@register("format")
def format_reward(completions: list[Any], gold: list[str] | None = None, **kwargs: Any) -> list[float | None]:
    if gold is None:
        return [format_score(completion_text(c)) for c in completions]
    return [
        format_score(completion_text(c), "mate" if is_mate_gold(g) else "gmner")
        for c, g in zip(completions, gold, strict=True)
    ]


register("count")(_gmner(count_score))
register("span")(_gmner(span_score))
register("type")(_gmner(type_score))
register("entailment")(_gmner(entailment_score))
register("textual_shortcut")(_gmner(textual_shortcut_score))


@register("grounding")
def grounding_reward(
    completions: list[Any], gold: list[str], iou_threshold: float = 0.5, **kwargs: Any
) -> list[float | None]:
    return [
        None if is_mate_gold(g) else grounding_score(completion_text(c), g, iou_threshold)
        for c, g in zip(completions, gold, strict=True)
    ]


@register("consistency")
def consistency_reward(completions: list[Any], gold: list[str], **kwargs: Any) -> list[float | None]:
    return [
        None if is_mate_gold(g) else consistency_score(completion_text(c))
        for c, g in zip(completions, gold, strict=True)
    ]


@register("visual_shortcut")
def visual_shortcut_reward(
    completions: list[Any], gold: list[str], text: list[str] | None = None, **kwargs: Any
) -> list[float | None]:
    if text is None:
        raise ValueError(
            "the visual_shortcut reward needs the input text: add a 'text' column to the dataset"
        )
    return [
        None if is_mate_gold(g) else visual_shortcut_score(completion_text(c), t)
        for c, g, t in zip(completions, gold, text, strict=True)
    ]


@register("gmner_f1")
def gmner_f1_reward(
    completions: list[Any], gold: list[str], iou_threshold: float = 0.5, **kwargs: Any
) -> list[float | None]:
    # The evaluation's own rule: strict IoU > 0.5 whatever σ the recipe sets for grounding.
    return [
        None if is_mate_gold(g) else gmner_f1_score(completion_text(c), g)
        for c, g in zip(completions, gold, strict=True)
    ]


@register("mate")
def mate_reward(completions: list[Any], gold: list[str], **kwargs: Any) -> list[float | None]:
    return [
        mate_score(completion_text(c), g) if is_mate_gold(g) else None
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


def clear_caches() -> None:
    """Empty every per-completion cache (parsing, gold decoding, assessments)."""
    from mcr.rewards import constraints, gmner, mate, parse

    for cached in (
        parse.parse_completion,
        gmner.decode_gold,
        gmner.gold_index,
        gmner.assess,
        constraints.visual_shortcut_score,
        constraints.padded_key,
        mate.gold_answer,
    ):
        cached.cache_clear()


def _import_reward_modules() -> None:
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")


_import_reward_modules()

__all__ = [
    "CVO_GMNER",
    "REGISTRY",
    "clear_caches",
    "completion_text",
    "get_reward_funcs",
    "parse_completion",
    "register",
]
