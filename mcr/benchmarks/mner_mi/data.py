"""MNER-MI (multi-image MNER): its records, and entities read from BIO tags as seqeval does.

One record per line, a Python dict literal as the release writes it —
``{"id": 5302, "text": [tokens], "images": [...], "label": [BIO tags], "url": ...}`` — read with
``ast.literal_eval`` (the official loader's ``eval`` would run arbitrary code). Types PER, LOC,
ORG, MIS. Entities are read from BIO tags as seqeval does by default: an ``I-X`` that does not
continue an ``X`` entity starts a new one.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError


@dataclass(frozen=True)
class MnerMiRecord:
    id: str
    tokens: tuple[str, ...]
    images: tuple[str, ...]
    labels: tuple[str, ...]


def load_mner_mi(path: str | Path) -> list[MnerMiRecord]:
    path = Path(path)
    if not path.is_file():
        raise DataFormatError("no such MNER-MI file", file=path)
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                raw = ast.literal_eval(line.strip())
            except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
                raise DataFormatError("not a Python dict literal", file=path, line=lineno) from None
            if not isinstance(raw, dict) or not {"id", "text", "label"} <= set(raw):
                raise DataFormatError("expected a dict with 'id', 'text' and 'label'", file=path, line=lineno)
            if len(raw["text"]) != len(raw["label"]):
                raise DataFormatError(
                    f"{len(raw['text'])} tokens but {len(raw['label'])} labels",
                    file=path,
                    line=lineno,
                    record=str(raw["id"]),
                )
            records.append(
                MnerMiRecord(
                    str(raw["id"]), tuple(raw["text"]), tuple(raw.get("images", ())), tuple(raw["label"])
                )
            )
    return records


def entities(labels: Sequence[str]) -> set[tuple[str, int, int]]:
    """``(type, start, end)`` spans of a BIO sequence, seqeval's default (lenient) reading."""
    spans, current = set(), None
    for i, tag in enumerate([*labels, "O"]):
        prefix, _, etype = tag.partition("-")
        continues = current is not None and prefix == "I" and etype == current[0]
        if current is not None and not continues:
            spans.add((current[0], current[1], i))
            current = None
        if prefix in ("B", "I") and not continues:
            current = (etype, i)
    return spans
