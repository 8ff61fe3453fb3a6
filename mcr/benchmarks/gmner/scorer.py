"""Twitter-GMNER scoring by the official rules (Yu et al., ACL 2023), plus MCR's bias diagnostics.

Micro precision / recall / F1 over a split, on (post, entity) items, with one-to-one matching
inside a post:

* GMNER: span and type exact (white space collapsed, no case folding) and the region right:
  gold None needs a None prediction, otherwise IoU > 0.5 with one of the entity's gold boxes;
* MNER: span and type only; EEG: span and region, type ignored.

Bias diagnostics (the MCR paper): textual bias on gold-None entities — N-precision, N-recall
and N-F1 of predicting None, over predictions matched to a gold entity by span and type —
and visual bias — N-count, predicted entities whose span does not occur in the post, and
N-rate = N-count / predictions. Grounding: of the gold entities the image shows, the share
predicted with span, type and a box of IoU > 0.5. GMNER F1 counts a right null as a right
region, so a model that never boxes still scores on the entities not shown; this share is
the part of GMNER only a box earns.

Boxes here are in original-image pixels; ``prediction_from_text`` rescales a model's boxes
from its frame (the resized image's pixels, or 0-1000: ``mcr.image_space``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mcr.benchmarks.metrics import micro_prf
from mcr.contract.matching import GoldEntity, count_correct, normalize_span
from mcr.contract.parse import PredEntity, parse_completion, span_key
from mcr.data.schema import Record
from mcr.image_space import unscale_box


def prediction_from_text(
    raw: str, image_size: tuple[int, int], frame: tuple[int, int]
) -> tuple[PredEntity, ...] | None:
    """The entities of a raw model output with boxes rescaled to original pixels; None if unparsable."""
    entities = parse_completion(raw).entities
    if entities is None:
        return None
    return tuple(
        e._replace(bbox=None if e.bbox is None else unscale_box(e.bbox, image_size, frame)) for e in entities
    )


def gold_entities(record: Record) -> tuple[GoldEntity, ...]:
    return tuple(GoldEntity(e.text, e.type, e.boxes, span_key(e.text)) for e in record.entities)


def score_gmner(
    records: Iterable[Record], predictions: Mapping[str, Iterable[PredEntity] | None]
) -> dict[str, object]:
    """Official GMNER / MNER / EEG scores and the bias diagnostics.

    ``predictions`` maps a record id to its predicted entities (original pixels); an id that is
    missing, or maps to None (unparsable output), counts as an empty prediction.
    """
    totals = dict.fromkeys(("gmner", "mner", "eeg"), 0)
    n_pred = n_gold = 0
    none_pred = none_gold = none_correct = absent = 0
    shown = grounded = 0
    missing = 0
    for record in records:
        if record.id not in predictions:
            missing += 1
        preds = tuple(predictions.get(record.id) or ())
        golds = gold_entities(record)
        n_pred += len(preds)
        n_gold += len(golds)
        totals["gmner"] += count_correct(preds, golds)
        totals["mner"] += count_correct(preds, golds, use_region=False)
        totals["eeg"] += count_correct(preds, golds, use_type=False)
        # textual bias: predicting None for gold-None entities, matched by span and type
        none_pred += sum(p.bbox is None for p in preds)
        none_gold += sum(not g.boxes for g in golds)
        none_correct += count_correct(
            tuple(p for p in preds if p.bbox is None),
            tuple(g for g in golds if not g.boxes),
            use_region=False,
        )
        # grounding: gold entities the image shows, found with a right box
        shown_golds = tuple(g for g in golds if g.boxes)
        shown += len(shown_golds)
        grounded += count_correct(tuple(p for p in preds if p.bbox is not None), shown_golds)
        # visual bias: predicted spans that are not in the post
        text = f" {normalize_span(record.text)} "
        absent += sum(
            not normalize_span(p.entity) or f" {normalize_span(p.entity)} " not in text for p in preds
        )
    result: dict[str, object] = {name: micro_prf(correct, n_pred, n_gold) for name, correct in totals.items()}
    n_prf = micro_prf(none_correct, none_pred, none_gold)
    result["bias"] = {
        "n_precision": n_prf["precision"],
        "n_recall": n_prf["recall"],
        "n_f1": n_prf["f1"],
        "n_count": absent,
        "n_rate": round(100 * absent / n_pred, 2) if n_pred else 0.0,
    }
    result["grounding"] = {
        "shown": shown,
        "grounded": grounded,
        "recall": round(100 * grounded / shown, 2) if shown else 0.0,
    }
    result["counts"] = {"predicted": n_pred, "gold": n_gold, "missing_predictions": missing}
    return result
