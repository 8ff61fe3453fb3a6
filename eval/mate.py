"""MATE scoring by the official exact-match rule (see ``mcr.rewards.mate``), with MATE's breakdowns.

Accuracy in percent with one decimal, overall and by task, by object count, and by
pointer -> target attribute pair.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from mcr.data.mate import MateInstance
from mcr.rewards.mate import extract_answer


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

    def accuracy(values: list[bool]) -> float:
        return round(100 * sum(values) / len(values), 1) if values else 0.0

    return {
        "accuracy": accuracy(overall),
        "by_task": {k: accuracy(v) for k, v in sorted(groups["task"].items())},
        "by_object_count": {
            k: accuracy(v) for k, v in sorted(groups["object_count"].items(), key=lambda kv: int(kv[0]))
        },
        "by_pair": {k: accuracy(v) for k, v in sorted(groups["pair"].items())},
        "counts": {"instances": len(overall), "missing_predictions": missing},
    }
