"""Loader for gRefCOCO (generalized referring expressions, the GREC benchmark).

A release root holds ``grefs(unc).json`` — a list of references ``{"ref_id", "image_id",
"ann_id": [ids] (``[-1]`` for no target), "split", "sentences": [{"sent_id", "sent", "raw"}],
"no_target"}`` — and ``instances.json`` in COCO format (``images`` with ``file_name``, width
and height; ``annotations`` with ``bbox`` as ``[x, y, w, h]``). Images are COCO train2014,
shipped separately. Every sentence is one sample; its boxes are the reference's annotations as
``(x1, y1, x2, y2)`` in original-image pixels, empty for a no-target expression.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.jsonl import parse_json
from mcr.data.schema import Box
from mcr.data.text import read_text

REFS_FILE = "grefs(unc).json"
INSTANCES_FILE = "instances.json"
SPLITS = ("train", "val", "testA", "testB")


@dataclass(frozen=True)
class GrecSample:
    id: str  # the sentence id, unique over the release
    ref_id: str
    split: str
    expression: str
    image: str  # resolved path of the image file
    image_size: tuple[int, int]
    boxes: tuple[Box, ...]  # empty: the expression refers to nothing in the image


def _read_json(path: Path) -> object:
    text = read_text(path, "gRefCOCO")
    if not text.strip():
        raise DataFormatError("the file is empty; expected a JSON document", file=path, line=1)
    return parse_json(text, file=path)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_id(value: object) -> bool:
    """A COCO / gRefCOCO id: an integer (or a string, as some exports write them)."""
    return isinstance(value, int | str) and not isinstance(value, bool)


def _list_of_dicts(data: dict, key: str, path: Path) -> list[dict]:
    entries = data[key]
    if not isinstance(entries, list):
        raise DataFormatError(f"'{key}' must be a list, not {type(entries).__name__}", file=path)
    for k, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise DataFormatError(f"'{key}' entry #{k} is not an object: {entry!r:.60}", file=path)
    return entries


def _coco_index(path: Path) -> tuple[dict[int | str, dict], dict[int | str, Box]]:
    """(image id -> image entry, annotation id -> xyxy box) from ``instances.json``."""
    data = _read_json(path)
    if not isinstance(data, dict) or not {"images", "annotations"} <= set(data):
        raise DataFormatError("expected COCO instances with 'images' and 'annotations'", file=path)
    images = {}
    for k, image in enumerate(_list_of_dicts(data, "images", path)):
        record = f"image {image.get('id')!r:.40} (#{k} of 'images')"
        if not {"id", "file_name", "width", "height"} <= set(image):
            raise DataFormatError(
                "an image entry lacks id, file_name, width or height", file=path, record=record
            )
        if not _is_id(image["id"]):
            raise DataFormatError(f"image id {image['id']!r:.40} is not an integer", file=path, record=record)
        if not isinstance(image["file_name"], str) or not image["file_name"]:
            raise DataFormatError("'file_name' is not a file name", file=path, record=record)
        size = (image["width"], image["height"])
        if not all(_is_number(v) and v >= 1 for v in size):
            raise DataFormatError(
                f"width and height must be positive numbers of pixels, not {list(size)!r:.60}",
                file=path,
                record=record,
            )
        if image["id"] in images:
            raise DataFormatError("image id repeats", file=path, record=record)
        images[image["id"]] = image
    boxes = {}
    for k, ann in enumerate(_list_of_dicts(data, "annotations", path)):
        record = f"annotation {ann.get('id')!r:.40} (#{k} of 'annotations')"
        if not _is_id(ann.get("id")):
            raise DataFormatError(
                f"annotation id {ann.get('id')!r:.40} is not an integer", file=path, record=record
            )
        bbox = ann.get("bbox")
        if (
            not (isinstance(bbox, list) and len(bbox) == 4 and all(map(_is_number, bbox)))
            or min(bbox[2:]) < 0
        ):
            raise DataFormatError(
                f"annotation bbox is not [x, y, w, h] (4 finite numbers, w and h not negative): {bbox!r:.80}",
                file=path,
                record=record,
            )
        if ann["id"] in boxes:
            raise DataFormatError("annotation id repeats", file=path, record=record)
        x, y, w, h = (float(v) for v in bbox)
        boxes[ann["id"]] = (x, y, x + w, y + h)
    return images, boxes


def load_grefcoco(
    root: str | Path, split: str, *, images: str | Path | None = None, require_images: bool = True
) -> list[GrecSample]:
    """Every expression of ``split`` (train, val, testA, testB); images resolve against ``images``
    (default ``<root>/images``, the folder holding ``COCO_train2014_*.jpg``)."""
    root = Path(root)
    if split not in SPLITS:
        raise DataFormatError(f"unknown split {split!r}; gRefCOCO has {SPLITS}", file=root)
    image_dir = Path(images) if images is not None else root / "images"
    refs_path = root / REFS_FILE
    coco_images, coco_boxes = _coco_index(root / INSTANCES_FILE)
    refs = _read_json(refs_path)
    if not isinstance(refs, list):
        raise DataFormatError("expected a list of references", file=refs_path)
    if not refs:
        raise DataFormatError("the list of references is empty", file=refs_path)
    samples, seen = [], set()
    for k, ref in enumerate(refs):
        if not isinstance(ref, dict):
            raise DataFormatError(f"reference #{k} is not an object: {ref!r:.60}", file=refs_path)
        if ref.get("split") != split:
            continue
        ref_id = str(ref.get("ref_id"))
        missing = [k for k in ("ref_id", "image_id", "ann_id", "sentences") if k not in ref]
        if missing:
            raise DataFormatError(f"reference lacks {missing}", file=refs_path, record=ref_id)
        ann_ids = ref["ann_id"] if isinstance(ref["ann_id"], list) else [ref["ann_id"]]
        if not all(map(_is_id, ann_ids)):
            raise DataFormatError(
                "ann_id must be an annotation id or a list of them ([-1]: no target), "
                f"not {ref['ann_id']!r:.60}",
                file=refs_path,
                record=ref_id,
            )
        targets = [a for a in ann_ids if a != -1]
        if ref.get("no_target") and targets:
            raise DataFormatError(
                f"no_target reference names annotations {targets}", file=refs_path, record=ref_id
            )
        unknown = [a for a in targets if a not in coco_boxes]
        if unknown:
            raise DataFormatError(
                f"annotation(s) {unknown} not in {INSTANCES_FILE}", file=refs_path, record=ref_id
            )
        image = coco_images.get(ref["image_id"]) if _is_id(ref["image_id"]) else None
        if image is None:
            raise DataFormatError(
                f"image {ref['image_id']!r:.40} not in {INSTANCES_FILE}", file=refs_path, record=ref_id
            )
        path = image_dir / image["file_name"]
        if require_images and not path.is_file():
            raise DataFormatError(f"image not found: {path}", file=refs_path, record=ref_id)
        sentences = ref["sentences"]
        if not isinstance(sentences, list):
            raise DataFormatError(
                f"sentences must be a list of {{'sent_id', 'sent'}} objects, not {sentences!r:.60}",
                file=refs_path,
                record=ref_id,
            )
        for sentence in sentences:
            if not isinstance(sentence, dict):
                raise DataFormatError(
                    f"a sentence is not an object: {sentence!r:.60}", file=refs_path, record=ref_id
                )
            sent_id = str(sentence.get("sent_id"))
            text = sentence.get("sent", sentence.get("raw"))
            if not _is_id(sentence.get("sent_id")):
                raise DataFormatError(
                    f"sentence {sent_id:.40} has no id ('sent_id')", file=refs_path, record=ref_id
                )
            if not isinstance(text, str):
                raise DataFormatError(f"sentence {sent_id} has no text", file=refs_path, record=ref_id)
            if sent_id in seen:
                raise DataFormatError(f"sentence id {sent_id} repeats", file=refs_path, record=ref_id)
            seen.add(sent_id)
            samples.append(
                GrecSample(
                    id=sent_id,
                    ref_id=ref_id,
                    split=split,
                    expression=text,
                    image=str(path),
                    image_size=(int(image["width"]), int(image["height"])),
                    boxes=tuple(coco_boxes[a] for a in targets),
                )
            )
    return samples


def grefcoco_stats(samples: list[GrecSample]) -> dict[str, object]:
    targets = Counter(min(len(s.boxes), 2) for s in samples)
    return {
        "expressions": len(samples),
        "references": len({s.ref_id for s in samples}),
        "images": len({s.image for s in samples}),
        "no_target": targets[0],
        "single_target": targets[1],
        "multi_target": targets[2],
        "boxes": sum(len(s.boxes) for s in samples),
    }
