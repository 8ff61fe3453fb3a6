"""The consistency reward: do the reasoning's per-entity verdicts agree with the answer?

The verdicts are read from ``<think>`` by the rule in ``mcr.contract.verdicts`` (once, at parse time). An
answered entity is consistent when, over all its mentions, the type verdicts are exactly its
answered type and the visibility verdicts exactly its decision (box: shown, null: not shown).
The score is the share of consistent answered entities: 1 for an empty answer, 0 when the
completion is unparsable or has no ``<think>``, and 0 for answers too long to read
(``mcr.contract.verdicts.MAX_ENTITIES``).
"""

from __future__ import annotations

from mcr.contract.parse import parse_completion


def consistency_score(completion: str) -> float:
    parsed = parse_completion(completion)
    if parsed.entities is None or parsed.verdicts is None:
        return 0.0
    if not parsed.entities:
        return 1.0
    consistent = 0
    for p, (types, shown) in zip(parsed.entities, parsed.verdicts, strict=True):
        consistent += (
            len(types) == 1 and p.type in types and len(shown) == 1 and (p.bbox is not None) in shown
        )
    return consistent / len(parsed.entities)
