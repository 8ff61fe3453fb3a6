"""Loader for MATE instances in the public field layout, one JSON object per line.

Fields: ``id``, ``image`` (a path relative to the file's folder, or to the images folder when
one is given), ``scene`` (JSON text), ``question``, ``answer``, ``task``, ``object_count``,
``pointer_attribute``, ``target_attribute``. Bad lines raise ``DataFormatError`` naming the
file and line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.jsonl import read_jsonl

FIELDS = (
    "id",
    "image",
    "scene",
    "question",
    "answer",
    "task",
    "object_count",
    "pointer_attribute",
    "target_attribute",
)
TASKS = ("img2data", "data2img", "img2img", "data2data")


@dataclass(frozen=True)
class MateInstance:
    id: str
    image: str  # resolved path of the image file
    scene: str  # the text scene, as given (JSON text)
    question: str
    answer: str
    task: str
    object_count: int
    pointer_attribute: str
    target_attribute: str
    source: str = ""
    gold_object: dict | None = None  # the object with every attribute, where the data carry it (synthetic)

    @property
    def objects(self) -> list[dict]:
        return json.loads(self.scene)["objects"]


def load_mate(
    path: str | Path, *, images: str | Path | None = None, require_images: bool = True
) -> list[MateInstance]:
    """Read a MATE JSONL file; images resolve against ``images`` or the file's folder."""
    path = Path(path)
    base = Path(images) if images is not None else path.parent
    instances, seen = [], {}
    for lineno, raw in read_jsonl(path, "MATE"):
        missing = [k for k in FIELDS if k not in raw]
        if missing:
            raise DataFormatError(f"missing field(s) {missing}", file=path, line=lineno, record=raw.get("id"))
        record_id = str(raw["id"])
        if record_id in seen:
            raise DataFormatError(
                f"id repeats line {seen[record_id]}", file=path, line=lineno, record=record_id
            )
        seen[record_id] = lineno
        if raw["task"] not in TASKS:
            raise DataFormatError(
                f"unknown task {raw['task']!r}; expected one of {TASKS}",
                file=path,
                line=lineno,
                record=record_id,
            )
        try:
            objects = json.loads(raw["scene"])["objects"]
        except (ValueError, KeyError, TypeError):
            objects = None
        if not isinstance(objects, list):
            raise DataFormatError(
                "scene is not JSON with an 'objects' list", file=path, line=lineno, record=record_id
            )
        image = base / raw["image"] if not Path(raw["image"]).is_absolute() else Path(raw["image"])
        if require_images and not image.is_file():
            raise DataFormatError(f"image not found: {image}", file=path, line=lineno, record=record_id)
        instances.append(
            MateInstance(
                id=record_id,
                image=str(image),
                scene=raw["scene"],
                question=raw["question"],
                answer=str(raw["answer"]),
                task=raw["task"],
                object_count=int(raw["object_count"]),
                pointer_attribute=raw["pointer_attribute"],
                target_attribute=raw["target_attribute"],
                source=f"{path}:{lineno}",
                gold_object=raw.get("gold_object"),
            )
        )
    return instances
