"""Loader for MATE instances in the public field layout.

Two layouts: JSONL (one instance a line; ``image`` a path relative to the file's folder, or to
the images folder when one is given) and the Hugging Face parquet export with the images
embedded. Fields: ``id``, ``image``, ``scene`` (JSON text), ``question``, ``answer``, ``task``,
``object_count``, ``pointer_attribute``, ``target_attribute``. Bad records raise
``DataFormatError`` naming the file and line (or parquet row).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.hf_export import find_parquet, materialize_image, read_parquet_rows
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


def _instance(
    raw: dict, *, file: Path, line: int | None, where: str, image: str, require_images: bool, seen: dict
) -> MateInstance:
    """One checked instance; errors name ``file`` and ``line`` (JSONL) or the row (parquet)."""
    record_id = str(raw.get("id"))

    def error(problem: str) -> DataFormatError:
        return DataFormatError(
            problem, file=file, line=line, record=record_id if line else f"{record_id} ({where})"
        )

    missing = [k for k in FIELDS if k not in raw]
    if missing:
        raise error(f"missing field(s) {missing}")
    if not isinstance(raw["id"], str | int) or isinstance(raw["id"], bool) or not record_id.strip():
        raise error(f"'id' must be a non-empty string or an integer, not {raw['id']!r:.60}")
    if record_id in seen:
        raise error(f"id repeats {seen[record_id]}")
    seen[record_id] = f"line {line}" if line else where
    text_fields = ("scene", "question", "task", "pointer_attribute", "target_attribute")
    for key in text_fields:
        if not isinstance(raw[key], str):
            raise error(f"{key!r} must be a string, not {type(raw[key]).__name__}: {raw[key]!r:.60}")
    if not isinstance(raw["answer"], str | int | float) or isinstance(raw["answer"], bool):
        raise error(f"'answer' must be a string (or a number), not {raw['answer']!r:.60}")
    count = raw["object_count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise error(f"'object_count' must be a positive integer, not {count!r:.60}")
    if raw["task"] not in TASKS:
        raise error(f"unknown task {raw['task']!r}; expected one of {TASKS}")
    try:
        objects = json.loads(raw["scene"])["objects"]
    except (ValueError, KeyError, TypeError, RecursionError):
        objects = None
    if not isinstance(objects, list) or not all(isinstance(o, dict) for o in objects):
        raise error("scene is not JSON with an 'objects' list of objects (expected {\"objects\": [{...}]})")
    gold_object = raw.get("gold_object")
    if gold_object is not None and not isinstance(gold_object, dict):
        raise error(f"'gold_object' must be an object, not {gold_object!r:.60}")
    if not image and line:
        raise error(f"'image' must be the image's path, not {raw['image']!r:.60}")
    if require_images and not Path(image).is_file():
        raise error(f"image not found: {image}")
    return MateInstance(
        id=record_id,
        image=image,
        scene=raw["scene"],
        question=raw["question"],
        answer=str(raw["answer"]),
        task=raw["task"],
        object_count=count,
        pointer_attribute=raw["pointer_attribute"],
        target_attribute=raw["target_attribute"],
        source=f"{file}:{line}" if line else f"{file} {where}",
        gold_object=gold_object,
    )


def load_mate(
    path: str | Path, *, images: str | Path | None = None, require_images: bool = True
) -> list[MateInstance]:
    """Read a MATE JSONL file; images resolve against ``images`` or the file's folder."""
    path = Path(path)
    base = Path(images) if images is not None else path.parent
    seen: dict[str, str] = {}
    rows = read_jsonl(path, "MATE")
    if not rows:
        raise DataFormatError("no instances: the file is empty (expected one JSON object a line)", file=path)
    return [
        _instance(
            raw,
            file=path,
            line=lineno,
            where=f"line {lineno}",
            image=str(base / raw["image"]) if isinstance(raw.get("image"), str) and raw["image"] else "",
            require_images=require_images,
            seen=seen,
        )
        for lineno, raw in rows
    ]


def load_mate_parquet(
    files: list[Path], *, images: str | Path, extract_images: bool = True
) -> list[MateInstance]:
    """Read MATE's Hugging Face export (HiTZ/MATE: ``data/cross_modal-*.parquet``,
    ``data/unimodal-*.parquet``). Embedded images are written to ``images/<id>.<ext>`` once;
    ``extract_images=False`` reads the annotations alone (for statistics)."""
    seen: dict[str, str] = {}
    instances = []
    columns = [f for f in FIELDS if f != "image"] + (["image"] if extract_images else [])
    for file, index, raw in read_parquet_rows(files, columns=columns, what="MATE"):
        where = f"row {index}"
        image = ""
        if extract_images:
            image = materialize_image(
                raw["image"], images_dir=Path(images), name=str(raw["id"]), source=str(file), where=where
            )
        else:
            raw["image"] = ""
        instances.append(
            _instance(
                raw, file=file, line=None, where=where, image=image, require_images=extract_images, seen=seen
            )
        )
    if not instances:
        raise DataFormatError(
            "no instances: the parquet files hold no rows",
            file=files[0] if len(files) == 1 else files[0].parent,
        )
    return instances


def load_mate_split(
    root: str | Path, split: str, *, images: str | Path | None = None, require_images: bool = True
) -> list[MateInstance]:
    """A split of MATE from either layout: ``<root>/<split>.jsonl`` (the JSONL form, also what
    ``mcr data synth mate`` writes) or the parquet export (``<root>/data/<split>-*.parquet``, e.g.
    split ``cross_modal``), whose images go to ``images`` (default ``<root>/images/<split>``)."""
    root = Path(root)
    jsonl = root if root.suffix == ".jsonl" else root / f"{split}.jsonl"
    if jsonl.is_file():
        return load_mate(jsonl, images=images, require_images=require_images)
    files = find_parquet(root, split)
    if not files:
        raise DataFormatError(
            f"no MATE split {split!r}: expected {jsonl.name} or data/{split}-*.parquet", file=root
        )
    base = root.parent if root.is_file() else root
    return load_mate_parquet(
        files,
        images=images if images is not None else base / "images" / split,
        extract_images=require_images,
    )
