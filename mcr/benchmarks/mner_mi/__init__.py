"""MNER-MI: multimodal NER over posts with several images, evaluated only.

Everything about MNER-MI, from here: its records (``data.py``: a dict literal per line, read
with ``ast.literal_eval``), the seqeval-style entity F1 (``scorer.py``), the instruction
``templates/prompts/mner_mi.jinja``. The answer is ``[{"entity", "type"}]`` with types PER, LOC,
ORG, MIS; each span is placed on the first free occurrence of its tokens in the post and turned
into BIO tags. Spans that are not in the post cannot be tagged; their number is reported
(``unplaced_entities``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mcr.benchmarks.base import Benchmark
from mcr.benchmarks.mner_mi.data import MnerMiRecord, entities, load_mner_mi
from mcr.benchmarks.mner_mi.scorer import score_mner_mi
from mcr.benchmarks.reliance_inputs import entity_probe_rows, masked_tokens
from mcr.contract.parse import parse_completion
from mcr.data.errors import DataFormatError
from mcr.data.predictions import prediction_lines
from mcr.image_space import ImageSpace
from mcr.prompts import user_prompt

TYPES = ("PER", "LOC", "ORG", "MIS")


def place_entities(tokens: Sequence[str], spans: Sequence[tuple[str, str]]) -> tuple[list[str], int]:
    """BIO tags for ``(span, type)`` pairs, each on the first occurrence of its tokens not yet
    tagged; and how many spans had no such occurrence."""
    labels, unplaced = ["O"] * len(tokens), 0
    for span, etype in spans:
        words = span.split()
        n = len(words)
        for start in range(len(tokens) - n + 1) if n else ():
            if list(tokens[start : start + n]) == words and all(t == "O" for t in labels[start : start + n]):
                labels[start : start + n] = [f"B-{etype}"] + [f"I-{etype}"] * (n - 1)
                break
        else:
            unplaced += 1
    return labels, unplaced


def answer_entities(answer: Any) -> list[tuple[str, str]] | None:
    """The answer as ``(span, type)`` pairs, or None when it is not an MNER-MI entity list."""
    if not isinstance(answer, list):
        return None
    out = []
    for item in answer:
        if not isinstance(item, dict) or not isinstance(item.get("entity"), str):
            return None
        if item.get("type") not in TYPES:
            return None
        out.append((item["entity"], item["type"]))
    return out


class MnerMiBenchmark(Benchmark):
    name = "mner_mi"

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list[MnerMiRecord]:
        path = Path(root) / f"MNER-MI_{split}.txt"
        records = load_mner_mi(path)
        images = Path(images) if images is not None else Path(root) / "images"
        for record in records:
            if not record.images:
                raise DataFormatError("post has no image", file=path, record=record.id)
            for name in record.images:
                if not (images / name).is_file():
                    raise DataFormatError(f"image not found: {images / name}", file=path, record=record.id)
        return [dataclasses.replace(r, images=tuple(str(images / n) for n in r.images)) for r in records]

    def rows(self, examples: Sequence[MnerMiRecord], space: ImageSpace) -> list[dict]:
        rows = []
        for record in examples:
            size, input_size = space.sizes(record.images[0])
            text = " ".join(record.tokens)
            rows.append(
                {
                    "id": record.id,
                    "task": self.name,
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
            spans = answer_entities(parse_completion(text).answer)
            unreadable += spans is None
            labels[row["id"]], missed = place_entities(record.tokens, spans or [])
            unplaced += missed
        metrics = score_mner_mi(examples, labels)
        metrics["counts"].update(unplaced_entities=unplaced, unreadable_answers=unreadable)
        return metrics

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(parsed.well_formed and answer_entities(parsed.answer) is not None)

    # modality-reliance probes (mcr.benchmarks.reliance_inputs, eval/reliance.py)
    probes = ("blank_image", "swapped_image", "masked_text")

    def probe_rows(
        self, examples: Sequence[MnerMiRecord], rows: Sequence[dict], probe: str, space: ImageSpace
    ) -> list[dict]:
        by_id = {r.id: r for r in examples}

        def masked(row: dict) -> tuple[list, str]:
            record = by_id[row["id"]]
            text = masked_tokens(record.tokens, [(start, end) for _, start, end in entities(record.labels)])
            return user_prompt(self.name, n_images=len(record.images), text=text), text

        return entity_probe_rows(rows, probe, masked)

    def answered(self, completion: str) -> list[tuple[str, str, bool]] | None:
        """(span, type, boxed) per answered entity (never boxed here), or None when unreadable."""
        spans = answer_entities(parse_completion(completion).answer)
        return None if spans is None else [(" ".join(span.split()), etype, False) for span, etype in spans]

    def headline(self, metrics: dict) -> dict[str, float]:
        return {"F1": metrics["f1"]}

    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MNER-MI: entity-level micro P/R/F1 (seqeval)"
        parser.add_argument("--gold", required=True, help="MNER-MI_<split>.txt (a dict literal per line)")
        parser.add_argument("--pred", required=True, help="JSONL: {id, labels: [BIO tags]}")

    def score_files(self, args: argparse.Namespace) -> dict:
        records = load_mner_mi(args.gold)
        lengths = {r.id: len(r.tokens) for r in records}
        predictions = {}
        for line, record_id, item in prediction_lines(args.pred, lengths, args.gold):
            labels = item.get("labels")
            if not isinstance(labels, list) or not all(isinstance(t, str) for t in labels):
                raise DataFormatError("'labels' must be a list of BIO tags", file=args.pred, line=line)
            if len(labels) != lengths[record_id]:
                raise DataFormatError(f"expected {lengths[record_id]} labels", file=args.pred, line=line)
            predictions[record_id] = labels
        return score_mner_mi(records, predictions)

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MNER-MI_<split>.txt: posts, images, entities by type"
        parser.add_argument("--file", required=True, help="MNER-MI_<split>.txt")

    def stats(self, args: argparse.Namespace) -> dict:
        records = load_mner_mi(args.file)
        types = Counter(t for r in records for t, _, _ in entities(r.labels))
        return {
            "posts": len(records),
            "images": sum(len(r.images) for r in records),
            "entities": sum(types.values()),
            "types": dict(sorted(types.items())),
        }


BENCHMARK = MnerMiBenchmark()
