"""Reading prediction files for the scorers: one JSON object per line, checked line by line."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.jsonl import read_jsonl


def prediction_lines(path: str | Path, known: Collection[str], gold: str) -> Iterator[tuple[int, str, dict]]:
    """``(line, id, object)`` per prediction line; an id that is not in ``gold`` raises."""
    for line, item in read_jsonl(path, "predictions"):
        record_id = str(item["id"])
        if record_id not in known:
            raise DataFormatError(f"id {record_id!r} is not in {gold}", file=path, line=line)
        yield line, record_id, item


def raw_outputs(path: str | Path, known: Collection[str], gold: str) -> dict[str, str]:
    """Lines ``{"id", "prediction": raw model output}`` as id -> output."""
    outputs = {}
    for line, record_id, item in prediction_lines(path, known, gold):
        if "prediction" not in item:
            raise DataFormatError("expected a 'prediction' (the raw model output)", file=path, line=line)
        outputs[record_id] = str(item["prediction"])
    return outputs
