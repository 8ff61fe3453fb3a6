"""MMRA items (multi-image relational association, arXiv 2407.17379): JSONL or the Hugging Face
parquet export (m-a-p/MMRA), whose two embedded images per row are written out once."""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.hf_export import find_parquet, materialize_image, read_parquet_rows
from mcr.data.jsonl import parse_json
from mcr.data.text import read_lines

ENTITY_LEVEL = (
    "RelativePosition",
    "NearSameEntity",
    "MentalitySimilarity",
    "AppearanceSimilarity",
    "SimilarMaterial",
    "UsageSimilarity",
)
IMAGE_LEVEL = ("Layout", "Environment", "SimilarEvent", "SubEvent", "ObservationAngle")


@dataclass(frozen=True)
class MmraItem:
    id: str
    task: str
    qa_type: str
    question: str
    image1: str
    image2: str
    options: dict[str, str]
    answer: str

    @property
    def granularity(self) -> str:
        return "entity" if self.task in ENTITY_LEVEL else "image" if self.task in IMAGE_LEVEL else "other"


REQUIRED = ("Task", "QA_type", "question", "image1", "image2", "options", "answer")


def _item(
    raw: dict, index: int, *, file: Path, line: int | None, image1: str, image2: str, seen: dict[str, str]
) -> MmraItem:
    """One checked item; the id is the row's ``id`` or, where the export has none, its row index."""
    item_id = str(raw["id"]) if raw.get("id") is not None else str(index)
    where: dict = {"file": file, "line": line}
    if raw.get("id") is not None:
        where["record"] = item_id
    elif not line:
        where["record"] = f"row {index}"
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise DataFormatError(f"missing field(s) {missing}", **where)
    if raw.get("id") is not None and (
        not isinstance(raw["id"], str | int) or isinstance(raw["id"], bool) or not item_id.strip()
    ):
        raise DataFormatError(
            f"'id' must be a non-empty string or an integer, not {raw['id']!r:.60}", **where
        )
    if item_id in seen:
        raise DataFormatError(f"id repeats {seen[item_id]}", **where)
    seen[item_id] = f"line {line}" if line else f"row {index}"
    for key in ("Task", "QA_type", "question", "answer"):
        if not isinstance(raw[key], str):
            raise DataFormatError(
                f"{key!r} must be a string, not {type(raw[key]).__name__}: {raw[key]!r:.60}", **where
            )
    options = raw["options"]
    if isinstance(options, str):  # the export writes a Python dict literal; never eval it
        try:
            with warnings.catch_warnings():  # a warning about the text: the error below says it all
                warnings.simplefilter("ignore", SyntaxWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                options = ast.literal_eval(options) if options.strip() else {}
        except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            raise DataFormatError(
                f"options is not a dict literal (expected e.g. {{'A': '...', 'B': '...'}}): {options[:80]!r}",
                **where,
            ) from None
    if not isinstance(options, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | float) for k, v in options.items()
    ):
        raise DataFormatError(
            f"options is not a dict of letters to texts (expected e.g. {{'A': '...'}}): {options!r:.80}",
            **where,
        )
    return MmraItem(
        item_id,
        raw["Task"],
        raw["QA_type"],
        raw["question"],
        image1,
        image2,
        {str(k): str(v) for k, v in options.items()},
        raw["answer"],
    )


def load_mmra(
    path: str | Path, *, split: str = "train", images: str | Path | None = None, extract_images: bool = True
) -> list[MmraItem]:
    """MMRA rows from JSONL (image1/image2 paths relative to ``images`` or the file's folder) or
    from the Hugging Face export (m-a-p/MMRA: a parquet file, or a snapshot folder and ``split``),
    whose embedded images are written to ``images`` (default ``<folder>/images/<split>``) as
    ``<id>_1.<ext>`` and ``<id>_2.<ext>``. ``id`` defaults to the row index."""
    path = Path(path)
    if path.suffix == ".jsonl" or (path.is_file() and path.suffix != ".parquet"):
        return _load_mmra_jsonl(path, Path(images) if images is not None else path.parent)
    files = find_parquet(path, split)
    if not files:
        raise DataFormatError(
            f"no MMRA data: expected a .jsonl file, a .parquet file or data/{split}-*.parquet", file=path
        )
    base = path.parent if path.is_file() else path
    images_dir = Path(images) if images is not None else base / "images" / split
    items, columns = [], [k for k in REQUIRED if k not in ("image1", "image2")]
    if extract_images:
        columns += ["image1", "image2"]
    seen: dict[str, str] = {}
    for index, (file, row_index, raw) in enumerate(
        read_parquet_rows(files, columns=columns, optional=("id",), what="MMRA")
    ):
        name = str(raw["id"]) if raw.get("id") is not None else str(index)
        paths = ["", ""]
        if extract_images:
            paths = [
                materialize_image(
                    raw[key],
                    images_dir=images_dir,
                    name=f"{name}_{k}",
                    source=str(file),
                    where=f"row {row_index}",
                )
                for k, key in enumerate(("image1", "image2"), start=1)
            ]
        else:
            raw.update(image1="", image2="")
        items.append(_item(raw, index, file=file, line=None, image1=paths[0], image2=paths[1], seen=seen))
    if not items:
        raise DataFormatError(
            "no items: the parquet files hold no rows", file=files[0] if len(files) == 1 else files[0].parent
        )
    return items


def _load_mmra_jsonl(path: Path, images: Path) -> list[MmraItem]:
    items: list[MmraItem] = []
    seen: dict[str, str] = {}
    index = -1  # the row index, which is the id when the export has none
    for lineno, line in read_lines(path, "MMRA"):
        if not line.strip():
            continue
        index += 1
        raw = parse_json(line, file=path, line=lineno)
        if not isinstance(raw, dict):
            raise DataFormatError("expected a JSON object", file=path, line=lineno)
        paths = []
        for key in ("image1", "image2"):
            value = raw.get(key)
            if key in raw and (not isinstance(value, str) or not value):
                raise DataFormatError(
                    f"{key!r} must be the image's path, not {value!r:.60}", file=path, line=lineno
                )
            paths.append(str(images / value) if isinstance(value, str) else "")
        items.append(_item(raw, index, file=path, line=lineno, image1=paths[0], image2=paths[1], seen=seen))
    if not items:
        raise DataFormatError("no items: the file is empty (expected one JSON object a line)", file=path)
    return items
