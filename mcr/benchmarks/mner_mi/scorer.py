"""MNER-MI scoring: entity-level micro precision, recall and F1 in the seqeval convention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mcr.benchmarks.mner_mi.data import MnerMiRecord, entities


def score_mner_mi(records: Iterable[MnerMiRecord], predictions: Mapping[str, Sequence[str]]) -> dict:
    """Entity-level micro precision, recall and F1 (percent); a missing prediction is all O."""
    tp = n_pred = n_gold = missing = 0
    for record in records:
        if record.id not in predictions:
            missing += 1
        predicted = entities(predictions.get(record.id, ["O"] * len(record.labels)))
        gold = entities(record.labels)
        tp += len(predicted & gold)
        n_pred += len(predicted)
        n_gold += len(gold)
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(100 * p, 2),
        "recall": round(100 * r, 2),
        "f1": round(100 * f, 2),
        "counts": {"predicted": n_pred, "gold": n_gold, "missing_predictions": missing},
    }
