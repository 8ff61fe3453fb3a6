"""Pretraining the tiny base, stage by stage, resumably; and its model card.

A stage trains every weight (no LoRA) with TRL's ``SFTTrainer`` on a fresh stream of the
corpus (``mcr.pretrain.corpus``), loss on the answers only, and starts from the previous stage's
weights; the stages form a curriculum (one object per image first, up to four later). Each
stage saves checkpoints marked complete (``mcr.callbacks``) and resumes from the newest one; a
finished stage is not run again, so a run interrupted at any point continues where it stopped.
The probes (``mcr.pretrain.probes``) run on the untrained model and after every stage.
"""

from __future__ import annotations

import json
import logging
import platform
import random
import shutil
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import SEED_OFFSET, as_row, draw_example
from mcr.pretrain.probes import probe_set, run_probes
from mcr.tiny_model import TinySpec

logger = logging.getLogger(__name__)

TEXT_AND_VISION = {
    "post": 1.0, "repeat": 2.0, "names": 2.0, "colour": 1.0, "words": 1.0, "caption": 3.0, "point": 4.0,
}  # fmt: skip
# Copying first: a model trained on posts fits their phrasing long before it learns to copy (600
# steps of repeat/names alone: not one post copied); random words leave copying as the only way.
COPYING = {"words": 3.0, "repeat": 1.0, "names": 1.0}

# Rotary frequencies per pair of head dimensions (radians per position). Qwen2.5-VL's mrope gives
# a text position to every pair but an image's rows to pairs 4-9 and its columns to pairs 10-15.
# A geometric series cannot serve both with 16 pairs: at RoPE base 100 the columns turn by under
# half a radian across the image and the model learns rows but not columns (600 steps of
# pointing: centre errors x 70 / y 65 px; guessing the mean, 41 / 42); at base 5 every pair turns
# fast (17 / 18 px) but no pair stays still across a post, which matching a token by its content
# at any distance (copying) needs. Here rows and columns each get three fast pairs (16 / 20 px
# after 600 steps) and text keeps slow ones: 0.01 and 0.002 radians a token.
ROTARY_FREQUENCIES = (1.0, 0.5, 0.25, 0.125) + (1.5, 0.8, 0.4, 0.05, 0.01, 0.002) * 2

# The shipped base: the tiny model's language model with the rotary frequencies above and a
# four-block vision tower with full attention. The final-norm gain stays 16: with gain 1, 400
# steps of copying random words left token accuracy at 0.31-0.32 (either rotary set), with 16 at
# 0.48-0.50.
BASE_SPEC = TinySpec(
    rotary_frequencies=ROTARY_FREQUENCIES,
    vision_depth=4,
    vision_hidden_size=96,
    vision_intermediate_size=192,
    vision_heads=4,
    vision_full_attention=True,
)


@dataclass(frozen=True)
class Stage:
    name: str
    steps: int
    max_objects: int  # objects per image: 1 to this many
    learning_rate: float
    mix: dict[str, float] = field(default_factory=lambda: dict(TEXT_AND_VISION))


def default_schedule(scale: float = 1.0) -> list[Stage]:
    """The curriculum, ``scale`` times as long (a scale of 0.05 is the two-minute version)."""
    plan = [
        ("copying", 1200, 1, 2e-3, COPYING),
        ("one", 1500, 1, 2e-3, TEXT_AND_VISION),
        ("two", 800, 2, 2e-3, TEXT_AND_VISION),
        ("four", 600, 4, 1e-3, TEXT_AND_VISION),
        ("anneal", 200, 4, 3e-4, TEXT_AND_VISION),
    ]
    return [
        Stage(name, max(1, round(steps * scale)), objects, lr, dict(mix))
        for name, steps, objects, lr, mix in plan
    ]


def _stream(seed: int, mix: dict[str, float], max_objects: int, min_pixels: int, max_pixels: int):
    """An endless stream of rows; the seed includes where the stage resumed, so no row repeats."""
    rng, space = random.Random(SEED_OFFSET + seed), ImageSpace(min_pixels, max_pixels)
    while True:
        yield as_row(draw_example(rng, mix, max_objects, space))


def _resume_point(folder: Path) -> tuple[str | None, int]:
    from mcr.callbacks import complete_checkpoints

    complete = complete_checkpoints(folder)
    if not complete:
        return None, 0
    state = json.loads((complete[-1] / "trainer_state.json").read_text())
    return str(complete[-1]), int(state["global_step"])


def _probe_callback(probes: dict, every: int, curve: list, offset: int):
    """Probe the model in training every ``every`` steps; points go to ``curve`` as (step, probes)."""
    from transformers import TrainerCallback

    class ProbeCallback(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
            if every and state.global_step % every == 0 and state.global_step < state.max_steps:
                model.eval()
                found = run_probes(model, processing_class, probes)
                model.train()
                curve.append((offset + state.global_step, {k: round(v, 4) for k, v in found.items()}))
                logger.info("step %d: %s", offset + state.global_step, curve[-1][1])

    return ProbeCallback()


def train_stage(
    stage: Stage,
    start: Path,
    folder: Path,
    *,
    seed: int,
    batch_size: int,
    space: ImageSpace,
    report_to: str,
    probes: dict | None = None,
    probe_every: int = 0,
    curve: list | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Train one stage from the weights at ``start``; its weights end in ``folder/final``. With
    ``probe_every``, the probes run every that many steps, their points appended to ``curve``."""
    import datasets
    from transformers import AutoProcessor
    from trl import SFTConfig, SFTTrainer

    from mcr.callbacks import CompleteCheckpointCallback

    checkpoint, done = _resume_point(folder)
    if checkpoint:
        logger.info("stage %s resumes from %s (step %d)", stage.name, checkpoint, done)
    stream = datasets.IterableDataset.from_generator(
        _stream,
        gen_kwargs={
            "seed": seed * 1_000_003 + zlib.crc32(stage.name.encode()) % 9973 + done,
            "mix": dict(stage.mix),
            "max_objects": stage.max_objects,
            "min_pixels": space.min_pixels,
            "max_pixels": space.max_pixels,
        },
    )
    args = SFTConfig(
        output_dir=str(folder),
        max_steps=stage.steps,
        per_device_train_batch_size=batch_size,
        learning_rate=stage.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=min(200, stage.steps // 10),
        weight_decay=0.01,
        logging_steps=max(1, min(50, stage.steps // 10)),
        save_strategy="steps",
        save_steps=max(1, min(500, stage.steps // 2)),
        save_total_limit=2,
        report_to=report_to,
        seed=seed,
        ignore_data_skip=True,  # a resumed stage reads a fresh stream instead of replaying the old one
        dataloader_num_workers=0,
        max_length=None,
        use_cpu=True,
    )
    processor = AutoProcessor.from_pretrained(start, padding_side="left")
    trainer = SFTTrainer(model=str(start), args=args, train_dataset=stream, processing_class=processor)
    trainer.add_callback(CompleteCheckpointCallback())
    if probe_every and probes is not None and curve is not None:
        trainer.add_callback(_probe_callback(probes, probe_every, curve, offset))
    trainer.train(resume_from_checkpoint=checkpoint)
    trainer.save_model(folder / "final")
    processor.save_pretrained(folder / "final")
    return trainer.state.log_history


def _probes(path: Path, probes: dict, space: ImageSpace) -> dict[str, float]:
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(path, padding_side="left")
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    return {k: round(v, 4) for k, v in run_probes(model, processor, probes).items()}


def pretrain_tiny(
    out: str | Path,
    *,
    seed: int = 0,
    spec: TinySpec | None = None,
    stages: list[Stage] | None = None,
    batch_size: int = 16,
    probe_examples: int = 64,
    probe_every: int = 0,
    report_to: str = "none",
    command: str = "",
) -> dict[str, Any]:
    """Pretrain the tiny base into ``out`` (weights, processor, ``model_card.json``, ``README.md``);
    the work (stages, checkpoints) stays in ``<out>/../<out name>-work`` so ``out`` holds only
    what ships."""
    from mcr.tiny_model import build_tiny_model

    out = Path(out)
    spec = spec or BASE_SPEC
    stages = stages or default_schedule()
    space = ImageSpace(spec.min_pixels, spec.max_pixels)
    work = out.parent / f"{out.name}-work"
    log_file = work / "pretrain_log.json"
    record = json.loads(log_file.read_text()) if log_file.is_file() else {"stages": {}, "seconds": 0.0}
    probes = probe_set(probe_examples, space)
    init = work / "init"
    if not (init / "config.json").is_file():
        build_tiny_model(init, seed=seed, spec=spec)
    if "untrained" not in record:
        record["untrained"] = _probes(init, probes, space)
        _save(log_file, record)
    start, offset = init, 0
    for stage in stages:
        folder = work / stage.name
        if stage.name not in record["stages"]:
            began, curve = time.perf_counter(), []
            history = train_stage(
                stage,
                start,
                folder,
                seed=seed,
                batch_size=batch_size,
                space=space,
                report_to=report_to,
                probes=probes,
                probe_every=probe_every,
                curve=curve,
                offset=offset,
            )
            record["stages"][stage.name] = {
                "curve": curve,
                "stage": asdict(stage),
                "seconds": round(time.perf_counter() - began, 1),
                "loss": [(h["step"], round(h["loss"], 4)) for h in history if "loss" in h],
                "probes": _probes(folder / "final", probes, space),
            }
            record["seconds"] += record["stages"][stage.name]["seconds"]
            _save(log_file, record)
            logger.info("stage %s: %s", stage.name, record["stages"][stage.name]["probes"])
        start, offset = folder / "final", offset + stage.steps
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(start, out, ignore=shutil.ignore_patterns("training_args.bin"))
    card = {
        "command": command,
        "seed": seed,
        "spec": asdict(spec),
        "batch_size": batch_size,
        "machine": _machine(),
        **record,
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2))
    (out / "README.md").write_text(model_card(card))
    return card


def _machine() -> str:
    """The CPU's model name and core count (Linux), else the architecture."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.is_file() else [])
        if line.startswith("model name")
    ]
    return f"{names[0]}, {len(names)} cores" if names else platform.machine()


def _save(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))


def model_card(card: dict[str, Any]) -> str:
    """The shipped base's card: how it was made, its loss curve and its skill probes."""
    names = ["copy", "names", "copy_new", "names_new", "colour_shape", "box_iou50", "point_iou50"]
    rows = [("untrained", card["untrained"])] + [(name, s["probes"]) for name, s in card["stages"].items()]
    steps = sum(s["stage"]["steps"] for s in card["stages"].values())
    lines = [
        "# The tiny base: a Qwen2.5-VL-architecture model pretrained on unimodal skills",
        "",
        f"Made by `{card['command']}` (seed {card['seed']}, batch {card['batch_size']}, {steps} steps, "
        f"{card['seconds'] / 3600:.1f} h on {card['machine'] or 'a CPU'}).",
        "It reads and copies synthetic posts and describes images of coloured shapes with boxes in "
        "its own pixel frame (`mcr.pretrain.corpus`); it has never seen the GMNER or MATE answer "
        "format, a reasoning style, an entity type, or a post with its image.",
        "",
        "## Stages",
        "",
        "| stage | steps | objects per image | learning rate | minutes |",
        "|---|---|---|---|---|",
        *[
            f"| {name} | {s['stage']['steps']} | 1-{s['stage']['max_objects']} | "
            f"{s['stage']['learning_rate']:g} | {s['seconds'] / 60:.1f} |"
            for name, s in card["stages"].items()
        ],
        "",
        "## Skill probes (held-out, greedy)",
        "",
        "| after | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        *[f"| {label} | " + " | ".join(f"{p[n]:.2f}" for n in names) + " |" for label, p in rows],
        "",
        "copy: posts repeated exactly; names: name lists exact; copy_new, names_new: the same on posts "
        "whose names are made up (copied, never recalled); colour_shape: drawn objects named with "
        "their colour and shape; box_iou50: drawn objects named with a box of IoU > 0.5; point_iou50: "
        "pointing questions answered with IoU > 0.5.",
        "",
        "## Loss (training loss on answers, by stage and step)",
        "",
        *[
            f"- {name}: "
            + ", ".join(f"{step}: {loss:.3f}" for step, loss in s["loss"][:: max(1, len(s["loss"]) // 12)])
            for name, s in card["stages"].items()
        ],
    ]
    return "\n".join(lines) + "\n"
