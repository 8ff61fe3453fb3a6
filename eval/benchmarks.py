"""The benchmarks a checkpoint is evaluated on, each a small task: load, prompt, score.

Twitter-GMNER and MATE are the training tasks of ``mcr.tasks``; MMRA, GREC (gRefCOCO) and
MNER-MI are evaluated only. Every benchmark asks for the same output contract as training —
``<think>…</think><answer>JSON</answer>`` — and is scored by its official rule:

- MMRA: ``{"answer": "B"}`` (or ``"yes"``/``"no"``); MMRA's extraction rule runs on the
  answer's value when the output keeps the contract, else on the whole response.
- GREC: a list of boxes in the model's pixels, rescaled to the original image; a generative
  model gives no confidences, so every box counts with score 1. An answer that cannot be read
  is never correct, not even on a no-target expression.
- MNER-MI: ``[{"entity", "type"}]``; each span is placed on the first free occurrence of its
  tokens in the post and turned into BIO tags for the seqeval-style F1. Spans that are not in
  the post cannot be tagged; their number is reported (``unplaced_entities``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcr.config import Recipe
from mcr.data.errors import DataFormatError
from mcr.data.grefcoco import GrecSample, load_grefcoco
from mcr.data.grpo_dataset import image_sizes, scale_box, user_prompt
from mcr.eval.grec import score_grec
from mcr.eval.mmra import MmraItem, load_mmra, score_mmra
from mcr.eval.mner_mi import MnerMiRecord, load_mner_mi, score_mner_mi
from mcr.rewards.parse import parse_completion
from mcr.tasks import TASKS

MNER_MI_TYPES = ("PER", "LOC", "ORG", "MIS")


def _sizes(recipe: Recipe, path: str) -> tuple[list[int], list[int]]:
    return image_sizes(path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels)


def _is_box(value: Any) -> bool:
    return (
        type(value) is list
        and len(value) == 4
        and all(type(v) in (int, float) and math.isfinite(v) for v in value)
    )


class MmraBenchmark:
    name = "mmra"
    data_format = "mmra"
    default_split = "train"  # the Hugging Face export's only split

    def load(self, recipe: Recipe, split: str) -> list[MmraItem]:
        items = load_mmra(recipe.data.root, split=split, images=recipe.data.images)
        missing = [i.id for i in items if not (Path(i.image1).is_file() and Path(i.image2).is_file())]
        if missing:
            raise DataFormatError(
                f"image(s) of {len(missing)} item(s) not found", file=recipe.data.root, record=missing[0]
            )
        return items

    def rows(self, recipe: Recipe, examples: Sequence[MmraItem]) -> list[dict]:
        rows = []
        for item in examples:
            size, input_size = _sizes(recipe, item.image1)
            rows.append(
                {
                    "id": item.id,
                    "prompt": user_prompt(
                        self.name, n_images=2, question=item.question, options=item.options
                    ),
                    "image": [item.image1, item.image2],
                    "gold": json.dumps({"answer": item.answer}),
                    "text": item.question,
                    "image_size": size,
                    "input_size": input_size,
                }
            )
        return rows

    @staticmethod
    def response(completion: str) -> str:
        """What MMRA's rule reads: the answer's value under the contract, else the whole output."""
        answer = parse_completion(completion).answer
        if isinstance(answer, dict) and "answer" in answer:
            return str(answer["answer"])
        return completion

    def score(self, examples: Sequence[MmraItem], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        return score_mmra(
            examples, {row["id"]: self.response(text) for row, text in zip(rows, completions, strict=True)}
        )

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(
            parsed.well_formed
            and isinstance(parsed.answer, dict)
            and isinstance(parsed.answer.get("answer"), str)
        )

    def headline(self, metrics: dict) -> dict[str, float]:
        return {"accuracy": metrics["accuracy"]}


class GrecBenchmark:
    name = "grec"
    data_format = "grefcoco"
    default_split = "val"

    def load(self, recipe: Recipe, split: str) -> list[GrecSample]:
        return load_grefcoco(recipe.data.root, split, images=Path(recipe.images_dir))

    def rows(self, recipe: Recipe, examples: Sequence[GrecSample]) -> list[dict]:
        rows = []
        for sample in examples:
            size, input_size = _sizes(recipe, sample.image)
            rows.append(
                {
                    "id": sample.id,
                    "prompt": user_prompt(self.name, expression=sample.expression),
                    "image": sample.image,
                    "gold": json.dumps(
                        [scale_box(b, sample.image_size, tuple(input_size)) for b in sample.boxes]
                    ),
                    "text": sample.expression,
                    "image_size": size,
                    "input_size": input_size,
                }
            )
        return rows

    @staticmethod
    def boxes(completion: str, image_size: Sequence[int], input_size: Sequence[int]) -> list[tuple] | None:
        """The answer's boxes in original pixels, or None when the answer is not a list of boxes."""
        parsed = parse_completion(completion)
        if not parsed.json_ok or not isinstance(parsed.answer, list) or not all(map(_is_box, parsed.answer)):
            return None
        sx, sy = image_size[0] / input_size[0], image_size[1] / input_size[1]
        return [(x1 * sx, y1 * sy, x2 * sx, y2 * sy) for x1, y1, x2, y2 in parsed.answer]

    def score(self, examples: Sequence[GrecSample], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        predictions, invalid = {}, set()
        for row, text in zip(rows, completions, strict=True):
            boxes = self.boxes(text, row["image_size"], row["input_size"])
            if boxes is None:
                invalid.add(row["id"])
            else:
                predictions[row["id"]] = [(box, 1.0) for box in boxes]
        return score_grec({s.id: s.boxes for s in examples}, predictions, invalid=invalid)

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(
            parsed.well_formed and isinstance(parsed.answer, list) and all(map(_is_box, parsed.answer))
        )

    def headline(self, metrics: dict) -> dict[str, float]:
        n_acc = metrics["n_acc"]
        return {"N-acc": math.nan if n_acc is None else n_acc, "Pr@F1=1": metrics["pr_f1_1"]}


def place_entities(tokens: Sequence[str], entities: Sequence[tuple[str, str]]) -> tuple[list[str], int]:
    """BIO tags for ``(span, type)`` pairs, each on the first occurrence of its tokens not yet
    tagged; and how many spans had no such occurrence."""
    labels, unplaced = ["O"] * len(tokens), 0
    for span, etype in entities:
        words = span.split()
        n = len(words)
        for start in range(len(tokens) - n + 1) if n else ():
            if list(tokens[start : start + n]) == words and all(t == "O" for t in labels[start : start + n]):
                labels[start : start + n] = [f"B-{etype}"] + [f"I-{etype}"] * (n - 1)
                break
        else:
            unplaced += 1
    return labels, unplaced


def _mner_mi_entities(answer: Any) -> list[tuple[str, str]] | None:
    if not isinstance(answer, list):
        return None
    out = []
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("entity"), str):
            return None
        if item.get("type") not in MNER_MI_TYPES:
            return None
        out.append((item["entity"], item["type"]))
    return out


class MnerMiBenchmark:
    name = "mner_mi"
    data_format = "mner-mi"
    default_split = "test"

    def load(self, recipe: Recipe, split: str) -> list[MnerMiRecord]:
        path = Path(recipe.data.root) / f"MNER-MI_{split}.txt"
        records = load_mner_mi(path)
        images = Path(recipe.images_dir)
        for record in records:
            if not record.images:
                raise DataFormatError("post has no image", file=path, record=record.id)
            for name in record.images:
                if not (images / name).is_file():
                    raise DataFormatError(f"image not found: {images / name}", file=path, record=record.id)
        return [dataclasses.replace(r, images=tuple(str(images / n) for n in r.images)) for r in records]

    def rows(self, recipe: Recipe, examples: Sequence[MnerMiRecord]) -> list[dict]:
        rows = []
        for record in examples:
            size, input_size = _sizes(recipe, record.images[0])
            text = " ".join(record.tokens)
            rows.append(
                {
                    "id": record.id,
                    "prompt": user_prompt(self.name, n_images=len(record.images), text=text),
                    "image": list(record.images),
                    "gold": json.dumps(record.labels),
                    "text": text,
                    "image_size": size,
                    "input_size": input_size,
                }
            )
        return rows

    def score(
        self, examples: Sequence[MnerMiRecord], rows: Sequence[dict], completions: Sequence[str]
    ) -> dict:
        by_id = {r.id: r for r in examples}
        labels, unplaced, unreadable = {}, 0, 0
        for row, text in zip(rows, completions, strict=True):
            record = by_id[row["id"]]
            entities = _mner_mi_entities(parse_completion(text).answer)
            unreadable += entities is None
            labels[row["id"]], missed = place_entities(record.tokens, entities or [])
            unplaced += missed
        metrics = score_mner_mi(examples, labels)
        metrics["counts"].update(unplaced_entities=unplaced, unreadable_answers=unreadable)
        return metrics

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(parsed.well_formed and _mner_mi_entities(parsed.answer) is not None)

    def headline(self, metrics: dict) -> dict[str, float]:
        return {"F1": metrics["f1"]}


EVAL_ONLY = {b.name: b for b in (MmraBenchmark(), GrecBenchmark(), MnerMiBenchmark())}
BENCHMARKS: dict[str, Any] = {**TASKS, **EVAL_ONLY}


def get_benchmark(name: str):
    key = name.replace("-", "_")
    if key not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; available: {sorted(BENCHMARKS)}")
    return BENCHMARKS[key]
