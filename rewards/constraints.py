"""One pure scoring function per MCR constraint, plus the two shortcut penalties.

Each takes the completion's text and the ``gold`` column (and, for ``visual_shortcut``, the
input text) and returns a float in [0, 1]. Entities are matched one-to-one by span
(case-folded, white space collapsed; see ``gmner.assess``). Conventions, for every function:

* an unparsable completion (see ``mcr.contract.parse``) scores 0, penalties included: it earns nothing,
  and the ``format`` reward is where malformed output is punished;
* an empty answer for an empty gold scores 1 (nothing to find, nothing claimed);
* a ratio whose denominator is empty scores 1 when the gold gives nothing to get right there
  either, and 0 otherwise (for example ``type`` when no span matched a non-empty gold).
"""

from __future__ import annotations

from mcr.caches import cached
from mcr.contract.matching import f1
from mcr.contract.parse import parse_completion, span_key
from mcr.rewards.gmner import assess


@cached(maxsize=1024)
def padded_key(text: str) -> str:
    return f" {span_key(text)} "


def _share(good: int, total: int, nothing_to_do: bool) -> float:
    if total:
        return good / total
    return 1.0 if nothing_to_do else 0.0


def count_score(completion: str, gold: str) -> float:
    """R_c = 1 - min(1, |n_pred - n_gold| / max(1, n_gold))."""
    a = assess(completion, gold)
    if not a.parsed_ok:
        return 0.0
    return 1.0 - min(1.0, abs(a.n_pred - a.n_gold) / max(1, a.n_gold))


def span_score(completion: str, gold: str) -> float:
    """R_s: F1 of predicted against gold spans (one-to-one)."""
    a = assess(completion, gold)
    return f1(a.n_matched, a.n_pred, a.n_gold) if a.parsed_ok else 0.0


def type_score(completion: str, gold: str) -> float:
    """R_t: share of span-matched entities with the gold type."""
    a = assess(completion, gold)
    return _share(a.type_ok, a.n_matched, a.n_gold == 0 and a.n_pred == 0) if a.parsed_ok else 0.0


def entailment_score(completion: str, gold: str) -> float:
    """R_e: share of span-matched entities whose shown-or-not decision (box or null) is gold's."""
    a = assess(completion, gold)
    return _share(a.decision_ok, a.n_matched, a.n_gold == 0 and a.n_pred == 0) if a.parsed_ok else 0.0


def grounding_score(completion: str, gold: str, iou_threshold: float = 0.5) -> float:
    """R_u: share of span-matched, gold-groundable entities whose box has IoU >= σ with a gold box.

    When no groundable entity was matched: 1 if the gold has none to ground, else 0.
    """
    a = assess(completion, gold)
    if not a.parsed_ok:
        return 0.0
    return _share(a.grounded(iou_threshold), len(a.best_ious), a.gold_groundable == 0)


def textual_shortcut_score(completion: str, gold: str) -> float:
    """Penalty: share of answered entities given a box although gold says the image does not show them."""
    a = assess(completion, gold)
    return a.textual_shortcuts / a.n_pred if a.parsed_ok and a.n_pred else 0.0


@cached(maxsize=8192)
def visual_shortcut_score(completion: str, text: str) -> float:
    """Penalty: share of answered entities whose span does not occur (as whole tokens) in the input text."""
    preds = parse_completion(completion).entities
    if not preds:
        return 0.0
    haystack = padded_key(text)
    absent = sum(not p.key or f" {p.key} " not in haystack for p in preds)
    return absent / len(preds)
