"""GREC on gRefCOCO: generalized referring expression comprehension, evaluated only.

Everything about GREC, from here: one sample per expression from ``grefs(unc).json`` and COCO's
``instances.json`` (``data.py``), the official N-acc and Pr@(F1=1, IoU>=0.5) (``scorer.py``), the
instruction ``templates/prompts/grec.jinja``. The answer is a list of boxes in the model
family's frame, rescaled to the original image; a generative model gives no confidences, so every box
counts with score 1. An answer that cannot be read is never correct, not even on a no-target
expression.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

from mcr.benchmarks.base import Benchmark
from mcr.benchmarks.grec.data import SPLITS, GrecSample, grefcoco_stats, load_grefcoco
from mcr.benchmarks.grec.scorer import score_grec
from mcr.contract.matching import iou
from mcr.contract.parse import is_box, is_number, parse_completion
from mcr.data.errors import DataFormatError
from mcr.data.jsonl import read_jsonl
from mcr.data.predictions import prediction_lines
from mcr.image_space import ImageSpace, scale_box, unscale_box
from mcr.prompts import user_prompt


def answer_boxes(completion: str, image_size: Sequence[int], frame: Sequence[int]) -> list[tuple] | None:
    """The answer's boxes in original pixels, or None when the answer is not a list of boxes."""
    parsed = parse_completion(completion)
    if not parsed.json_ok or not isinstance(parsed.answer, list) or not all(map(is_box, parsed.answer)):
        return None
    return [unscale_box(box, tuple(image_size), tuple(frame)) for box in parsed.answer]


class GrecBenchmark(Benchmark):
    name = "grec"
    default_split = "val"

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list[GrecSample]:
        return load_grefcoco(root, split, images=images if images is not None else Path(root) / "images")

    def rows(self, examples: Sequence[GrecSample], space: ImageSpace) -> list[dict]:
        rows = []
        for sample in examples:
            size, input_size = space.sizes(sample.image)
            frame = space.box_frame(input_size)
            rows.append(
                {
                    "id": sample.id,
                    "task": self.name,
                    "prompt": user_prompt(
                        self.name, expression=sample.expression, box_format=space.box_wording
                    ),
                    "image": sample.image,
                    "gold": json.dumps([scale_box(b, sample.image_size, frame) for b in sample.boxes]),
                    "text": sample.expression,
                    "image_size": size,
                    "input_size": input_size,
                    "box_frame": frame,
                }
            )
        return rows

    def score(self, examples: Sequence[GrecSample], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        predictions, invalid = {}, set()
        for row, text in zip(rows, completions, strict=True):
            boxes = answer_boxes(text, row["image_size"], row["box_frame"])
            if boxes is None:
                invalid.add(row["id"])
            else:
                predictions[row["id"]] = [(box, 1.0) for box in boxes]
        return score_grec({s.id: s.boxes for s in examples}, predictions, invalid=invalid)

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(
            parsed.well_formed and isinstance(parsed.answer, list) and all(map(is_box, parsed.answer))
        )

    def box_overlay(self, row: dict, completion: str) -> dict[str, list[tuple[tuple, str, str]]]:
        """Gold and predicted boxes in original pixels: a prediction is ``matched`` when its IoU
        with a gold box reaches 0.5, else ``wrong``."""
        size, frame = tuple(row["image_size"]), tuple(row["box_frame"])
        gold = [unscale_box(b, size, frame) for b in json.loads(row["gold"])]
        predicted = answer_boxes(completion, size, frame) or []
        return {
            "ground_truth": [(b, "gold", "gold") for b in gold],
            "predictions": [
                (b, "prediction", "matched" if any(iou(b, g) >= 0.5 for g in gold) else "wrong")
                for b in predicted
            ],
        }

    def headline(self, metrics: dict) -> dict[str, float]:
        n_acc = metrics["n_acc"]
        return {"N-acc": math.nan if n_acc is None else n_acc, "Pr@F1=1": metrics["pr_f1_1"]}

    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "GREC: N-acc and Pr@(F1=1, IoU>=0.5)"
        parser.add_argument(
            "--gold", required=True, help="JSONL: {id, boxes: [[x1, y1, x2, y2], ...]} ([] = no target)"
        )
        parser.add_argument("--pred", required=True, help="JSONL: {id, boxes, scores}")

    def score_files(self, args: argparse.Namespace) -> dict:
        gold = {}
        for line, item in read_jsonl(args.gold, "GREC gold"):
            boxes = item.get("boxes") or []
            if not isinstance(boxes, list) or not all(map(is_box, boxes)):
                raise DataFormatError(
                    "'boxes' must be a list of 4 finite numbers each", file=args.gold, line=line
                )
            gold[str(item["id"])] = boxes
        predictions = {}
        for line, record_id, item in prediction_lines(args.pred, gold, args.gold):
            boxes, scores = item.get("boxes") or [], item.get("scores") or []
            if not isinstance(boxes, list) or not all(map(is_box, boxes)):
                raise DataFormatError(
                    "'boxes' must be a list of 4 finite numbers each", file=args.pred, line=line
                )
            if not isinstance(scores, list) or not all(map(is_number, scores)):
                raise DataFormatError("'scores' must be a list of finite numbers", file=args.pred, line=line)
            if len(boxes) != len(scores):
                raise DataFormatError(
                    f"{len(boxes)} boxes but {len(scores)} scores", file=args.pred, line=line
                )
            predictions[record_id] = list(zip(boxes, scores, strict=True))
        return score_grec(gold, predictions)

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "gRefCOCO: expressions, no-/single-/multi-target, boxes"
        parser.add_argument("--root", required=True, help="folder holding grefs(unc).json and instances.json")
        parser.add_argument("--split", default="val", choices=SPLITS)

    def stats(self, args: argparse.Namespace) -> dict:
        return grefcoco_stats(load_grefcoco(args.root, args.split, require_images=False))


BENCHMARK = GrecBenchmark()
