"""The built-in rewards as TRL sees them: the pure per-completion scores of ``constraints``,
``consistency``, ``gmner``, ``mate`` and ``format`` registered under their recipe names, gated to
the rows of their task by ``for_task``.

The order below is the order ``task_rewards`` lists them in.
"""

from __future__ import annotations

from typing import Any

from mcr.benchmarks import BENCHMARKS
from mcr.contract.parse import completion_text
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
from mcr.rewards.registry import register
from mcr.rewards.tasks import for_task

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


@register("format", tasks=tuple(BENCHMARKS))  # every benchmark has its answer's shape
def format_reward(completions: list[Any], task: list[str] | None = None, **kwargs: Any) -> list[float | None]:
    tasks = task if task is not None else [None] * len(completions)
    return [format_score(completion_text(c), t) for c, t in zip(completions, tasks, strict=True)]


register("count")(for_task("gmner")(count_score))
register("span")(for_task("gmner")(span_score))
register("type")(for_task("gmner")(type_score))
register("entailment")(for_task("gmner")(entailment_score))
register("grounding")(for_task("gmner")(grounding_score))
register("consistency")(for_task("gmner", columns=())(consistency_score))
register("textual_shortcut")(for_task("gmner")(textual_shortcut_score))
register("visual_shortcut")(for_task("gmner", columns=("text",))(visual_shortcut_score))


@register("gmner_f1")
@for_task("gmner")
def gmner_f1(completion: str, gold: str) -> float:
    # the evaluation's own rule: strict IoU > 0.5, whatever σ the recipe sets for grounding
    return gmner_f1_score(completion, gold)


register("mate")(for_task("mate")(mate_score))
