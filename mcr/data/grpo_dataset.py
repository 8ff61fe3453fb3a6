"""Records -> the rows GRPOTrainer reads: a conversational prompt, the image, the gold answer.

Gold boxes are converted once, here, from original-image pixels to the pixel space of the
image as the model sees it after Qwen2.5-VL resizing (qwen-vl-utils ``smart_resize``), so
reward functions compare boxes without ever opening an image.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

import datasets
from PIL import Image
from qwen_vl_utils import smart_resize

from mcr.data.errors import DataFormatError
from mcr.data.schema import Box, Record
from mcr.prompts import render_prompt

logger = logging.getLogger(__name__)

# Qwen2.5-VL: 14-pixel patches merged 2x2, so resized sides are multiples of 28.
RESIZE_FACTOR = 28


def model_input_size(width: int, height: int, *, min_pixels: int, max_pixels: int) -> tuple[int, int]:
    """(width, height) of an image after Qwen2.5-VL resizing."""
    resized_h, resized_w = smart_resize(
        height, width, RESIZE_FACTOR, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return resized_w, resized_h


def image_sizes(path: str, *, min_pixels: int, max_pixels: int) -> tuple[list[int], list[int]]:
    """[width, height] of an image file and of that image as the model sees it."""
    with Image.open(path) as image:
        size = image.size
    return list(size), list(model_input_size(*size, min_pixels=min_pixels, max_pixels=max_pixels))


def scale_box(box: Box, src: tuple[int, int], dst: tuple[int, int]) -> list[int]:
    """A box from one image size to another, rounded to whole pixels as the model writes them."""
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    x1, y1, x2, y2 = box
    return [round(x1 * sx), round(y1 * sy), round(x2 * sx), round(y2 * sy)]


def gold_answer(record: Record, image_size: tuple[int, int], input_size: tuple[int, int]) -> str:
    """The ``gold`` column: ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]`` in model pixels."""
    return json.dumps(
        [
            {
                "entity": e.text,
                "type": e.type,
                "bbox": [scale_box(b, image_size, input_size) for b in e.boxes],
            }
            for e in record.entities
        ],
        ensure_ascii=False,
    )


def image_size(record: Record) -> tuple[int, int]:
    """(width, height) of the record's image file."""
    if not record.images:
        raise DataFormatError("record has no image; pass the images folder", record=record.id)
    try:
        with Image.open(record.images[0]) as image:
            size = image.size
    except OSError as err:
        raise DataFormatError(f"unreadable image {record.images[0]}: {err}", record=record.id) from None
    if record.image_size is not None and tuple(record.image_size) != size:
        logger.warning(
            "record %r: xml says %s but the image is %s; boxes are scaled from the xml size",
            record.id,
            record.image_size,
            size,
        )
    return size


def model_space(record: Record, *, min_pixels: int, max_pixels: int) -> tuple[tuple[int, int], tuple, tuple]:
    """(image size, the size its boxes refer to, the size the model sees) for one record."""
    size = image_size(record)
    box_space = tuple(record.image_size) if record.image_size is not None else size
    return size, box_space, model_input_size(*size, min_pixels=min_pixels, max_pixels=max_pixels)


def user_prompt(task: str, *, n_images: int = 1, **fields: object) -> list[dict]:
    """The conversational prompt: the image(s), then the task's instruction rendered with ``fields``."""
    return [
        {
            "role": "user",
            "content": [
                *({"type": "image", "text": None} for _ in range(n_images)),
                {"type": "text", "text": render_prompt(task, n_images=n_images, **fields)},
            ],
        }
    ]


def grpo_rows(records: Iterable[Record], *, task: str, min_pixels: int, max_pixels: int) -> Iterable[dict]:
    for record in records:
        size, box_space, input_size = model_space(record, min_pixels=min_pixels, max_pixels=max_pixels)
        yield {
            "id": record.id,
            "prompt": user_prompt(task, text=record.text),
            "image": record.images[0],
            "gold": gold_answer(record, box_space, input_size),
            "text": record.text,
            "image_size": list(size),
            "input_size": list(input_size),
        }


def rows_dataset(rows: list[dict]) -> datasets.Dataset:
    """Rows whose ``image`` is a path, as a ``datasets.Dataset``; images load only when a batch needs them."""
    return datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())


def build_grpo_dataset(
    records: list[Record], *, task: str, min_pixels: int, max_pixels: int
) -> datasets.Dataset:
    """The GRPO rows of GMNER records as a ``datasets.Dataset``."""
    return rows_dataset(list(grpo_rows(records, task=task, min_pixels=min_pixels, max_pixels=max_pixels)))
