"""JSON Lines files, read line by line with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.text import read_lines


def parse_json(text: str, *, file: str | Path, line: int | None = None) -> object:
    """``json.loads(text)``; text that is not JSON raises :class:`DataFormatError` naming the file
    and the line (``line`` for one line of JSON Lines, else the line json reports) and saying
    where json stopped, and whether the text ends before its value does (a file cut short)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        if not text.strip():
            problem = "empty, expected a JSON value"
        elif err.pos >= len(text.rstrip()) or err.msg.startswith("Unterminated string"):
            problem = f"not JSON: the text ends before the JSON value does (cut short?): {err}"
        else:
            problem = f"not JSON: {err}"
        raise DataFormatError(problem, file=file, line=line if line is not None else err.lineno) from None
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise DataFormatError(f"not JSON: {err}", file=file, line=line) from None
    except RecursionError:
        raise DataFormatError("JSON nested too deeply to read", file=file, line=line) from None


def read_jsonl(path: str | Path, what: str = "JSON Lines") -> list[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line; a line that is not a JSON object with an
    ``id`` raises, naming the file and line (and, for bytes that are not UTF-8, the byte)."""
    path = Path(path)
    out = []
    for lineno, line in read_lines(path, what):
        if not line.strip():
            continue
        value = parse_json(line, file=path, line=lineno)
        if not isinstance(value, dict) or "id" not in value:
            raise DataFormatError("expected a JSON object with an 'id'", file=path, line=lineno)
        out.append((lineno, value))
    return out
