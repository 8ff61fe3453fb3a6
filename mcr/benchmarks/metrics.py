"""The figures several benchmarks' official rules share, each in percent.

* ``micro_prf``: micro precision, recall and F1 over a split from its counts, two decimals
  (GMNER, MNER and EEG of Twitter-GMNER; MNER-MI's seqeval entity F1);
* ``accuracy``: the share of correct answers, rounded as the benchmark publishes it (MATE one
  decimal, MMRA two).
"""

from __future__ import annotations

from collections.abc import Sequence


def micro_prf(correct: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Micro precision, recall and F1 in percent with two decimals; 0.0 where nothing is predicted
    or nothing is gold."""
    p = correct / n_pred if n_pred else 0.0
    r = correct / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(100 * p, 2), "recall": round(100 * r, 2), "f1": round(100 * f, 2)}


def accuracy(correct: Sequence[bool], *, digits: int) -> float:
    """The share of ``True`` in percent, rounded to ``digits`` decimals; 0.0 for no answers."""
    return round(100 * sum(correct) / len(correct), digits) if correct else 0.0
