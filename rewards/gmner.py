"""GMNER scoring shared by rewards and evaluation: gold decoding, IoU, one-to-one matching.

Pure functions of (prediction, gold); no model, no I/O.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache

from mcr.rewards.parse import PredEntity, parse_completion

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class GoldEntity:
    entity: str
    type: str
    boxes: tuple[Box, ...]  # empty: not shown in the image (gold region None)


@lru_cache(maxsize=8192)
def decode_gold(gold: str) -> tuple[GoldEntity, ...]:
    """Decode the ``gold`` column: ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]``."""
    items = json.loads(gold)
    return tuple(
        GoldEntity(item["entity"], item["type"], tuple(tuple(map(float, b)) for b in item.get("bbox") or ()))
        for item in items
    )


def normalize_span(span: str) -> str:
    """Spans compare after collapsing white space (the official GMNER rule: no case folding)."""
    return " ".join(span.split())


def iou(a: Box, b: Box) -> float:
    """IoU with continuous coordinates; a degenerate or non-finite box has IoU 0 with anything."""
    if not all(math.isfinite(v) for v in (*a, *b)):
        return 0.0
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    if a[2] <= a[0] or a[3] <= a[1] or b[2] <= b[0] or b[3] <= b[1]:
        return 0.0
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (area_a + area_b - inter)


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


def gmner_f1_score(completion: str, gold: str, *, iou_threshold: float = 0.5) -> float:
    """GMNER F1 of one completion against its gold, by the evaluation's rule; 0 when unparsable."""
    preds = parse_completion(completion).entities
    if preds is None:
        return 0.0
    golds = decode_gold(gold)
    return f1(count_correct(preds, golds, threshold=iou_threshold), len(preds), len(golds))
