"""The internal record schema every loader produces and every consumer reads."""

from __future__ import annotations

from dataclasses import dataclass, field

Box = tuple[float, float, float, float]
"""An axis-aligned box ``(x1, y1, x2, y2)`` in original-image pixels, continuous coordinates."""

GMNER_TYPES: tuple[str, ...] = ("PER", "LOC", "ORG", "OTHER")


@dataclass(frozen=True)
class Entity:
    """One named entity of a record.

    ``start``/``end`` are token offsets (end exclusive) into ``Record.tokens``; ``text`` is
    those tokens joined by single spaces (the Twitter-GMNER convention for xml ``<name>``).
    ``boxes`` is empty when the entity is not shown in the image (gold region None).
    """

    text: str
    type: str
    start: int
    end: int
    boxes: tuple[Box, ...] = ()

    @property
    def groundable(self) -> bool:
        return bool(self.boxes)


@dataclass(frozen=True)
class Record:
    """One multimodal example: a post's text, its image(s) and its gold entities."""

    id: str
    tokens: tuple[str, ...]
    entities: tuple[Entity, ...]
    images: tuple[str, ...] = ()
    image_size: tuple[int, int] | None = None  # (width, height) of the original image, when known
    source: str = ""  # "file:line" where the record starts, for error messages downstream
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)
