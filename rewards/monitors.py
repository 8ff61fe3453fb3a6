"""Reward-hacking monitors: signs that a GRPO run games its rewards, computed per completion
from the same cached parse the rewards use (all six in one pass over a batch: ``read``), and logged
each step beside TRL's reward means.

They are reward functions (``rewards/<name>/mean`` in TRL's logs) that training adds with
weight 0, so they never change the optimised reward; a recipe may also give one a negative
weight and use it as a penalty. ``MONITORS`` maps each to the value a warning compares with
``monitors.thresholds`` (see ``mcr.callbacks.MonitorCallback``).

| monitor | per completion |
|---|---|
| ``monitor_empty_answer`` | 1 when the answer block holds nothing (blank, ``[]``, ``{}``, ``""``) |
| ``monitor_text_outside_tags`` | 1 when text stands before ``<think>`` or after the answer's ``</answer>`` |
| ``monitor_whole_image_box`` | share of its boxes covering >= 90% of the image (GMNER; 0 without boxes) |
| ``monitor_box_area_ratio`` | mean box area over the gold's mean box area (GMNER; None without boxes) |
| ``monitor_entity_ratio`` | answered entities over gold entities (GMNER; None for an empty gold) |
| ``monitor_duplicate_entities`` | share of answered entities whose span repeats in the answer (GMNER) |

A missing or unreadable answer is not an empty one: the format reward sees those.
TRL's own ``completions/mean_length`` is the seventh monitor, mean completion length, read as a
share of ``max_completion_length``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mcr.caches import cached, on_clear
from mcr.contract.matching import decode_gold
from mcr.contract.parse import completion_text, parse_completion
from mcr.rewards.registry import register

WHOLE_IMAGE = 0.9  # a box covering this share of the frame counts as the whole image


@cached(maxsize=4096)
def gold_summary(gold: str) -> tuple[int, float]:
    """(gold entities, their mean box area; 0 without boxes) of a ``gold`` column, once per prompt."""
    golds = decode_gold(gold)
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for g in golds for b in g.boxes]
    return len(golds), sum(areas) / len(areas) if areas else 0.0


class Readings(NamedTuple):
    """The monitors of a batch, one list (a value per completion) each."""

    empty_answer: list[float]
    text_outside_tags: list[float]
    whole_image_box: list[float | None]
    box_area_ratio: list[float | None]
    entity_ratio: list[float | None]
    duplicate_entities: list[float | None]


def read(completions: list[Any], gold=None, task=None, box_frame=None) -> Readings:
    """Every monitor of every completion of a batch, from the cached parses, in one pass."""
    n = len(completions)
    golds = gold if gold is not None else [None] * n
    tasks = task if task is not None else ["gmner"] * n
    frames = box_frame if box_frame is not None else [None] * n
    empty, outside, whole, area_ratio, entity_ratio, duplicates = [], [], [], [], [], []
    last_gold, n_gold, gold_area = object(), 0, 0.0
    # the loop runs once per completion of every GRPO step: names are bound locally
    for c, g, t, frame in zip(completions, golds, tasks, frames, strict=True):
        parsed = parse_completion(c if isinstance(c, str) else completion_text(c))
        answer = parsed.answer
        # an answer given but empty; a missing or unreadable one is the format reward's business
        text = parsed.answer_text
        empty.append(
            1.0
            if text is not None
            and (not text.strip() or (not answer and isinstance(answer, (list, dict, str))))
            else 0.0
        )
        outside.append(1.0 if parsed.text_outside else 0.0)
        entities = parsed.entities if t == "gmner" else None
        if entities is None:
            whole.append(None)
            area_ratio.append(None)
            entity_ratio.append(None)
            duplicates.append(None)
            continue
        areas = []
        for e in entities:  # a plain loop: three times faster than a comprehension over a generator
            b = e.bbox
            if b is not None:
                x1, y1, x2, y2 = b
                area = (x2 - x1) * (y2 - y1)
                areas.append(area if area > 0 else 0.0)  # a degenerate box covers nothing
        if frame is None:
            whole.append(None)
        elif areas:
            limit = WHOLE_IMAGE * frame[0] * frame[1]
            whole.append(len([a for a in areas if a >= limit]) / len(areas))
        else:
            whole.append(0.0)
        if g is not last_gold:  # a group's generations share their prompt's gold
            last_gold, (n_gold, gold_area) = g, gold_summary(g) if g is not None else (0, 0.0)
        area_ratio.append(sum(areas) / len(areas) / gold_area if areas and gold_area > 0 else None)
        entity_ratio.append(len(entities) / n_gold if n_gold else None)
        if len(entities) < 2:
            duplicates.append(0.0)
            continue
        keys = [e.key for e in entities]
        if len(set(keys)) == len(keys):
            duplicates.append(0.0)
        else:
            duplicates.append(len([k for k in keys if keys.count(k) > 1]) / len(keys))
    return Readings(empty, outside, whole, area_ratio, entity_ratio, duplicates)


# TRL calls the six monitors one after another on the same batch (the same list objects): the
# batch's readings are kept, with the lists themselves so that their ids cannot be reused
_last_batch: list = [None, None]


@on_clear
def _forget_last_batch() -> None:
    _last_batch[:] = [None, None]


def _readings(completions, gold=None, task=None, box_frame=None) -> Readings:
    batch = (completions, gold, task, box_frame)
    if _last_batch[0] is None or not all(a is b for a, b in zip(_last_batch[0], batch, strict=True)):
        _last_batch[:] = [batch, read(completions, gold, task, box_frame)]
    return _last_batch[1]


@register("monitor_empty_answer")
def empty_answer(completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any) -> list[float]:
    return _readings(completions, gold, task, box_frame).empty_answer


@register("monitor_text_outside_tags")
def text_outside_tags(
    completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any
) -> list[float]:
    return _readings(completions, gold, task, box_frame).text_outside_tags


@register("monitor_whole_image_box")
def whole_image_box(
    completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any
) -> list[float | None]:
    return _readings(completions, gold, task, box_frame).whole_image_box


@register("monitor_box_area_ratio")
def box_area_ratio(
    completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any
) -> list[float | None]:
    return _readings(completions, gold, task, box_frame).box_area_ratio


@register("monitor_entity_ratio")
def entity_ratio(
    completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any
) -> list[float | None]:
    return _readings(completions, gold, task, box_frame).entity_ratio


@register("monitor_duplicate_entities")
def duplicate_entities(
    completions: list[Any], gold=None, task=None, box_frame=None, **kwargs: Any
) -> list[float | None]:
    return _readings(completions, gold, task, box_frame).duplicate_entities


# monitor -> the log key its value is read from (TRL logs a reward's mean as rewards/<name>/mean)
MONITORS = {
    "empty_answer": "rewards/monitor_empty_answer/mean",
    "text_outside_tags": "rewards/monitor_text_outside_tags/mean",
    "whole_image_box": "rewards/monitor_whole_image_box/mean",
    "box_area_ratio": "rewards/monitor_box_area_ratio/mean",
    "entity_ratio": "rewards/monitor_entity_ratio/mean",
    "duplicate_entities": "rewards/monitor_duplicate_entities/mean",
    "completion_length": "completions/mean_length",
}
MONITOR_REWARDS = tuple(key.split("/")[1] for key in MONITORS.values() if key.startswith("rewards/"))
