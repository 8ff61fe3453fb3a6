"""GMNER records -> rows: prompts with images, gold boxes in the model's resized pixel space."""

from __future__ import annotations

import json

import pytest

from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.rows import rows as gmner_rows
from mcr.data.errors import DataFormatError
from mcr.data.rows import rows_dataset
from mcr.image_space import ImageSpace, scale_box, unscale_box

from helpers.gmner_fixtures import OFFICIAL_TRAIN, OFFICIAL_XMLS, write_release

SPACE = ImageSpace(3136, 50176)


@pytest.fixture
def records(tmp_path):
    sizes = {"797970": (500, 375), "O_2371": (640, 480), "16_05_01_127": (300, 300)}
    root = write_release(tmp_path, {"train": OFFICIAL_TRAIN}, OFFICIAL_XMLS, sizes)
    return load_twitter_gmner(root, "train", images=root / "images")


def test_model_input_size_follows_qwen_resizing():
    assert SPACE.input_size(500, 375) == (252, 168)
    assert SPACE.input_size(20, 20) == (56, 56)
    w, h = ImageSpace(3136, 401408).input_size(4000, 3000)
    assert w % 28 == 0 and h % 28 == 0 and w * h <= 401408
    assert ImageSpace(3136, 401408).visual_tokens((w, h)) == (w // 28) * (h // 28) <= 512


def test_scale_box():
    assert scale_box((10, 20, 110, 220), (500, 375), (252, 196)) == [5, 10, 55, 115]
    assert unscale_box((5, 10, 55, 115), (500, 375), (250, 125)) == (10, 30, 110, 345)


def test_rows_carry_prompt_image_and_scaled_gold(records):
    ds = rows_dataset(gmner_rows(records, SPACE))
    assert len(ds) == 3
    assert set(ds.column_names) == {
        "id",
        "task",
        "prompt",
        "image",
        "gold",
        "text",
        "image_size",
        "input_size",
        "box_frame",
    }
    assert set(ds["task"]) == {"gmner"}
    row = ds[0]
    assert row["id"] == "797970" and row["image"].size == (500, 375)
    assert row["image_size"] == [500, 375] and row["input_size"] == row["box_frame"] == [252, 168]
    (message,) = row["prompt"]
    assert message["role"] == "user" and message["content"][0]["type"] == "image"
    assert row["text"] in message["content"][1]["text"]
    assert json.loads(row["gold"]) == [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [[5, 9, 55, 99], [151, 18, 192, 90]]},
        {"entity": "Warriors", "type": "ORG", "bbox": [[76, 45, 146, 134]]},
        {"entity": "Oakland", "type": "LOC", "bbox": []},
    ]
    assert json.loads(ds[2]["gold"]) == [
        {"entity": "Taylor Swift", "type": "PER", "bbox": []},
        {"entity": "#Grammys", "type": "OTHER", "bbox": []},
    ]


def test_record_without_image_is_an_error(tmp_path):
    root = write_release(tmp_path, {"train": "IMGID:1\nObama\tB-PER\n"})
    records = load_twitter_gmner(root, "train")
    with pytest.raises(DataFormatError, match="record '1': record has no image"):
        gmner_rows(records, SPACE)
