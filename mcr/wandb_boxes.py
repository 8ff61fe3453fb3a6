"""Images with their gold and predicted boxes, as W&B box overlays.

A benchmark with boxes gives, per row and completion, ``(box, caption, kind)`` in the original
image's pixels (``box_overlay``); here they become ``wandb.Image`` overlays: the gold boxes as
``ground_truth``, the predicted ones as ``predictions``, coloured by kind.
"""

from __future__ import annotations

from typing import Any

CLASSES = {1: "matched", 2: "wrong", 3: "unshown-but-boxed", 4: "gold"}
_CLASS_OF = {"matched": 1, "wrong": 2, "unshown": 3, "gold": 4}


def box_data(boxes: list[tuple[tuple, str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "position": {"minX": float(x1), "minY": float(y1), "maxX": float(x2), "maxY": float(y2)},
            "domain": "pixel",
            "class_id": _CLASS_OF[kind],
            "box_caption": caption,
        }
        for (x1, y1, x2, y2), caption, kind in boxes
    ]


def boxed_image(wandb: Any, image: Any, overlay: dict[str, list] | None) -> Any:
    """``wandb.Image`` of ``image`` with the overlay's boxes (a plain image without one)."""
    if overlay is None:
        return wandb.Image(image)
    layers = {name: {"box_data": box_data(boxes), "class_labels": CLASSES} for name, boxes in overlay.items()}
    return wandb.Image(image, boxes=layers)
