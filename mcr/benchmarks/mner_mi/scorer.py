"""MNER-MI scoring: entity-level micro precision, recall and F1 in the seqeval convention."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mcr.benchmarks.metrics import micro_prf
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
    return {
        **micro_prf(tp, n_pred, n_gold),
        "counts": {"predicted": n_pred, "gold": n_gold, "missing_predictions": missing},
    }
