"""Rows as a ``datasets`` data set: the form both trainers and the MRSI cache read."""

from __future__ import annotations

from typing import Any

import datasets


def row_images(row: dict) -> list[Any]:
    """A row's images in prompt order: ``image`` holds one image or a list of them."""
    return list(row["image"]) if isinstance(row["image"], list | tuple) else [row["image"]]


def rows_dataset(rows: list[dict]) -> datasets.Dataset:
    """Rows whose ``image`` is a path as a ``datasets.Dataset``; images load only when a batch needs them."""
    return datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
