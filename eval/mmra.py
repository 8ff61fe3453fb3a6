"""MMRA scoring (multi-image relational association, arXiv 2407.17379) by its extraction rule.

True/False questions: the most frequent case-insensitive ``\\b(yes|no)\\b`` in the response.
Choice questions: the most frequent ``\\(([A-D])\\)``, else the most frequent ``\\b([A-D])\\b``.
Correct when it equals the gold answer case-insensitively; nothing found scores 0. A tie for
most frequent goes to the candidate that appears first in the response (``Counter`` order).
Accuracy in percent, overall, per subtask and per granularity (entity or image level).
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from mcr.data.errors import DataFormatError
from mcr.data.hf_export import find_parquet, materialize_image, read_parquet_rows

ENTITY_LEVEL = (
    "RelativePosition",
    "NearSameEntity",
    "MentalitySimilarity",
    "AppearanceSimilarity",
    "SimilarMaterial",
    "UsageSimilarity",
)
IMAGE_LEVEL = ("Layout", "Environment", "SimilarEvent", "SubEvent", "ObservationAngle")
_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
_PAREN_CHOICE = re.compile(r"\(([A-D])\)")
_BARE_CHOICE = re.compile(r"\b([A-D])\b")


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


def _item(raw: dict, index: int, *, file: Path, line: int | None, image1: str, image2: str) -> MmraItem:
    """One checked item; the id is the row's ``id`` or, where the export has none, its row index."""
    where = {"file": file, "line": line} if line else {"file": file, "record": f"row {index}"}
    missing = [k for k in REQUIRED if k not in raw]
    if missing:
        raise DataFormatError(f"missing field(s) {missing}", **where)
    options = raw["options"]
    if isinstance(options, str):  # the export writes a Python dict literal; never eval it
        try:
            options = ast.literal_eval(options) if options.strip() else {}
        except (ValueError, SyntaxError):
            raise DataFormatError(f"options is not a dict literal: {options[:80]!r}", **where) from None
    if not isinstance(options, dict):
        raise DataFormatError(f"options is not a dict: {options!r:.80}", **where)
    return MmraItem(
        str(raw["id"]) if raw.get("id") is not None else str(index),
        raw["Task"],
        raw["QA_type"],
        raw["question"],
        image1,
        image2,
        {str(k): str(v) for k, v in options.items()},
        str(raw["answer"]),
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
        items.append(_item(raw, index, file=file, line=None, image1=paths[0], image2=paths[1]))
    return items


def _load_mmra_jsonl(path: Path, images: Path) -> list[MmraItem]:
    if not path.is_file():
        raise DataFormatError("no such MMRA file", file=path)
    items = []
    with open(path, encoding="utf-8") as f:
        index = -1  # the row index, which is the id when the export has none
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            index += 1
            try:
                raw = json.loads(line)
            except ValueError as err:
                raise DataFormatError(f"not JSON: {err}", file=path, line=lineno) from None
            if not isinstance(raw, dict):
                raise DataFormatError("expected a JSON object", file=path, line=lineno)
            image1, image2 = (str(images / str(raw.get(k, ""))) for k in ("image1", "image2"))
            items.append(_item(raw, index, file=path, line=lineno, image1=image1, image2=image2))
    return items


def extract_choice(response: str, qa_type: str) -> str | None:
    """The answer MMRA's rule reads from a response, or None."""
    if "true or false" in qa_type.lower():
        found = [m.lower() for m in _YES_NO.findall(response)]
    else:
        found = _PAREN_CHOICE.findall(response) or _BARE_CHOICE.findall(response)
    return Counter(found).most_common(1)[0][0] if found else None


def score_mmra(items: Iterable[MmraItem], outputs: Mapping[str, str]) -> dict[str, object]:
    """``outputs`` maps an item id to the raw response; a missing id scores 0."""
    by_task: dict[str, list[bool]] = defaultdict(list)
    by_granularity: dict[str, list[bool]] = defaultdict(list)
    overall, missing = [], 0
    for item in items:
        missing += item.id not in outputs
        choice = extract_choice(outputs.get(item.id, ""), item.qa_type)
        ok = choice is not None and choice.lower() == item.answer.strip().lower()
        overall.append(ok)
        by_task[item.task].append(ok)
        by_granularity[item.granularity].append(ok)

    def accuracy(values: list[bool]) -> float:
        return round(100 * sum(values) / len(values), 2) if values else 0.0

    return {
        "accuracy": accuracy(overall),
        "by_subtask": {k: accuracy(v) for k, v in sorted(by_task.items())},
        "by_granularity": {k: accuracy(v) for k, v in sorted(by_granularity.items())},
        "counts": {"items": len(overall), "missing_predictions": missing},
    }
