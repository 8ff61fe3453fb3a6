"""GREC / gRefCOCO scoring (generalized referring expression comprehension).

An expression refers to zero, one or several boxes. Predicted boxes with a score below 0.7 are
dropped. A no-target sample is correct when no box is left: N-acc is the share of correct
no-target samples. Otherwise predictions and gold boxes are matched greedily one-to-one on
the GIoU matrix (take the largest entry, stop below 0.5), giving a per-sample F1;
Pr@(F1=1, IoU>=0.5) is the share of samples with F1 = 1, a no-target sample counting as 1
when it is correct.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence

Box = Sequence[float]
SCORE_THRESHOLD = 0.7
MATCH_THRESHOLD = 0.5


def giou(a: Box, b: Box) -> float:
    """Generalized IoU of two boxes ``(x1, y1, x2, y2)``, in [-1, 1]."""
    area_a = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1])
    area_b = max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = area_a + area_b - inter
    hull = (max(a[2], b[2]) - min(a[0], b[0])) * (max(a[3], b[3]) - min(a[1], b[1]))
    if union <= 0 or hull <= 0:
        return -1.0
    return inter / union - (hull - union) / hull


def sample_f1(predicted: Sequence[Box], gold: Sequence[Box]) -> float:
    """F1 of one sample under greedy one-to-one GIoU matching."""
    if not predicted and not gold:
        return 1.0
    pairs = sorted(
        ((giou(p, g), i, j) for i, p in enumerate(predicted) for j, g in enumerate(gold)), reverse=True
    )
    used_p, used_g, tp = set(), set(), 0
    for value, i, j in pairs:
        if value < MATCH_THRESHOLD:
            break
        if i in used_p or j in used_g:
            continue
        used_p.add(i)
        used_g.add(j)
        tp += 1
    return 2 * tp / (len(predicted) + len(gold))


def score_grec(
    gold: Mapping[str, Sequence[Box]],
    predictions: Mapping[str, Iterable[tuple[Box, float]]],
    *,
    invalid: Collection[str] = (),
) -> dict:
    """``gold``: id -> boxes (empty for no-target); ``predictions``: id -> (box, score) pairs;
    ``invalid``: ids whose output could not be read, wrong whatever the gold (a generative model's
    unreadable answer must not pass as "no box" on a no-target expression)."""
    no_target = no_target_ok = perfect = 0
    for sample_id, boxes in gold.items():
        kept = [box for box, score in predictions.get(sample_id, ()) if score >= SCORE_THRESHOLD]
        if sample_id in invalid:
            no_target += not boxes
            continue
        if not boxes:
            no_target += 1
            no_target_ok += not kept
            perfect += not kept
        else:
            perfect += sample_f1(kept, boxes) == 1.0
    return {
        "n_acc": round(100 * no_target_ok / no_target, 2) if no_target else None,
        "pr_f1_1": round(100 * perfect / len(gold), 2) if gold else 0.0,
        "counts": {
            "samples": len(gold),
            "no_target": no_target,
            "missing_predictions": sum(k not in predictions and k not in invalid for k in gold),
            "invalid_predictions": sum(k in invalid for k in gold),
        },
    }
