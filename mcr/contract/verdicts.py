"""Reading the per-entity verdicts that a ``<think>`` block states.

The MRSI templates state, for every entity, its type and whether the image shows it. The
parser reads those verdicts once per completion (``ParsedCompletion.verdicts``), for the
``consistency`` reward to compare with the answer.

Reading rule (the contract every reasoning style in ``templates/`` follows):

* a *mention* is an answered entity's span in one line of the reasoning, matched case-folded
  with white space collapsed, and not inside a longer word;
* a mention's *scope* runs from its end to the next mention or the end of the line;
* in a scope, a *type verdict* is one of the codes PER, LOC, ORG, OTHER (upper case, whole
  word) and a *visibility verdict* is "not shown", "not visible", "not in the image" or
  "absent" (not shown), else "shown" or "visible" (shown), case-insensitive.

Answers of more than ``MAX_ENTITIES`` entities are not read (no verdicts), which keeps the
cost of a call bounded on hostile output.
"""

from __future__ import annotations

import re

MAX_ENTITIES = 64
_VERDICTS = re.compile(
    r"(?=[PLONSAVnsav])"  # a cheap first-character test before the alternatives (2x faster)
    r"(?:\b(PER|LOC|ORG|OTHER)\b"
    r"|(?i:\b(not\s+shown|not\s+visible|not\s+in\s+the\s+image|absent)\b)"
    r"|(?i:\b(shown|visible)\b))"
)
_BLANKS = re.compile(r"[^\S\n]+")


def _folded(text: str) -> str:
    """``text`` case-folded character by character, keeping positions aligned with ``text``."""
    folded = text.casefold()
    if len(folded) == len(text):
        return folded
    return "".join(c.casefold() if len(c.casefold()) == 1 else c for c in text)


def find_mentions(folded: str, keys: list[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping whole-word occurrences of the keys, longest first where they start together."""
    found = []
    size = len(folded)
    for key in keys:
        start = folded.find(key)
        while start >= 0:
            end = start + len(key)
            before = folded[start - 1] if start else " "
            after = folded[end] if end < size else " "
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
                found.append((start, -len(key), key))
            start = folded.find(key, start + 1)
    found.sort()
    mentions, covered = [], 0
    for start, neg_len, key in found:
        if start >= covered:
            mentions.append((start, start - neg_len, key))
            covered = start - neg_len
    return mentions


def read_verdicts(think: str, keys: list[str]) -> dict[str, tuple[set[str], set[bool]]]:
    """Per entity key (``span_key``): the type and visibility verdicts found in all its scopes."""
    found: dict[str, tuple[set[str], set[bool]]] = {k: (set(), set()) for k in keys if k}
    ordered = sorted(found, key=len, reverse=True)
    text = think.replace("\r", "\n")
    if "  " in text or "\t" in text or "\f" in text or "\v" in text:
        text = _BLANKS.sub(" ", text)  # white space collapsed within lines, as in the keys
    for line in text.split("\n"):
        mentions = find_mentions(_folded(line), ordered)
        for k, (_, end, key) in enumerate(mentions):
            scope_end = mentions[k + 1][0] if k + 1 < len(mentions) else len(line)
            types, shown = found[key]
            for type_code, hidden, _shown in _VERDICTS.findall(line, end, scope_end):
                if type_code:
                    types.add(type_code)
                else:
                    shown.add(not hidden)
    return found
