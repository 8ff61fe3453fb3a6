"""Rows as a ``datasets`` data set: the form both trainers and the MRSI cache read."""

from __future__ import annotations

import datasets


def rows_dataset(rows: list[dict]) -> datasets.Dataset:
    """Rows whose ``image`` is a path as a ``datasets.Dataset``; images load only when a batch needs them."""
    return datasets.Dataset.from_list(rows).cast_column("image", datasets.Image())
