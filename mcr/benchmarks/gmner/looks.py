"""What the image shows at a box, in words: the colour of the region, for MRSI's styles.

A style that names the visual evidence ("the purple object at [x1, y1, x2, y2]") gives the model
a step between the text ("... painted purple") and the box: reading the colour the text
mentions, then finding it in the image. The colour is read from the pixels, so it needs no
annotation beyond the box: each pixel takes the nearest name of ``PALETTE``, the image's most
common name is its background, and the region's colour is its most common other name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from mcr.benchmarks.gmner.synthetic import COLORS, SHAPES

# The synthetic data's colours exactly, and the common names an everyday photo needs besides.
PALETTE: dict[str, tuple[int, int, int]] = {
    **COLORS,
    "white": (245, 245, 245),
    "gray": (128, 128, 128),
    "pink": (240, 140, 180),
    "brown": (120, 75, 35),
}
_NAMES = list(PALETTE)
_RGB = np.array([PALETTE[n] for n in _NAMES], dtype=np.float32)
_SIDE = 160  # the image is read at most this many pixels wide or high


def _names(pixels: np.ndarray) -> np.ndarray:
    """The palette index nearest to each RGB pixel of an (..., 3) array."""
    distances = ((pixels[..., None, :].astype(np.float32) - _RGB) ** 2).sum(-1)
    return distances.argmin(-1)


def region_colours(
    image: Image.Image, boxes: Sequence[Sequence[float]], box_space: tuple[int, int]
) -> list[str | None]:
    """The colour name of each box (``[x1, y1, x2, y2]`` in an image of size ``box_space``) in
    ``image``, apart from the image's background; None for a box with no pixel inside. The
    image is read once for all its boxes."""
    rgb = image.convert("RGB")
    scale = min(1.0, _SIDE / max(rgb.size))
    small = rgb.resize((max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.NEAREST)
    names = _names(np.asarray(small))
    background = Counter(names.ravel().tolist()).most_common(1)[0][0]
    fx, fy = small.width / box_space[0], small.height / box_space[1]
    colours = []
    for box in boxes:
        x1, y1 = max(0, int(box[0] * fx)), max(0, int(box[1] * fy))
        x2, y2 = min(small.width, int(np.ceil(box[2] * fx))), min(small.height, int(np.ceil(box[3] * fy)))
        if x2 <= x1 or y2 <= y1:
            colours.append(None)
            continue
        inside = Counter(names[y1:y2, x1:x2].ravel().tolist())
        others = [(count, i) for i, count in inside.items() if i != background]
        colours.append(_NAMES[max(others)[1] if others else background])
    return colours


def region_colour(image: Image.Image, box: Sequence[float], box_space: tuple[int, int]) -> str | None:
    """The colour name of one box (see ``region_colours``)."""
    return region_colours(image, [box], box_space)[0]


@dataclass(frozen=True)
class DrawnObject:
    """One object an image draws: its colour and shape names and its box in the image's pixels."""

    colour: str
    shape: str
    box: tuple[int, int, int, int]


# A component smaller than this many pixels is a compression fringe, not an object (the
# synthetic world draws no object under 36 pixels a side, and its smallest shapes fill half).
_MIN_AREA = 120


def _shape_of(mask: np.ndarray) -> str:
    """The synthetic world's shape whose filled outline ``mask`` (cropped to its box) is: a square
    fills its box, a circle about pi/4 of it, a triangle and a diamond half, the triangle with a
    quarter of its pixels in the box's upper half and the diamond with half."""
    fill = mask.mean()
    if fill > 0.9:
        return "square"
    if fill > 0.65:
        return "circle"
    upper = mask[: mask.shape[0] // 2].sum() / mask.sum()
    return "triangle" if upper < 0.38 else "diamond"


def drawn_objects(image: Image.Image) -> list[DrawnObject]:
    """The objects of a synthetic image, read from its pixels: each connected region of one of
    the world's colours (``COLORS``), large enough to be an object, with the shape its outline
    fills. Regions are listed top to bottom, then left to right."""
    names = _names(np.asarray(image.convert("RGB")))
    found = []
    for i, name in enumerate(_NAMES):
        if name not in COLORS:
            continue
        labels, _ = ndimage.label(names == i)
        for component, where in enumerate(ndimage.find_objects(labels), start=1):
            mask = labels[where] == component
            if mask.sum() < _MIN_AREA:
                continue
            ys, xs = where
            box = (xs.start, ys.start, xs.stop, ys.stop)
            found.append(DrawnObject(name, _shape_of(mask), box))
    return sorted(found, key=lambda o: (o.box[1], o.box[0]))


def shapes_in_colour(objects: Sequence[DrawnObject], colour: str) -> list[str]:
    """The shapes drawn in ``colour``, each once, in the order the world names its shapes."""
    drawn = {o.shape for o in objects if o.colour == colour}
    return [shape for shape in SHAPES if shape in drawn]
