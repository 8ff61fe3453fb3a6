"""JSON Lines files, read line by line with errors that name the file and line."""

from __future__ import annotations

import json
from pathlib import Path

from mcr.data.errors import DataFormatError


def read_jsonl(path: str | Path, what: str = "JSON Lines") -> list[tuple[int, dict]]:
    """``(line number, object)`` for each non-blank line; a line that is not a JSON object with an
    ``id`` raises, naming the file and line."""
    path = Path(path)
    if not path.is_file():
        raise DataFormatError(f"no such {what} file", file=path)
    out = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFormatError(
                    f"not UTF-8 text: {err.reason} at byte {err.start}", file=path, line=lineno
                ) from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError as err:
                raise DataFormatError(f"not JSON: {err}", file=path, line=lineno) from None
            except RecursionError:
                raise DataFormatError("JSON nested too deeply to read", file=path, line=lineno) from None
            if not isinstance(value, dict) or "id" not in value:
                raise DataFormatError("expected a JSON object with an 'id'", file=path, line=lineno)
            out.append((lineno, value))
    return out
