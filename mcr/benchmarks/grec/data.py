"""Loader for gRefCOCO (generalized referring expressions, the GREC benchmark).

A release root holds ``grefs(unc).json`` — a list of references ``{"ref_id", "image_id",
"ann_id": [ids] (``[-1]`` for no target), "split", "sentences": [{"sent_id", "sent", "raw"}],
"no_target"}`` — and ``instances.json`` in COCO format (``images`` with ``file_name``, width
and height; ``annotations`` with ``bbox`` as ``[x, y, w, h]``). Images are COCO train2014,
shipped separately. Every sentence is one sample; its boxes are the reference's annotations as
``(x1, y1, x2, y2)`` in original-image pixels, empty for a no-target expression.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.schema import Box

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
    if not path.is_file():
        raise DataFormatError("no such gRefCOCO file", file=path)
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except ValueError as err:
        raise DataFormatError(f"not JSON: {err}", file=path) from None


def _coco_index(path: Path) -> tuple[dict[int, dict], dict[int, Box]]:
    """(image id -> image entry, annotation id -> xyxy box) from ``instances.json``."""
    data = _read_json(path)
    if not isinstance(data, dict) or not {"images", "annotations"} <= set(data):
        raise DataFormatError("expected COCO instances with 'images' and 'annotations'", file=path)
    images = {}
    for image in data["images"]:
        if not {"id", "file_name", "width", "height"} <= set(image):
            raise DataFormatError(
                "an image entry lacks id, file_name, width or height", file=path, record=str(image.get("id"))
            )
        images[image["id"]] = image
    boxes = {}
    for ann in data["annotations"]:
        bbox = ann.get("bbox")
        if not (isinstance(bbox, list) and len(bbox) == 4 and all(isinstance(v, int | float) for v in bbox)):
            raise DataFormatError(
                f"annotation bbox is not [x, y, w, h]: {bbox!r}", file=path, record=str(ann.get("id"))
            )
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
    samples, seen = [], set()
    for ref in refs:
        if ref.get("split") != split:
            continue
        ref_id = str(ref.get("ref_id"))
        missing = [k for k in ("ref_id", "image_id", "ann_id", "sentences") if k not in ref]
        if missing:
            raise DataFormatError(f"reference lacks {missing}", file=refs_path, record=ref_id)
        ann_ids = ref["ann_id"] if isinstance(ref["ann_id"], list) else [ref["ann_id"]]
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
        image = coco_images.get(ref["image_id"])
        if image is None:
            raise DataFormatError(
                f"image {ref['image_id']} not in {INSTANCES_FILE}", file=refs_path, record=ref_id
            )
        path = image_dir / image["file_name"]
        if require_images and not path.is_file():
            raise DataFormatError(f"image not found: {path}", file=refs_path, record=ref_id)
        for sentence in ref["sentences"]:
            sent_id = str(sentence.get("sent_id"))
            text = sentence.get("sent", sentence.get("raw"))
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
