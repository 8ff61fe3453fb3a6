"""MMRA (arXiv 2407.17379): multi-image relational association, evaluated only.

Everything about MMRA, from here: items from JSONL or the Hugging Face export (``data.py``),
the official extraction rule (``scorer.py``), the instruction ``templates/prompts/mmra.jinja``.
The answer is ``{"answer": "B"}`` (or ``"yes"``/``"no"``); the rule runs on the answer's value
when the output keeps the contract, else on the whole response.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mcr.benchmarks.base import Benchmark
from mcr.benchmarks.mmra.data import MmraItem, load_mmra
from mcr.benchmarks.mmra.scorer import score_mmra
from mcr.contract.parse import parse_completion
from mcr.data.errors import DataFormatError
from mcr.data.predictions import raw_outputs
from mcr.image_space import ImageSpace
from mcr.prompts import user_prompt


def response(completion: str) -> str:
    """What MMRA's rule reads: the answer's value under the contract, else the whole output."""
    answer = parse_completion(completion).answer
    if isinstance(answer, dict) and "answer" in answer:
        return str(answer["answer"])
    return completion


class MmraBenchmark(Benchmark):
    name = "mmra"
    default_split = "train"  # the Hugging Face export's only split

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list[MmraItem]:
        items = load_mmra(root, split=split, images=images)
        missing = [i.id for i in items if not (Path(i.image1).is_file() and Path(i.image2).is_file())]
        if missing:
            raise DataFormatError(
                f"image(s) of {len(missing)} item(s) not found", file=root, record=missing[0]
            )
        return items

    def rows(self, examples: Sequence[MmraItem], space: ImageSpace) -> list[dict]:
        rows = []
        for item in examples:
            size, input_size = space.sizes(item.image1)
            rows.append(
                {
                    "id": item.id,
                    "task": self.name,
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

    def score(self, examples: Sequence[MmraItem], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        return score_mmra(
            examples, {row["id"]: response(text) for row, text in zip(rows, completions, strict=True)}
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

    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MMRA: accuracy overall, by subtask and granularity"
        parser.add_argument("--gold", required=True, help="MMRA rows as JSONL (id defaults to the row index)")
        parser.add_argument("--pred", required=True, help="JSONL: {id, prediction}")

    def score_files(self, args: argparse.Namespace) -> dict:
        items = load_mmra(args.gold)
        return score_mmra(items, raw_outputs(args.pred, {i.id for i in items}, args.gold))

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MMRA (JSONL, or the parquet export): subtasks, granularity, types"
        parser.add_argument("--file", required=True, help="a file, or an export folder (with --split)")
        parser.add_argument("--split", default="train", help="split of an export folder (default train)")

    def stats(self, args: argparse.Namespace) -> dict:
        items = load_mmra(args.file, split=args.split, extract_images=False)
        return {
            "items": len(items),
            "subtasks": dict(sorted(Counter(i.task for i in items).items())),
            "granularity": dict(sorted(Counter(i.granularity for i in items).items())),
            "qa_types": dict(sorted(Counter(i.qa_type for i in items).items())),
        }


BENCHMARK = MmraBenchmark()
