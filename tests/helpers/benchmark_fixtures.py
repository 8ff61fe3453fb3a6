"""Benchmark releases in their exact formats, written small for tests: MATE's and MMRA's parquet
exports (images embedded), gRefCOCO (grefs(unc).json + COCO instances.json + images) and
MNER-MI (a Python dict literal per line, several images per post)."""

from __future__ import annotations

import io
import json

import datasets
from PIL import Image


def png_bytes(color: str, size=(40, 30), fmt="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format=fmt)
    return buffer.getvalue()


def mate_row(i: int, **extra) -> dict:
    scene = {"objects": [{"name": f"Object_{k}", "size": 0.3, "material": "metal"} for k in range(3)]}
    return {
        "id": f"cm_{i}",
        "image": {"bytes": png_bytes(["red", "blue"][i % 2]), "path": f"{i}.png"},
        "scene": json.dumps(scene),
        "question": "What is the name of the red object?",
        "answer": "Object_1",
        "task": "img2data",
        "object_count": 3,
        "pointer_attribute": "color",
        "target_attribute": "name",
        **extra,
    }


MATE_FEATURES = datasets.Features(
    {
        "id": datasets.Value("string"),
        "image": datasets.Image(),
        "scene": datasets.Value("string"),
        "question": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "task": datasets.Value("string"),
        "object_count": datasets.Value("int64"),
        "pointer_attribute": datasets.Value("string"),
        "target_attribute": datasets.Value("string"),
    }
)


def write_mate_export(root, rows, split="cross_modal"):
    """HiTZ/MATE's layout: data/<split>-NNNNN-of-NNNNN.parquet with an Image feature."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    half = len(rows) // 2 or 1
    for shard, part in enumerate((rows[:half], rows[half:])):
        if part:
            ds = datasets.Dataset.from_list(part, features=MATE_FEATURES)
            ds.to_parquet(str(root / "data" / f"{split}-{shard:05d}-of-00002.parquet"))
    return root


MMRA_FEATURES = datasets.Features(
    {
        "Task": datasets.Value("string"),
        "QA_type": datasets.Value("string"),
        "question": datasets.Value("string"),
        "image1": datasets.Image(),
        "image2": datasets.Image(),
        "options": datasets.Value("string"),
        "answer": datasets.Value("string"),
    }
)


def mmra_rows() -> list[dict]:
    return [
        {
            "Task": "Layout",
            "QA_type": "Choice QA",
            "question": "Which layout do the two images share?",
            "image1": {"bytes": png_bytes("red"), "path": None},
            "image2": {"bytes": png_bytes("blue"), "path": None},
            "options": "{'A': 'grid', 'B': 'row', 'C': 'circle', 'D': 'none'}",
            "answer": "B",
        },
        {
            "Task": "SubEvent",
            "QA_type": "True or false QA",
            "question": "Is the second image a sub-event of the first?",
            "image1": {"bytes": png_bytes("white"), "path": None},
            "image2": {"bytes": png_bytes("black"), "path": None},
            "options": "",
            "answer": "No",
        },
    ]


def write_mmra_export(root, rows=None):
    """m-a-p/MMRA's layout: data/train-NNNNN-of-NNNNN.parquet, two Image columns, no id."""
    (root / "data").mkdir(parents=True, exist_ok=True)
    ds = datasets.Dataset.from_list(rows or mmra_rows(), features=MMRA_FEATURES)
    ds.to_parquet(str(root / "data" / "train-00000-of-00001.parquet"))
    return root


def write_grefcoco(root, *, with_images=True):
    """grefs(unc).json + instances.json (COCO) + COCO_train2014 images, as the release ships them."""
    root.mkdir(parents=True)
    images = [
        {"id": 9, "file_name": "COCO_train2014_000000000009.jpg", "width": 64, "height": 48},
        {"id": 25, "file_name": "COCO_train2014_000000000025.jpg", "width": 80, "height": 60},
    ]
    annotations = [
        {"id": 100, "image_id": 9, "bbox": [1, 2, 10, 20], "category_id": 1, "area": 200, "iscrowd": 0},
        {"id": 101, "image_id": 9, "bbox": [30.5, 4, 8, 8], "category_id": 1, "area": 64, "iscrowd": 0},
        {"id": 102, "image_id": 25, "bbox": [0, 0, 5, 5], "category_id": 3, "area": 25, "iscrowd": 0},
    ]
    (root / "instances.json").write_text(
        json.dumps(
            {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}
        )
    )

    def sentence(i, text):
        return {"sent_id": i, "sent": text, "raw": text.capitalize(), "tokens": text.split()}

    refs = [
        {"ref_id": 1, "image_id": 9, "ann_id": [100, 101], "split": "val", "no_target": False,
         "sentences": [sentence(10, "two people"), sentence(11, "both players")]},
        {"ref_id": 2, "image_id": 9, "ann_id": [-1], "split": "val", "no_target": True,
         "sentences": [sentence(12, "the dog on the left")]},
        {"ref_id": 3, "image_id": 25, "ann_id": [102], "split": "testA", "no_target": False,
         "sentences": [sentence(13, "the car")]},
        {"ref_id": 4, "image_id": 25, "ann_id": 102, "split": "val", "no_target": False,
         "sentences": [sentence(14, "car")]},
    ]  # fmt: skip
    (root / "grefs(unc).json").write_text(json.dumps(refs))
    if with_images:
        (root / "images").mkdir()
        for image in images:
            Image.new("RGB", (image["width"], image["height"])).save(root / "images" / image["file_name"])
    return root


def write_mner_mi(root, split="test"):
    """MNER-MI_<split>.txt (Python dict literals, as the release writes them) + images/."""
    (root / "images").mkdir(parents=True)
    posts = [
        {"id": 5302, "text": ["Kobe", "Bryant", "visits", "Paris"], "images": ["5302_0.jpg", "5302_1.jpg"],
         "label": ["B-PER", "I-PER", "O", "B-LOC"], "url": "https://example.org/5302"},
        {"id": 5303, "text": ["Lakers", "win"], "images": ["5303_0.jpg"],
         "label": ["B-ORG", "O"], "url": "https://example.org/5303"},
    ]  # fmt: skip
    (root / f"MNER-MI_{split}.txt").write_text("".join(repr(p) + "\n" for p in posts))
    for post in posts:
        for k, name in enumerate(post["images"]):
            Image.new("RGB", (48 + 8 * k, 40), "gray").save(root / "images" / name)
    return root
