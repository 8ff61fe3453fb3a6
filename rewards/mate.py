"""MATE's official exact-match rule (Alonso et al., ACL 2025).

Take the model output, strip it, drop backslashes and newlines, find all matches of
``\\{ *"answer": .*?\\}`` (note the space after the colon), JSON-parse the last one; correct
when ``str(gold_answer) == str(parsed["answer"]).strip()``. No case folding.

The matches are found by a linear scan equivalent to ``re.findall`` with that pattern, so
an adversarial output (many ``{"answer": `` with no closing brace) costs linear time.
"""

from __future__ import annotations

import json
from functools import lru_cache

_KEY = '"answer": '


def answer_objects(output: str) -> list[str]:
    """All non-overlapping matches of ``\\{ *"answer": .*?\\}`` in the cleaned output, in order."""
    text = output.strip().replace("\\", "").replace("\n", "")
    matches, i = [], 0
    while (start := text.find("{", i)) >= 0:
        k = start + 1
        while k < len(text) and text[k] == " ":
            k += 1
        if not text.startswith(_KEY, k):
            i = start + 1
            continue
        end = text.find("}", k + len(_KEY))
        if end < 0:  # no closing brace anywhere after: no later start can match either
            break
        matches.append(text[start : end + 1])
        i = end + 1
    return matches


def extract_answer(output: str) -> str | None:
    """The answer MATE's rule reads from a model output, or None when there is none."""
    matches = answer_objects(output)
    if not matches:
        return None
    try:
        parsed = json.loads(matches[-1])
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict) or "answer" not in parsed:
        return None
    return str(parsed["answer"]).strip()


@lru_cache(maxsize=8192)
def gold_answer(gold: str) -> str:
    return str(json.loads(gold)["answer"])


def mate_score(completion: str, gold: str) -> float:
    """1.0 when the completion's answer equals the gold answer under MATE's rule, else 0.0."""
    predicted = extract_answer(completion)
    return 1.0 if predicted is not None and predicted == gold_answer(gold) else 0.0
