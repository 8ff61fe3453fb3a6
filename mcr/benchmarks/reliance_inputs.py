"""Counterfactual inputs for the modality-reliance probes: the same rows with one modality
taken away or replaced.

* ``blank_image``: every image replaced by a white one of the same size;
* ``swapped_image``: every image replaced by the next row's (another post's) images;
* ``masked_text``: each entity name in the text replaced by ``MASK`` (built by the benchmark,
  which knows where its names are).

Rows keep their id, gold and sizes, so a probe's answers are scored against the original gold.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PIL import Image

from mcr.data.rows import row_images

MASK = "[NAME]"


def _with_images(row: dict, images: list) -> dict:
    return {**row, "image": images if isinstance(row["image"], list | tuple) else images[0]}


def _opened(image) -> Image.Image:
    return image if isinstance(image, Image.Image) else Image.open(image).convert("RGB")


def blank_images(rows: Sequence[dict]) -> list[dict]:
    return [
        _with_images(row, [Image.new("RGB", _opened(i).size, (255, 255, 255)) for i in row_images(row)])
        for row in rows
    ]


def swapped_images(rows: Sequence[dict]) -> list[dict]:
    """Each row with the images of the next row (the last with the first's). The row keeps its own
    sizes: answers are read in the frame of the post's image and scored against its gold."""
    out = []
    for k, row in enumerate(rows):
        images = [_opened(i) for i in row_images(rows[(k + 1) % len(rows)])][: len(row_images(row))]
        images += [images[-1]] * (len(row_images(row)) - len(images))  # as many images as the prompt asks
        out.append(_with_images(row, images))
    return out


def entity_probe_rows(
    rows: Sequence[dict], probe: str, masked: Callable[[dict], tuple[list, str]]
) -> list[dict]:
    """A GMNER-style benchmark's probe rows; for ``masked_text``, ``masked(row)`` gives the row's
    prompt and text with its entity names masked (the benchmark knows where they are)."""
    if probe == "blank_image":
        return blank_images(rows)
    if probe == "swapped_image":
        return swapped_images(rows)
    if probe == "masked_text":
        out = []
        for row in rows:
            prompt, text = masked(row)
            out.append({**row, "prompt": prompt, "text": text})
        return out
    raise ValueError(f"no probe {probe!r}; the probes: blank_image, swapped_image, masked_text")


def masked_tokens(tokens: Sequence[str], spans: Sequence[tuple[int, int]]) -> str:
    """The text with each ``(start, end)`` token span replaced by one ``MASK``."""
    starts = {start: end for start, end in spans}
    words, i = [], 0
    while i < len(tokens):
        if i in starts:
            words.append(MASK)
            i = starts[i]
        else:
            words.append(tokens[i])
            i += 1
    return " ".join(words)
