"""GMNER records -> the rows trainers and evaluation read, and MRSI's SFT examples.

A row: the conversational ``prompt`` (image, then the instruction), the ``image`` path, the
``gold`` column ``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]`` with boxes in the
model family's frame (converted once, here), the post's ``text`` (for the visual-shortcut
penalty), ``task``, both image sizes and the ``box_frame`` (for scoring in original pixels).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from mcr.benchmarks.gmner.looks import drawn_objects, region_colours, shapes_in_colour
from mcr.benchmarks.gmner.synthetic import SHAPE_OF_TYPE, mentioned_colour
from mcr.contract.parse import render_completion
from mcr.data.errors import DataFormatError
from mcr.data.schema import Record
from mcr.image_space import ImageSpace, scale_box
from mcr.prompts import render_style, style_reads, user_prompt

logger = logging.getLogger(__name__)
TASK = "gmner"


def gold_answer(record: Record, box_space: tuple[int, int], frame: list[int]) -> str:
    """The ``gold`` column, boxes in the model's ``frame``."""
    return json.dumps(
        [
            {
                "entity": e.text,
                "type": e.type,
                "bbox": [scale_box(b, box_space, frame) for b in e.boxes],
            }
            for e in record.entities
        ],
        ensure_ascii=False,
    )


def image_size(record: Record) -> tuple[int, int]:
    """(width, height) of the record's image file."""
    from PIL import Image

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


def model_space(
    record: Record, space: ImageSpace
) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """(image size, the size its boxes refer to, the size the model sees) for one record."""
    size = image_size(record)
    box_space = tuple(record.image_size) if record.image_size is not None else size
    return size, box_space, space.input_size(*size)


def rows(records: Iterable[Record], space: ImageSpace) -> list[dict]:
    out = []
    for record in records:
        size, box_space, input_size = model_space(record, space)
        frame = space.box_frame(input_size)
        out.append(
            {
                "id": record.id,
                "task": TASK,
                "prompt": user_prompt(TASK, text=record.text, box_format=space.box_wording),
                "image": record.images[0],
                "gold": gold_answer(record, box_space, frame),
                "text": record.text,
                "image_size": list(size),
                "input_size": list(input_size),
                "box_frame": frame,
            }
        )
    return out


def style_context(
    record: Record,
    box_space: tuple[int, int],
    frame: list[int],
    *,
    looks: bool = True,
    drawn: bool = False,
) -> dict[str, Any]:
    """What a GMNER style may use: the post, and per entity its span, type and — only when the
    image shows it — its box in the model's frame (the first gold box) and, with ``looks``,
    ``look``: the colour the image shows there (``looks.region_colours``; None when not shown).
    For the synthetic world also ``colour``, the colour the post mentions with the entity (None
    elsewhere), ``shape``, the shape that world draws its type as, and, with ``drawn``,
    ``drawn_in_colour``: the shapes the image draws in that colour, read from its pixels
    (``looks.drawn_objects``; empty when it draws none, None for an entity with no colour)."""
    entities = []
    for e in record.entities:
        box = scale_box(e.boxes[0], box_space, frame) if e.boxes else None
        entities.append(
            {
                "text": e.text,
                "type": e.type,
                "shown": box is not None,
                "box": box,
                "colour": mentioned_colour(record.text, e.text, e.type),
                "shape": SHAPE_OF_TYPE.get(e.type),
            }
        )
    if looks or drawn:
        from PIL import Image

        with Image.open(record.images[0]) as image:
            image.load()
    if looks:
        shown = [e.boxes[0] for e in record.entities if e.boxes]
        colours = iter(region_colours(image, shown, box_space))
        for entity in entities:
            entity["look"] = next(colours) if entity["shown"] else None
    if drawn:
        objects = drawn_objects(image)
        for entity in entities:
            colour = entity["colour"]
            entity["drawn_in_colour"] = shapes_in_colour(objects, colour) if colour else None
    return {"text": record.text, "entities": entities}


def sft_example(record: Record, style: str, space: ImageSpace) -> dict[str, Any]:
    """One SFT pair: the row's prompt, and the gold rendered in ``style`` as the completion."""
    (row,) = rows([record], space)
    _, box_space, input_size = model_space(record, space)
    # the image is read only for a style that names what it shows
    reads = style_reads(TASK, style)
    context = style_context(
        record,
        box_space,
        space.box_frame(input_size),
        looks="look" in reads,
        drawn="drawn_in_colour" in reads,
    )
    answer = [{"entity": e["text"], "type": e["type"], "bbox": e["box"]} for e in context["entities"]]
    completion = render_completion(render_style(TASK, style, **context), answer)
    return {**row, "style": style, "completion": [{"role": "assistant", "content": completion}]}
