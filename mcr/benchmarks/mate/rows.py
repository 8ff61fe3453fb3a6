"""MATE instances -> rows, and the context MATE's reasoning styles render.

A row: the conversational ``prompt`` (image, then the text scene and the question), the
``image`` path, ``gold`` = ``{"answer": ...}``, the input ``text`` (scene and question),
``task`` and both image sizes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mcr.benchmarks.mate.data import MateInstance
from mcr.contract.parse import render_completion
from mcr.image_space import ImageSpace
from mcr.prompts import render_style, user_prompt

TASK = "mate"
VISUAL = ("color", "shape")  # MATE's visual-only attributes; the others are in the text scene


def rows(instances: Sequence[MateInstance], space: ImageSpace) -> list[dict]:
    out = []
    for inst in instances:
        size, input_size = space.sizes(inst.image)
        out.append(
            {
                "id": inst.id,
                "task": TASK,
                "prompt": user_prompt(TASK, scene=inst.scene, question=inst.question),
                "image": inst.image,
                "gold": json.dumps({"answer": inst.answer}),
                "text": f"{inst.scene}\n{inst.question}",
                "image_size": size,
                "input_size": input_size,
            }
        )
    return out


def _position(obj: dict) -> str:
    x, y = obj["3d_coords"][:2]
    return f"x = {x}, y = {y}"


def style_context(inst: MateInstance) -> dict[str, Any]:
    """What a MATE style may use: the question's pointer and target, where each lives, the
    answer, and — when the data carry it (the synthetic set) — the object itself."""
    obj = inst.gold_object
    modality = {True: "image", False: "scene description"}
    pointer_value = obj[inst.pointer_attribute] if obj else "the value the question gives"
    described = None
    if obj:
        described = {
            **obj,
            "position": _position(obj),
            "size_word": "small" if obj["size"] < 0.5 else "large",
        }
    return {
        "question": inst.question,
        "pointer": inst.pointer_attribute.replace("3d_coords", "3D coordinates"),
        "pointer_value": pointer_value,
        "pointer_modality": modality[inst.pointer_attribute in VISUAL],
        "target": inst.target_attribute.replace("3d_coords", "3D coordinates"),
        "target_modality": modality[inst.target_attribute in VISUAL],
        "answer": inst.answer,
        "obj": described,
    }


def sft_example(inst: MateInstance, style: str, space: ImageSpace) -> dict[str, Any]:
    """One SFT pair: the row's prompt, and the answer reasoned in ``style`` as the completion."""
    (row,) = rows([inst], space)
    completion = render_completion(render_style(TASK, style, **style_context(inst)), {"answer": inst.answer})
    return {**row, "style": style, "completion": [{"role": "assistant", "content": completion}]}
