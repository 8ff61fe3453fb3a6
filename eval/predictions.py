"""Reading prediction files for the scorers: one JSON object per line, checked line by line."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterator
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.jsonl import read_jsonl
from mcr.rewards.parse import GMNER_TYPES, PredEntity, span_key


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


def gmner_entities_from_json(items: object, *, file: Path, line: int) -> tuple[PredEntity, ...]:
    """Entities given explicitly: ``[{"entity", "type", "bbox": [x1, y1, x2, y2] | null}]``."""
    if not isinstance(items, list):
        raise DataFormatError("'entities' must be a list", file=file, line=line)
    out = []
    for k, item in enumerate(items):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("entity"), str)
            or item.get("type") not in GMNER_TYPES
        ):
            raise DataFormatError(
                f"entity #{k} needs a string 'entity' and a 'type' in {sorted(GMNER_TYPES)}",
                file=file,
                line=line,
            )
        box = item.get("bbox")
        if box is not None and not (
            isinstance(box, list)
            and len(box) == 4
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in box)
        ):
            raise DataFormatError(
                f"entity #{k}: 'bbox' must be null or 4 finite numbers", file=file, line=line
            )
        out.append(
            PredEntity(
                item["entity"],
                item["type"],
                tuple(map(float, box)) if box else None,
                span_key(item["entity"]),
            )
        )
    return tuple(out)
