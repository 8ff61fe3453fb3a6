"""Images as the model sees them: resizing, and boxes in the model's frame and back.

Each family resizes an image through its ``resize`` hook (``mcr.families``); the Qwen families
all use qwen-vl-utils ``smart_resize``: both sides multiples of the family's factor (28: 14-pixel
patches merged 2x2; 32 for Qwen3-VL and Qwen3.5), the area within ``[min_pixels, max_pixels]``.
Each ``factor`` x ``factor`` square of the resized image becomes one visual token. A box the
model writes lives in its family's *frame* (``mcr.families``): the pixels of that resized image
(Qwen2.5-VL), or 0-1000 of the image's width and height (Qwen2-VL, Qwen3-VL). Gold boxes are
converted into the frame once, when rows are built, so rewards compare boxes without opening an
image; scorers convert predictions back to original pixels through the row's ``box_frame``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image

from mcr.data.schema import Box
from mcr.families import NORM_1000, PIXELS, Family, Resize, SmartResize, box_wording


@dataclass(frozen=True)
class ImageSpace:
    """The resizing bounds of a run (``model.min_pixels`` / ``model.max_pixels``), the family's
    resize factor, box convention and resize hook (``ImageSpace.of``)."""

    min_pixels: int
    max_pixels: int
    factor: int = 28  # pixels per visual token side: 14-pixel patches, merged 2x2
    box_convention: str = PIXELS
    # (height, width, min_pixels, max_pixels) -> (height, width); left out, smart_resize at
    # ``factor`` (set on creation)
    resize: Resize | None = None

    def __post_init__(self) -> None:
        if self.resize is None:
            object.__setattr__(self, "resize", SmartResize(self.factor))

    @classmethod
    def of(
        cls, family: Family, min_pixels: int, max_pixels: int, box_convention: str | None = None
    ) -> ImageSpace:
        """The family's space: its factor, resize hook and box convention (or ``box_convention``)."""
        return cls(
            min_pixels,
            max_pixels,
            family.resize_factor,
            box_convention or family.box_convention,
            family.resize,
        )

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) of a ``width`` x ``height`` image after resizing."""
        resized_h, resized_w = self.resize(height, width, self.min_pixels, self.max_pixels)
        return resized_w, resized_h

    def sizes(self, image: str | Path | IO[bytes]) -> tuple[list[int], list[int]]:
        """[width, height] of an image file, and of that image as the model sees it."""
        with Image.open(image) as opened:
            size = opened.size
        return list(size), list(self.input_size(*size))

    def visual_tokens(self, input_size: Sequence[int]) -> int:
        """Tokens an image of ``input_size`` (width, height, after resizing) becomes in the prompt."""
        return (input_size[0] // self.factor) * (input_size[1] // self.factor)

    @property
    def max_visual_tokens(self) -> int:
        """The most tokens one image can become under ``max_pixels``."""
        return self.max_pixels // self.factor**2

    def box_frame(self, input_size: tuple[int, int] | list[int]) -> list[int]:
        """[width, height] of the frame the model's boxes live in, for an image it sees at ``input_size``."""
        return [1000, 1000] if self.box_convention == NORM_1000 else list(input_size)

    @property
    def box_wording(self) -> str:
        """The box format as prompts state it."""
        return box_wording(self.box_convention)


def scale_box(box: Box, src: tuple[int, int], dst: tuple[int, int]) -> list[int]:
    """A box from one image size to another, rounded to whole pixels as the model writes them."""
    sx, sy = dst[0] / src[0], dst[1] / src[1]
    x1, y1, x2, y2 = box
    return [round(x1 * sx), round(y1 * sy), round(x2 * sx), round(y2 * sy)]


def unscale_box(box: Box, image_size: tuple[int, int], frame: tuple[int, int]) -> Box:
    """A box the model wrote in its ``frame`` (see ``ImageSpace.box_frame``) in original-image
    pixels, unrounded."""
    sx, sy = image_size[0] / frame[0], image_size[1] / frame[1]
    x1, y1, x2, y2 = box
    return (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
