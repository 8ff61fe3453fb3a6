"""MNER-MI (multi-image MNER): its records, and entities read from BIO tags as seqeval does.

One record per line, a Python dict literal as the release writes it —
``{"id": 5302, "text": [tokens], "images": [...], "label": [BIO tags], "url": ...}`` — read with
``ast.literal_eval`` (the official loader's ``eval`` would run arbitrary code). Types PER, LOC,
ORG, MIS. Entities are read from BIO tags as seqeval does by default: an ``I-X`` that does not
continue an ``X`` entity starts a new one.
"""

from __future__ import annotations

import ast
import functools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.text import read_lines


@dataclass(frozen=True)
class MnerMiRecord:
    id: str
    tokens: tuple[str, ...]
    images: tuple[str, ...]
    labels: tuple[str, ...]


def _is_tag(tag: object) -> bool:
    """``O``, or ``B-<type>`` / ``I-<type>``."""
    return isinstance(tag, str) and (tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2))


def _literal(text: str, *, path: Path, line: int) -> object:
    if "\0" in text:
        raise DataFormatError(
            f"not a Python dict literal: a NUL character at column {text.index(chr(0)) + 1}",
            file=path,
            line=line,
        )
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal": the error below says it all
            warnings.simplefilter("ignore", SyntaxWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            return ast.literal_eval(text)
    except SyntaxError as err:
        where = f" at column {err.offset}" if err.offset else ""
        cut = (
            " (the line ends before the literal does: cut short?)"
            if any(s in (err.msg or "") for s in ("never closed", "unterminated", "unexpected EOF"))
            else ""
        )
        problem = f"not a Python dict literal: {err.msg}{where}{cut}"
    except ValueError:  # a name, a call, an operator: anything but a literal
        problem = "not a Python dict literal: it holds something else than literals (a name, a call)"
    except TypeError as err:  # an unhashable key
        problem = f"not a Python dict literal: {' '.join(str(err).split())[:80]}"
    except (RecursionError, MemoryError):
        problem = "not a Python dict literal: nested too deeply to read"
    raise DataFormatError(problem, file=path, line=line)


def load_mner_mi(path: str | Path) -> list[MnerMiRecord]:
    """The records of one ``MNER-MI_<split>.txt``; a line that is not such a record raises
    :class:`DataFormatError` naming the file, the line and (where it has one) the record id."""
    path = Path(path)
    records: list[MnerMiRecord] = []
    seen: dict[str, int] = {}
    for lineno, line in read_lines(path, "MNER-MI"):
        if not line.strip():
            continue
        raw = _literal(line.strip(), path=path, line=lineno)
        if not isinstance(raw, dict) or not {"id", "text", "label"} <= set(raw):
            raise DataFormatError(
                "expected a dict with 'id', 'text' and 'label' ({'id': ..., 'text': [tokens], "
                "'images': [...], 'label': [BIO tags]})",
                file=path,
                line=lineno,
            )
        record_id = str(raw["id"])
        error = functools.partial(DataFormatError, file=path, line=lineno, record=record_id)
        if not isinstance(raw["id"], int | str) or isinstance(raw["id"], bool) or not record_id.strip():
            raise error(f"'id' must be an integer or a non-empty string, not {raw['id']!r:.60}")
        if record_id in seen:
            raise error(f"id repeats the record at line {seen[record_id]}")
        seen[record_id] = lineno
        tokens, labels, images = raw["text"], raw["label"], raw.get("images", [])
        if not isinstance(tokens, list | tuple) or not all(isinstance(t, str) for t in tokens):
            raise error(f"'text' must be a list of token strings, not {tokens!r:.60}")
        if not isinstance(labels, list | tuple) or not all(isinstance(t, str) for t in labels):
            raise error(f"'label' must be a list of BIO tag strings, not {labels!r:.60}")
        if len(tokens) != len(labels):
            raise error(f"{len(tokens)} tokens but {len(labels)} labels")
        bad = next((t for t in labels if not _is_tag(t)), None)
        if bad is not None:
            raise error(f"unknown tag {bad!r:.40} (expected O, B-<type> or I-<type>)")
        if not isinstance(images, list | tuple) or not all(isinstance(i, str) and i for i in images):
            raise error(f"'images' must be a list of image file names, not {images!r:.60}")
        records.append(MnerMiRecord(record_id, tuple(tokens), tuple(images), tuple(labels)))
    if not records:
        raise DataFormatError("no records: the file is empty (expected one dict literal a line)", file=path)
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
