"""GMNER matching shared by rewards and scorers: gold decoding, IoU, one-to-one matching.

Pure functions of (prediction, gold); no model, no I/O. Two span rules coexist on purpose:

* the evaluation's rule (``count_correct``, and the scorers in ``mcr.benchmarks``): spans compare
  after collapsing white space, no case folding, region right when IoU > 0.5;
* the rewards' rule (``match_spans``): spans compare case-folded with white space collapsed, so
  the constraint rewards give partial credit to "KEVIN DURANT" for "Kevin Durant".

Boxes: a box is 4 finite JSON numbers (see ``parse.is_box``). A box with x2 <= x1 or y2 <= y1
(zero or negative area) is still a *decision* that the entity is shown, but its IoU with
anything is 0, so it never grounds. Negative or huge coordinates are not clipped.
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

from mcr.caches import cached
from mcr.contract.parse import PredEntity, span_key

Box = tuple[float, float, float, float]


class GoldEntity(NamedTuple):
    entity: str
    type: str
    boxes: tuple[Box, ...]  # empty: not shown in the image (gold region None)
    key: str = ""  # span_key(entity)


@cached(maxsize=8192)
def decode_gold(gold: str) -> tuple[GoldEntity, ...]:
    """Decode the ``gold`` column: ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]``."""
    try:
        items = json.loads(gold)
        return tuple(
            GoldEntity(
                item["entity"],
                item["type"],
                tuple(tuple(map(float, b)) for b in item.get("bbox") or ()),
                span_key(item["entity"]),
            )
            for item in items
        )
    except (ValueError, TypeError, KeyError) as err:
        raise ValueError(f"malformed gold column {gold[:200]!r}: {err!r}") from None


def normalize_span(span: str) -> str:
    """Spans compare after collapsing white space (the official GMNER rule: no case folding)."""
    return " ".join(span.split())


def iou(a: Box, b: Box) -> float:
    """IoU with continuous coordinates; 0 for a degenerate box or a non-finite result."""
    if a[2] <= a[0] or a[3] <= a[1] or b[2] <= b[0] or b[3] <= b[1]:
        return 0.0
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    value = inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)
    return value if math.isfinite(value) and 0.0 <= value <= 1.0 else 0.0


def region_correct(pred: Box | None, gold: tuple[Box, ...], threshold: float = 0.5) -> bool:
    """Official GMNER region rule: gold None needs None; otherwise IoU > threshold with some gold box."""
    if not gold:
        return pred is None
    return pred is not None and any(iou(pred, g) > threshold for g in gold)


def count_correct(
    preds: tuple[PredEntity, ...],
    golds: tuple[GoldEntity, ...],
    *,
    use_type: bool = True,
    use_region: bool = True,
    threshold: float = 0.5,
) -> int:
    """Correct predictions under one-to-one matching: each gold entity is used at most once,
    so a repeated prediction is a false positive unless the text really has it twice."""
    free = list(golds)
    correct = 0
    for p in preds:
        span = normalize_span(p.entity)
        for i, g in enumerate(free):
            if normalize_span(g.entity) != span or (use_type and g.type != p.type):
                continue
            if use_region and not region_correct(p.bbox, g.boxes, threshold):
                continue
            del free[i]
            correct += 1
            break
    return correct


def f1(correct: int, n_pred: int, n_gold: int) -> float:
    """F1 of one example; both empty counts as a perfect 1.0."""
    if n_pred == 0 and n_gold == 0:
        return 1.0
    if correct == 0:
        return 0.0
    precision, recall = correct / n_pred, correct / n_gold
    return 2 * precision * recall / (precision + recall)


@cached(maxsize=8192)
def gold_index(gold: str) -> dict[str, tuple[int, ...]]:
    """Gold entity indices by span key, for one-to-one matching."""
    index: dict[str, list[int]] = {}
    for j, g in enumerate(decode_gold(gold)):
        index.setdefault(g.key, []).append(j)
    return {key: tuple(js) for key, js in index.items()}


def match_spans(preds: tuple[PredEntity, ...], gold: str) -> list[tuple[int, int]]:
    """One-to-one ``(pred index, gold index)`` pairs by the rewards' span key.

    Each gold entity is matched at most once; among golds with the same span, one of the same
    type is preferred, so "Apple" ORG and "Apple" OTHER in one post pair up by type.
    """
    golds, index = decode_gold(gold), gold_index(gold)
    used: set[int] = set()
    pairs = []
    for i, p in enumerate(preds):
        pick = None
        for j in index.get(p.key, ()):
            if j in used:
                continue
            if golds[j].type == p.type:
                pick = j
                break
            if pick is None:
                pick = j
        if pick is not None:
            used.add(pick)
            pairs.append((i, pick))
    return pairs
