"""GMNER prediction files for ``mcr score gmner``: entities given explicitly, or raw model output.

A line is ``{"id", "entities": [{"entity", "type", "bbox": [x1, y1, x2, y2] | null}]}`` in
original pixels, or the evaluation's own ``{"id", "prediction": raw text, "image_size",
"box_frame"}``: the frame the model's boxes live in is the resized image's size or [1000, 1000]
(files that give only ``input_size`` are read with it as the frame). A line that breaks the
form is an error naming the file and line; a raw model answer that cannot be read is not an
error but an empty (wrong) prediction.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from mcr.benchmarks.gmner.scorer import prediction_from_text
from mcr.contract.parse import PredEntity, is_box, span_key
from mcr.data.errors import DataFormatError
from mcr.data.predictions import prediction_lines
from mcr.data.schema import GMNER_TYPES


def _size(value: object) -> bool:
    return type(value) is list and len(value) == 2 and all(type(v) is int and 0 < v < 10**6 for v in value)


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
        if box is not None and not is_box(box):
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


def read_gmner_predictions(
    path: str | Path, known: Collection[str], gold: str
) -> dict[str, tuple[PredEntity, ...] | None]:
    """id -> predicted entities in original pixels (None: a raw answer that cannot be read)."""
    path = Path(path)
    predictions: dict[str, tuple[PredEntity, ...] | None] = {}
    for line, record_id, item in prediction_lines(path, known, gold):
        if "entities" in item:
            predictions[record_id] = gmner_entities_from_json(item["entities"], file=path, line=line)
        elif "prediction" in item and "image_size" in item and ("box_frame" in item or "input_size" in item):
            frame = item.get("box_frame", item.get("input_size"))
            if not (_size(item["image_size"]) and _size(frame)):
                raise DataFormatError(
                    "'image_size' and 'box_frame' (or 'input_size') must be [width, height] in whole pixels",
                    file=path,
                    line=line,
                )
            predictions[record_id] = prediction_from_text(
                str(item["prediction"]), tuple(item["image_size"]), tuple(frame)
            )
        else:
            raise DataFormatError(
                "expected 'entities', or 'prediction' with 'image_size' and 'box_frame'",
                file=path,
                line=line,
            )
    return predictions
