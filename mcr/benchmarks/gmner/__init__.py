"""Twitter-GMNER (Yu et al., ACL 2023): grounded multimodal named entity recognition.

Everything about GMNER, from here:

* the release and its loader, stats: ``release.py`` (``txt/{split}.txt``, ``xml/<id>.xml``);
* a synthetic release with MCR's traps: ``synthetic.py``;
* rows, the ``gold`` column and MRSI's style context: ``rows.py``;
* the official scorer and bias diagnostics: ``scorer.py``; prediction files: ``predictions.py``;
* the instruction ``templates/prompts/gmner.jinja`` and the reasoning styles
  ``templates/mrsi/gmner/*.jinja`` (data, under ``templates/``);
* the CVO rewards that score its rows: ``rewards/`` (each declares its task:
  ``mcr.rewards.task_rewards("gmner")`` lists them).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from mcr.benchmarks.base import TrainingTask
from mcr.benchmarks.gmner import rows as gmner_rows
from mcr.benchmarks.gmner.predictions import read_gmner_predictions
from mcr.benchmarks.gmner.release import SPLITS, check_images, gmner_stats, load_twitter_gmner
from mcr.benchmarks.gmner.scorer import prediction_from_text, score_gmner
from mcr.benchmarks.reliance_inputs import entity_probe_rows, masked_tokens
from mcr.contract.matching import decode_gold, iou, normalize_span
from mcr.contract.parse import parse_completion
from mcr.data.schema import GMNER_TYPES, Record
from mcr.image_space import ImageSpace, unscale_box
from mcr.prompts import user_prompt


class GmnerBenchmark(TrainingTask):
    name = "gmner"
    synthesizes = True

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list[Record]:
        images = images if images is not None else Path(root) / "images"
        records = load_twitter_gmner(root, split, images=images)
        check_images(records, images)
        return records

    def rows(self, examples: Sequence[Record], space: ImageSpace) -> list[dict]:
        return gmner_rows.rows(examples, space)

    def sft_example(self, example: Record, style: str, space: ImageSpace) -> dict:
        return gmner_rows.sft_example(example, style, space)

    def score(self, examples: Sequence[Record], rows: Sequence[dict], completions: Sequence[str]) -> dict:
        predictions = {
            row["id"]: prediction_from_text(text, tuple(row["image_size"]), tuple(row["box_frame"]))
            for row, text in zip(rows, completions, strict=True)
        }
        return score_gmner(examples, predictions)

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(parsed.well_formed and parsed.entities is not None)

    # modality-reliance probes (mcr.benchmarks.reliance_inputs, eval/reliance.py)
    probes = ("blank_image", "swapped_image", "masked_text")

    def probe_rows(
        self, examples: Sequence[Record], rows: Sequence[dict], probe: str, space: ImageSpace
    ) -> list[dict]:
        by_id = {r.id: r for r in examples}

        def masked(row: dict) -> tuple[list, str]:
            record = by_id[row["id"]]
            text = masked_tokens(record.tokens, [(e.start, e.end) for e in record.entities])
            return user_prompt(self.name, text=text, box_format=space.box_wording), text

        return entity_probe_rows(rows, probe, masked)

    def box_overlay(self, row: dict, completion: str) -> dict[str, list[tuple[tuple, str, str]]]:
        """Gold and predicted boxes in the original image's pixels, to draw: ``(box, caption, kind)``,
        kind ``gold`` or, for a prediction, ``matched`` (its gold entity's box, IoU > 0.5),
        ``wrong`` (any other box) or ``unshown`` (boxed although gold says the image does not show it)."""
        size, frame = tuple(row["image_size"]), tuple(row.get("box_frame", row["input_size"]))
        golds = decode_gold(row["gold"])
        ground_truth = [
            (unscale_box(b, size, frame), f"{g.entity} ({g.type})", "gold") for g in golds for b in g.boxes
        ]
        predictions = []
        for e in prediction_from_text(completion, size, frame) or ():
            if e.bbox is None:
                continue
            same = [
                g for g in golds if normalize_span(g.entity) == normalize_span(e.entity) and g.type == e.type
            ]
            gold_boxes = [unscale_box(b, size, frame) for g in same for b in g.boxes]
            if same and not gold_boxes:
                kind = "unshown"
            else:
                kind = "matched" if any(iou(e.bbox, b) > 0.5 for b in gold_boxes) else "wrong"
            predictions.append((e.bbox, f"{e.entity} ({e.type})", kind))
        return {"ground_truth": ground_truth, "predictions": predictions}

    def answered(self, completion: str) -> list[tuple[str, str, bool]] | None:
        """(span, type, boxed) per answered entity, or None when the answer cannot be read."""
        entities = parse_completion(completion).entities
        if entities is None:
            return None
        return [(normalize_span(e.entity), e.type, e.bbox is not None) for e in entities]

    def headline(self, metrics: dict) -> dict[str, float]:
        return {
            "GMNER F1": metrics["gmner"]["f1"],
            "MNER F1": metrics["mner"]["f1"],
            "EEG F1": metrics["eeg"]["f1"],
        }

    # training data ----------------------------------------------------------------------
    def has_data(self, root: str | Path) -> bool:
        return (Path(root) / "txt").is_dir()

    def synthesize(
        self,
        root: str | Path,
        n: int,
        seed: int,
        *,
        images: str | Path | None = None,
        splits: tuple[float, float, float] = (0.8, 0.1, 0.1),
        layout: str = "free",
        factor: int = 28,
        colour_look_alikes: float = 0.0,
    ) -> Path:
        from mcr.benchmarks.gmner.synthetic import get_layout, write_synthetic_gmner

        dirname = "images" if images is None else os.path.relpath(images, root)
        drawn = get_layout(layout).scaled(factor)
        return write_synthetic_gmner(
            root,
            n,
            seed,
            splits=splits,
            images_dirname=dirname,
            layout=drawn,
            colour_look_alikes=colour_look_alikes,
            progress=False,
        )

    # the mcr command --------------------------------------------------------------------
    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "Twitter-GMNER: GMNER / MNER / EEG P/R/F1 and bias diagnostics"
        parser.add_argument("--gold-root", required=True, help="release root holding txt/ and xml/")
        parser.add_argument("--split", default="test", choices=SPLITS)
        parser.add_argument(
            "--pred",
            required=True,
            help="JSONL: {id, entities} or {id, prediction, image_size, box_frame} (the evaluation's own)",
        )

    def score_files(self, args: argparse.Namespace) -> dict:
        records = load_twitter_gmner(args.gold_root, args.split, types=None)
        gold = f"the {args.split} split of {args.gold_root}"
        return score_gmner(records, read_gmner_predictions(args.pred, {r.id for r in records}, gold))

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "Twitter-GMNER / Twitter-FMNERG release (txt + xml), from annotations alone"
        parser.add_argument("--root", required=True, help="release root holding txt/ and xml/")
        parser.add_argument("--split", default="test", choices=SPLITS)
        parser.add_argument(
            "--any-type", action="store_true", help="accept entity types beyond PER/LOC/ORG/OTHER"
        )

    def stats(self, args: argparse.Namespace) -> dict:
        return gmner_stats(
            load_twitter_gmner(args.root, args.split, types=None if args.any_type else GMNER_TYPES)
        )

    def synth_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "synthetic Twitter-GMNER in the release layout (txt/, xml/, images/)"
        parser.add_argument("--out", required=True)
        parser.add_argument("--n", type=int, required=True, help="number of posts (split 80/10/10)")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--image-size",
            type=image_size_arg,
            help="WIDTHxHEIGHT of every image, e.g. 640x480 (default: small sizes for CPU runs)",
        )
        parser.add_argument(
            "--layout",
            default="free",
            choices=("free", "grid"),
            help="where objects are drawn: free (four small sizes, anywhere) or grid (224x224, in cells "
            "of 2x2 visual tokens)",
        )
        parser.add_argument(
            "--colour-look-alikes",
            type=float,
            default=0.0,
            help="chance that an entity named but not shown gets a look-alike in its colour (another "
            "shape drawn in it), besides the look-alikes every entity may get (default 0)",
        )

    def synth(self, args: argparse.Namespace) -> dict:
        from mcr.benchmarks.gmner.synthetic import Layout, get_layout, write_synthetic_gmner

        layout = get_layout(args.layout)
        if args.image_size:
            if layout.cell:
                raise ValueError(
                    "--image-size draws objects anywhere: it does not combine with --layout grid"
                )
            layout = Layout("free", (args.image_size,))
        out = write_synthetic_gmner(
            args.out, args.n, args.seed, layout=layout, colour_look_alikes=args.colour_look_alikes
        )
        stats = {split: gmner_stats(load_twitter_gmner(out, split)) for split in SPLITS}
        return {"root": str(out), "images": str(out / "images"), "splits": stats}


def image_size_arg(value: str) -> tuple[int, int]:
    """``640x480`` -> (640, 480)."""
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 112 or int(height) < 112:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT of at least 112x112, got {value!r}")
    return int(width), int(height)


BENCHMARK = GmnerBenchmark()
