"""The ``mate`` reward: MATE's official exact-match rule (``mcr.benchmarks.mate.scorer``) as a reward."""

from __future__ import annotations

import json

from mcr.benchmarks.mate.scorer import extract_answer
from mcr.caches import cached


@cached(maxsize=8192)
def gold_answer(gold: str) -> str:
    return str(json.loads(gold)["answer"])


def mate_score(completion: str, gold: str) -> float:
    """1.0 when the completion's answer equals the gold answer under MATE's rule, else 0.0."""
    predicted = extract_answer(completion)
    return 1.0 if predicted is not None and predicted == gold_answer(gold) else 0.0
