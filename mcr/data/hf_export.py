"""Rows of a benchmark's Hugging Face export: parquet files whose image columns hold the bytes.

``datasets`` stores an ``Image`` feature in parquet as a struct ``{"bytes", "path"}``. Training
and evaluation pass images around as files, so each embedded image is written once to an
images folder (named after its row id) and the row gets the file's path instead. The parquet
files are streamed batch by batch with pyarrow, the reader ``datasets`` itself uses, so a
1 GB export is neither copied into an Arrow cache nor held in memory.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from pathlib import Path

from PIL import Image

from mcr.data.errors import DataFormatError


def find_parquet(root: str | Path, split: str) -> list[Path]:
    """The parquet shards of ``split`` under an export: ``root`` itself when it is a parquet file,
    else ``<root>/data/<split>-*.parquet``, ``<root>/<split>-*.parquet`` or ``<root>/<split>.parquet``
    (the layouts ``datasets.push_to_hub`` and ``Dataset.to_parquet`` write)."""
    root = Path(root)
    if root.is_file() and root.suffix == ".parquet":
        return [root]
    for pattern in (
        f"data/{split}-*.parquet",
        f"{split}-*.parquet",
        f"{split}.parquet",
        f"data/{split}.parquet",
    ):
        files = sorted(root.glob(pattern))
        if files:
            return files
    return []


def _image_suffix(data: bytes, source: str, where: str) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            fmt = image.format
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        message = " ".join(str(err).split())
        raise DataFormatError(
            f"embedded image is not an image: {message}", file=source, record=where
        ) from None
    return {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp"}.get(fmt, ".png")


def materialize_image(value: object, *, images_dir: Path, name: str, source: str, where: str) -> str:
    """A file path for an image cell: an embedded ``{"bytes", "path"}`` struct is written to
    ``images_dir/<name>.<ext>`` (kept when already there with the same size); a path string, or a
    struct with a path but no bytes, resolves against ``images_dir``."""
    if (
        not name
        or name in (".", "..")
        or len(name.encode()) > 200
        or any(c in "/\\" or ord(c) < 32 for c in name)
    ):
        raise DataFormatError(f"id {name[:60]!r} cannot name an image file", file=source, record=where)
    if isinstance(value, dict):
        data, path = value.get("bytes"), value.get("path")
        if data and not isinstance(data, bytes):
            raise DataFormatError(
                f"image cell's 'bytes' is not bytes: {type(data).__name__}", file=source, record=where
            )
        if data:
            target = images_dir / f"{name}{_image_suffix(data, source, where)}"
            if not (target.is_file() and target.stat().st_size == len(data)):
                images_dir.mkdir(parents=True, exist_ok=True)
                tmp = target.with_suffix(target.suffix + ".tmp")
                tmp.write_bytes(data)
                tmp.replace(target)  # never leave a half-written image behind a crash
            return str(target)
        value = path
    if not isinstance(value, str) or not value:
        raise DataFormatError(
            f"image cell holds neither bytes nor a path: {value!r:.80}", file=source, record=where
        )
    path = Path(value)
    return str(path if path.is_absolute() else images_dir / path)


def read_parquet_rows(
    files: Sequence[Path], *, columns: Sequence[str], what: str, optional: Sequence[str] = ()
) -> Iterator[tuple[Path, int, dict]]:
    """``(file, row index in that file, row)`` for every row, with ``columns`` and those of
    ``optional`` the file has; a file missing one of ``columns`` raises, naming the file and the
    columns it has."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for file in files:
        try:
            parquet = pq.ParquetFile(file)
        except Exception as err:  # pyarrow raises several types for a file that is not parquet
            message = " ".join(str(err).split())
            raise DataFormatError(f"not a {what} parquet file: {message}", file=file) from None
        names = parquet.schema_arrow.names
        missing = [c for c in columns if c not in names]
        if missing:
            raise DataFormatError(f"missing column(s) {missing}; the file has {names}", file=file)
        index = 0
        wanted = [*columns, *(c for c in optional if c in names)]
        batches = parquet.iter_batches(batch_size=256, columns=wanted)
        while True:
            try:  # damaged pages and text that is not UTF-8 surface here, as several types
                batch = next(batches, None)
                rows = [] if batch is None else batch.to_pylist()
            except (OSError, ValueError, pa.ArrowException) as err:
                message = " ".join(str(err).split())
                raise DataFormatError(
                    f"damaged {what} parquet data in the rows from row {index}: {message}", file=file
                ) from None
            if batch is None:
                break
            for row in rows:
                yield file, index, row
                index += 1
