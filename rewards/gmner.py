"""The rewards' reading of a GMNER completion against its gold, computed once per pair.

The constraint rewards (``constraints``) match spans case-folded with white space collapsed
(``mcr.contract.matching.match_spans``) and count a box as grounded when IoU >= σ; the
``gmner_f1`` reward applies the evaluation's own rule instead. A box of zero or negative area
is a decision that the entity is shown (it counts for ``entailment`` and ``textual_shortcut``)
but never grounds.
"""

from __future__ import annotations

from typing import NamedTuple

from mcr.caches import cached
from mcr.contract.matching import count_correct, decode_gold, f1, iou, match_spans
from mcr.contract.parse import parse_completion


def gmner_f1_score(completion: str, gold: str, *, iou_threshold: float = 0.5) -> float:
    """GMNER F1 of one completion against its gold, by the evaluation's rule; 0 when unparsable."""
    preds = parse_completion(completion).entities
    if preds is None:
        return 0.0
    golds = decode_gold(gold)
    return f1(count_correct(preds, golds, threshold=iou_threshold), len(preds), len(golds))


class GmnerAssessment(NamedTuple):
    """Everything the GMNER constraint rewards read, computed once per (completion, gold)."""

    parsed_ok: bool
    n_pred: int
    n_gold: int
    n_matched: int  # span matches (one-to-one)
    type_ok: int  # matched with the right type
    decision_ok: int  # matched with the gold's shown-or-not decision
    best_ious: tuple[float, ...]  # per matched gold-groundable entity: best IoU with its gold boxes
    gold_groundable: int
    textual_shortcuts: int  # matched, gold not shown, yet a box predicted

    def grounded(self, iou_threshold: float) -> int:
        return sum(v >= iou_threshold for v in self.best_ious)


_UNPARSED = GmnerAssessment(False, 0, 0, 0, 0, 0, (), 0, 0)


@cached(maxsize=8192)
def assess(completion: str, gold: str) -> GmnerAssessment:
    preds = parse_completion(completion).entities
    if preds is None:
        return _UNPARSED
    golds = decode_gold(gold)
    pairs = match_spans(preds, gold)
    type_ok = decision_ok = shortcuts = 0
    best_ious = []
    for i, j in pairs:
        p, g = preds[i], golds[j]
        type_ok += p.type == g.type
        decision_ok += (p.bbox is not None) == bool(g.boxes)
        if g.boxes:
            best_ious.append(max(iou(p.bbox, b) for b in g.boxes) if p.bbox is not None else 0.0)
        elif p.bbox is not None:
            shortcuts += 1
    return GmnerAssessment(
        parsed_ok=True,
        n_pred=len(preds),
        n_gold=len(golds),
        n_matched=len(pairs),
        type_ok=type_ok,
        decision_ok=decision_ok,
        best_ious=tuple(best_ious),
        gold_groundable=sum(bool(g.boxes) for g in golds),
        textual_shortcuts=shortcuts,
    )
