"""MMRA scoring (multi-image relational association, arXiv 2407.17379) by its extraction rule.

True/False questions: the most frequent case-insensitive ``\\b(yes|no)\\b`` in the response.
Choice questions: the most frequent ``\\(([A-D])\\)``, else the most frequent ``\\b([A-D])\\b``.
Correct when it equals the gold answer case-insensitively; nothing found scores 0. A tie for
most frequent goes to the candidate that appears first in the response (``Counter`` order).
Accuracy in percent, overall, per subtask and per granularity (entity or image level).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from functools import partial

from mcr.benchmarks.metrics import accuracy as percent_correct
from mcr.benchmarks.mmra.data import MmraItem

_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
_PAREN_CHOICE = re.compile(r"\(([A-D])\)")
_BARE_CHOICE = re.compile(r"\b([A-D])\b")


def extract_choice(response: str, qa_type: str) -> str | None:
    """The answer MMRA's rule reads from a response, or None."""
    if "true or false" in qa_type.lower():
        found = [m.lower() for m in _YES_NO.findall(response)]
    else:
        found = _PAREN_CHOICE.findall(response) or _BARE_CHOICE.findall(response)
    return Counter(found).most_common(1)[0][0] if found else None


def score_mmra(items: Iterable[MmraItem], outputs: Mapping[str, str]) -> dict[str, object]:
    """``outputs`` maps an item id to the raw response; a missing id scores 0."""
    by_task: dict[str, list[bool]] = defaultdict(list)
    by_granularity: dict[str, list[bool]] = defaultdict(list)
    overall, missing = [], 0
    for item in items:
        missing += item.id not in outputs
        choice = extract_choice(outputs.get(item.id, ""), item.qa_type)
        ok = choice is not None and choice.lower() == item.answer.strip().lower()
        overall.append(ok)
        by_task[item.task].append(ok)
        by_granularity[item.granularity].append(ok)

    accuracy = partial(percent_correct, digits=2)  # MMRA reports two decimals

    return {
        "accuracy": accuracy(overall),
        "by_subtask": {k: accuracy(v) for k, v in sorted(by_task.items())},
        "by_granularity": {k: accuracy(v) for k, v in sorted(by_granularity.items())},
        "counts": {"items": len(overall), "missing_predictions": missing},
    }
