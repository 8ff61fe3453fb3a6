"""MATE's official exact-match rule (Alonso et al., ACL 2025).

Take the model output, strip it, drop backslashes and newlines, find all matches of
``\\{ *"answer": .*?\\}`` (note the space after the colon), JSON-parse the last one; correct
when ``str(gold_answer) == str(parsed["answer"]).strip()``. No case folding.

The matches are found by a linear scan equivalent to ``re.findall`` with that pattern, so
an adversarial output (many ``{"answer": `` with no closing brace) costs linear time.

Accuracy in percent with one decimal, overall and by task, by object count, and by
pointer -> target attribute pair.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from functools import partial

from mcr.benchmarks.mate.data import MateInstance
from mcr.benchmarks.metrics import accuracy as percent_correct

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


def is_correct(instance: MateInstance, output: str | None) -> bool:
    predicted = extract_answer(output) if output is not None else None
    return predicted is not None and predicted == str(instance.answer)


def score_mate(instances: Iterable[MateInstance], outputs: Mapping[str, str]) -> dict[str, object]:
    """``outputs`` maps an instance id to the raw model output; a missing id counts as wrong."""
    groups: dict[str, dict[str, list[bool]]] = {
        "task": defaultdict(list),
        "object_count": defaultdict(list),
        "pair": defaultdict(list),
    }
    overall, missing = [], 0
    for inst in instances:
        missing += inst.id not in outputs
        ok = is_correct(inst, outputs.get(inst.id))
        overall.append(ok)
        groups["task"][inst.task].append(ok)
        groups["object_count"][str(inst.object_count)].append(ok)
        groups["pair"][f"{inst.pointer_attribute}->{inst.target_attribute}"].append(ok)

    accuracy = partial(percent_correct, digits=1)  # MATE reports one decimal

    return {
        "accuracy": accuracy(overall),
        "by_task": {k: accuracy(v) for k, v in sorted(groups["task"].items())},
        "by_object_count": {
            k: accuracy(v) for k, v in sorted(groups["object_count"].items(), key=lambda kv: int(kv[0]))
        },
        "by_pair": {k: accuracy(v) for k, v in sorted(groups["pair"].items())},
        "counts": {"instances": len(overall), "missing_predictions": missing},
    }
