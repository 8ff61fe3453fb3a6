"""MATE (Alonso et al., ACL 2025): cross-modal entity linking over a scene's image and its text.

Everything about MATE, from here:

* instances from its JSONL form or the Hugging Face parquet export, stats: ``data.py``;
* a synthetic set with MATE's cross-modal isolation: ``synthetic.py``;
* rows and MRSI's style context: ``rows.py``;
* the official exact-match rule and its breakdowns: ``scorer.py``;
* the instruction ``templates/prompts/mate.jinja`` and the reasoning styles
  ``templates/mrsi/mate/*.jinja``; the rewards that score its rows: ``format`` and ``mate``
  in ``rewards/`` (each declares its task: ``mcr.rewards.task_rewards("mate")`` lists them).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from mcr.benchmarks.base import TrainingTask
from mcr.benchmarks.mate import rows as mate_rows
from mcr.benchmarks.mate.data import MateInstance, load_mate, load_mate_split
from mcr.benchmarks.mate.scorer import score_mate
from mcr.benchmarks.reliance_inputs import blank_images
from mcr.contract.parse import parse_completion
from mcr.data.predictions import raw_outputs
from mcr.image_space import ImageSpace
from mcr.prompts import user_prompt

SPLITS = ("train", "dev", "test")


def mate_stats(instances: Sequence[MateInstance]) -> dict:
    return {
        "instances": len(instances),
        "tasks": dict(sorted(Counter(i.task for i in instances).items())),
        "object_counts": dict(sorted(Counter(i.object_count for i in instances).items())),
        "pairs": dict(
            sorted(Counter(f"{i.pointer_attribute}->{i.target_attribute}" for i in instances).items())
        ),
    }


class MateBenchmark(TrainingTask):
    name = "mate"
    synthesizes = True

    def load(self, root: str | Path, split: str, images: str | Path | None = None) -> list[MateInstance]:
        return load_mate_split(root, split, images=images)

    def rows(self, examples: Sequence[MateInstance], space: ImageSpace) -> list[dict]:
        return mate_rows.rows(examples, space)

    def sft_example(self, example: MateInstance, style: str, space: ImageSpace) -> dict:
        return mate_rows.sft_example(example, style, space)

    def score(
        self, examples: Sequence[MateInstance], rows: Sequence[dict], completions: Sequence[str]
    ) -> dict:
        return score_mate(examples, {row["id"]: text for row, text in zip(rows, completions, strict=True)})

    def format_score(self, completion: str) -> float:
        parsed = parse_completion(completion)
        return float(
            parsed.well_formed and isinstance(parsed.answer, dict) and set(parsed.answer) == {"answer"}
        )

    # modality-reliance probes, after MATE's cross-modal split: take away the modality that holds
    # the question's pointer, or the one that holds its target (blank image, or empty scene)
    probes = ("no_pointer", "no_target")

    def probe_rows(
        self, examples: Sequence[MateInstance], rows: Sequence[dict], probe: str, space: ImageSpace
    ) -> list[dict]:
        if probe not in self.probes:
            raise ValueError(f"MATE has no probe {probe!r}; its probes: {self.probes}")
        by_id = {i.id: i for i in examples}
        out = []
        for row in rows:
            inst = by_id[row["id"]]
            attribute = inst.pointer_attribute if probe == "no_pointer" else inst.target_attribute
            if attribute in mate_rows.VISUAL:
                (blank,) = blank_images([row])
                out.append(blank)
            else:
                scene = json.dumps({"objects": []})
                prompt = user_prompt(self.name, scene=scene, question=inst.question)
                out.append({**row, "prompt": prompt, "text": f"{scene}\n{inst.question}"})
        return out

    def headline(self, metrics: dict) -> dict[str, float]:
        return {"accuracy": metrics["accuracy"]}

    # training data ----------------------------------------------------------------------
    def has_data(self, root: str | Path) -> bool:
        return (Path(root) / "train.jsonl").is_file()

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
        from mcr.benchmarks.mate.synthetic import write_synthetic_mate

        if layout != "free":
            raise ValueError(
                f"data.synth.layout={layout!r}: synthetic MATE scenes have one layout of their own"
            )
        if colour_look_alikes:
            raise ValueError(
                f"data.synth.colour_look_alikes={colour_look_alikes}: synthetic MATE names no "
                "entities to draw look-alikes of"
            )
        return write_synthetic_mate(root, n, seed, splits=splits, progress=False)

    # the mcr command --------------------------------------------------------------------
    def score_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MATE exact match: accuracy overall, by task, object count, pair"
        parser.add_argument("--gold", required=True, help="MATE instances as JSONL (public fields, with id)")
        parser.add_argument("--pred", required=True, help="JSONL: {id, prediction}")

    def score_files(self, args: argparse.Namespace) -> dict:
        instances = load_mate(args.gold, require_images=False)
        return score_mate(instances, raw_outputs(args.pred, {i.id for i in instances}, args.gold))

    def stats_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "MATE (JSONL, or the parquet export): tasks, object counts, attribute pairs"
        parser.add_argument("--file", required=True, help="a file, or an export folder (with --split)")
        parser.add_argument("--split", default="cross_modal", help="split of an export folder")

    def stats(self, args: argparse.Namespace) -> dict:
        return mate_stats(load_mate_split(args.file, args.split, require_images=False))

    def synth_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.description = "synthetic MATE (<split>.jsonl in MATE's fields, images/)"
        parser.add_argument("--out", required=True)
        parser.add_argument("--n", type=int, required=True, help="number of instances (split 80/10/10)")
        parser.add_argument("--seed", type=int, default=0)

    def synth(self, args: argparse.Namespace) -> dict:
        out = self.synthesize(args.out, args.n, args.seed)
        return {"root": str(out), "splits": {s: len(load_mate(out / f"{s}.jsonl")) for s in SPLITS}}


BENCHMARK = MateBenchmark()
