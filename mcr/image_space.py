"""Images as the model sees them: Qwen2.5-VL's resizing, and boxes between pixel spaces.

Qwen2.5-VL (and MiMo-VL, built on it) resize each image so that both sides are multiples of
28 (14-pixel patches merged 2x2) and its area lies within ``[min_pixels, max_pixels]``
(qwen-vl-utils ``smart_resize``), and write boxes in the pixels of that resized image. Gold
boxes are converted into that space once, when rows are built, so rewards compare boxes
without opening an image; scorers convert predictions back to original pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image
from qwen_vl_utils import smart_resize

from mcr.data.schema import Box


@dataclass(frozen=True)
class ImageSpace:
    """The resizing bounds of a run (``model.min_pixels`` / ``model.max_pixels``)."""

    min_pixels: int
    max_pixels: int
    factor: int = 28  # pixels per visual token side: 14-pixel patches, merged 2x2

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of a ``width`` x ``height`` image after resizing."""
        resized_h, resized_w = smart_resize(
            height, width, self.factor, min_pixels=self.min_pixels, max_pixels=self.max_pixels
        )
        return resized_w, resized_h

    def sizes(self, image: str | Path | IO[bytes]) -> tuple[list[int], list[int]]:
        """[width, height] of an image file, and of that image as the model sees it."""
        with Image.open(image) as opened:
            size = opened.size
        return list(size), list(self.input_size(*size))

    def visual_tokens(self, input_size: tuple[int, int] | list[int]) -> int:
        """Tokens an image of ``input_size`` (after resizing) becomes in the prompt."""
        return (input_size[0] // self.factor) * (input_size[1] // self.factor)


def scale_box(box: Box, src: tuple[int, int], dst: tuple[int, int]) -> list[int]:
    """A box from one image size to another, rounded to whole pixels as the model writes them."""
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    x1, y1, x2, y2 = box
    return [round(x1 * sx), round(y1 * sy), round(x2 * sx), round(y2 * sy)]


def unscale_box(box: Box, image_size: tuple[int, int], input_size: tuple[int, int]) -> Box:
    """A box the model wrote (resized pixels) in original-image pixels, unrounded."""
    sx, sy = image_size[0] / input_size[0], image_size[1] / input_size[1]
    x1, y1, x2, y2 = box
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
