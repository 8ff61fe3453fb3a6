"""Pretraining the tiny base, stage by stage, resumably; and its model card.

A stage trains every weight (no LoRA) with TRL's ``SFTTrainer`` on a fresh stream of the
corpus (``mcr.pretrain.corpus``), loss on the answers only, and starts from the previous stage's
weights; the stages form a curriculum (one object per image first, up to four later). Each
stage saves checkpoints marked complete (``mcr.callbacks``) and resumes from the newest one; a
finished stage is not run again, so a run interrupted at any point continues where it stopped.
The probes (``mcr.pretrain.probes``) run on the untrained model and after every stage.

A base can also be continued (``base=``): its card's stages and probes are kept, the new stages
train from its weights, and the card records which command and machine made each stage. On a
GPU the stages train there, their data drawn by ``workers`` dataloader processes.
"""

from __future__ import annotations

import json
import logging
import platform
import random
import shutil
import time
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from mcr.benchmarks.gmner.synthetic import LAYOUTS, Layout
from mcr.families import PIXELS, get_family
from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import SCENE_TASKS, SEED_OFFSET, as_row, draw_example
from mcr.pretrain.probes import PROBE_NAMES, probe_set, run_probes
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
    layout: Layout = LAYOUTS["free"]  # where its images draw objects (before the family's scaling)
    # batches of the run's batch size per optimizer step: dense recall is learned at 128 rows a
    # step, not at 16 (docs/results/localisation.md, finding 9), which a CPU reaches this way
    accumulation: int = 1
    # transformers' scheduler name: the dense recall was learned at a constant learning rate
    lr_schedule: str = "cosine"


# Continuing the base for grounding: boxes are its weakest skill (IoU > 0.5 for 7% of objects
# after the default schedule, whose vision stages ran 3,100 steps of batch 16), and in the
# issue's measurements their share kept rising with steps. Text tasks stay in the mix so that
# copying is not forgotten.
GROUNDING = {**TEXT_AND_VISION, "caption": 4.0, "point": 6.0}


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


def grounding_schedule(scale: float = 1.0) -> list[Stage]:
    """One long stage of mostly captions and pointing on up to four objects, ``scale`` times
    6,000 steps, its learning rate decaying to zero (a continuation: ``pretrain_tiny(base=...)``)."""
    return [Stage("ground", max(1, round(6000 * scale)), 4, 1.5e-3, dict(GROUNDING))]


# Continuing the base on images like the task's: its pointing carried over to the task's images
# poorly (IoU > 0.5 for 9% of a test split's shown entities against 19-25% on its own scenes of
# 1-4 distinct looks) and it never answered "nowhere" there. Half the vision rows draw scenes as
# the GMNER generator does (look-alikes, distractors, named looks not drawn, often 5-9 objects).
SCENES = {**TEXT_AND_VISION, "caption": 2.0, "point": 2.0, "scene_caption": 3.0, "scene_point": 6.0}


def scenes_schedule(scale: float = 1.0) -> list[Stage]:
    """One stage of ``scale`` times 6,000 steps, half its vision rows on task-like scenes, its
    learning rate decaying to zero (a continuation: ``pretrain_tiny(base=...)``)."""
    return [Stage("scenes", max(1, round(6000 * scale)), 4, 1e-3, dict(SCENES))]


# The recall first (docs/results/localisation.md, findings 9-12): the tiny model binds a named
# colour to its shape only when every look of a row asks for it, at 128 rows a step, and in the
# order words, then images, then the tasks that use the binding (mixed in from the start, the
# dense rows lose to the shortcuts). The curriculum follows with recall rows kept in its mix, and
# every image is drawn on the grid (finding 1: objects in cells of 2x2 visual tokens are located,
# objects anywhere are not). Start it from mimetic attention (``--spec mimetic_attention=4``).
# The words' recall comes in the plain form first ("blue square"), at a constant 1e-3: in "blue is
# square" at 2e-3 along a cosine, 800 steps of batch 128 from mimetic attention copied every asked
# colour and gave one listed shape for all of them (0.59, the best answer without the join); the
# plain form at the constant rate reached 1.00 in 800 (which of the two changes did it is not
# separated: docs/results/pretraining.md).
RECALL_WORDS = {"look_shapes": 1.0}
RECALL_SCENES = {"look_shapes": 0.5, "look_recall": 1.0, "scene_recall": 3.0}
KEEP_RECALL = {"look_recall": 0.5, "scene_recall": 1.0}
GRID = LAYOUTS["grid"]


def recall_schedule(scale: float = 1.0) -> list[Stage]:
    """The recall in words and on task-like scenes at 128 rows a step (16 x 8 accumulated at the
    default batch) and a constant learning rate, then the curriculum and a stage of task-like
    scenes, all on the grid."""
    dense = (8, "constant_with_warmup")  # accumulation and learning-rate schedule
    plan = [
        ("recall_words", 800, 1, 1e-3, RECALL_WORDS, dense),
        ("recall_scenes", 600, 4, 1e-3, RECALL_SCENES, dense),
        ("copying", 1200, 1, 2e-3, {**COPYING, **KEEP_RECALL}, (1, "cosine")),
        ("one", 1500, 1, 2e-3, {**TEXT_AND_VISION, **KEEP_RECALL}, (1, "cosine")),
        ("two", 800, 2, 2e-3, {**TEXT_AND_VISION, **KEEP_RECALL}, (1, "cosine")),
        ("four", 600, 4, 1e-3, {**TEXT_AND_VISION, **KEEP_RECALL}, (1, "cosine")),
        ("scenes", 1000, 4, 1e-3, {**SCENES, **KEEP_RECALL}, (1, "cosine")),
    ]
    return [
        Stage(name, max(1, round(steps * scale)), objects, lr, dict(mix), GRID, accumulation, schedule)
        for name, steps, objects, lr, mix, (accumulation, schedule) in plan
    ]


# Continuing the recall-first base with the comparison after the recall (findings 14 and 17 of
# docs/results/localisation.md): SFT's verdicts call a look shown whenever its colour is drawn,
# right for 84% of the task's lines, and more look-alikes in SFT's data did not teach the rest.
# The checks are asked densely first (every look of a row needs the comparison or the recall, 128
# rows a step, as the recall was learned), then kept in the mix of the base's last stage.
CHECKS_DENSE = {"look_checks": 1.0, "scene_checks": 3.0, **KEEP_RECALL}
CHECKS_KEPT = {**SCENES, **KEEP_RECALL, "look_checks": 0.5, "scene_checks": 1.0}
# the recall task of each check's world (words or a scene): the control's row in its place
RECALL_OF_CHECK = {"look_checks": "look_recall", "scene_checks": "scene_recall"}
# each check task's twin whose verdicts are MRSI's words after "so" ("shown" / "not shown")
SHOWN_OF_CHECK = {"look_checks": "look_checks_shown", "scene_checks": "scene_checks_shown"}


def checks_as_recall(mix: dict[str, float]) -> dict[str, float]:
    """``mix`` with each check task's weight moved onto the recall task of its world."""
    moved = {task: weight for task, weight in mix.items() if task not in RECALL_OF_CHECK}
    for check, recall in RECALL_OF_CHECK.items():
        moved[recall] = moved.get(recall, 0.0) + mix.get(check, 0.0)
    return moved


def checks_in_shown_words(mix: dict[str, float]) -> dict[str, float]:
    """``mix`` with each check task replaced by its twin that says "shown" / "not shown"."""
    return {SHOWN_OF_CHECK.get(task, task): weight for task, weight in mix.items()}


def checks_schedule(scale: float = 1.0, checks: bool = True, shown_words: bool = False) -> list[Stage]:
    """``scale`` times 300 steps of 128 rows (16 x 8 accumulated at the default batch) mostly of
    checks at a constant learning rate, then 600 of 16 rows with the base's last mix and the checks
    kept, decaying to zero, on the grid (a continuation: ``pretrain_tiny(base=...)``). Without
    ``checks``, the control: every check row a recall row instead; with ``shown_words``, the same
    rows with verdicts in the words SFT's verdicts use after "so" instead of "yes" / "no"."""
    convert = checks_as_recall if not checks else checks_in_shown_words if shown_words else dict
    dense, kept = convert(CHECKS_DENSE), convert(CHECKS_KEPT)
    names = ("checks", "checks_kept") if checks else ("recall_again", "recall_kept")
    return [
        Stage(names[0], max(1, round(300 * scale)), 4, 1e-3, dense, GRID, 8, "constant_with_warmup"),
        Stage(names[1], max(1, round(600 * scale)), 4, 1e-3, kept, GRID),
    ]


SCHEDULES = {
    "default": default_schedule,
    "grounding": grounding_schedule,
    "scenes": scenes_schedule,
    "recall": recall_schedule,
    "checks": checks_schedule,
    "checks_control": lambda scale=1.0: checks_schedule(scale, checks=False),
    "checks_shown": lambda scale=1.0: checks_schedule(scale, shown_words=True),
}

# shard k of a stage's stream draws from the stage's seed plus k times this (shard 0: the seed)
SHARD_STRIDE = 104_729


def _stream(
    seeds: list[int],
    mix: dict[str, float],
    max_objects: int,
    min_pixels: int,
    max_pixels: int,
    factor: int = 28,
    box_convention: str = PIXELS,
    layout: Layout = LAYOUTS["free"],
):
    """An endless stream of rows, taking turns between one generator per seed (a dataloader
    worker reads its own share of the seeds); the seeds include where the stage resumed, so no
    row repeats."""
    rngs = [random.Random(SEED_OFFSET + seed) for seed in seeds]
    space = ImageSpace(min_pixels, max_pixels, factor, box_convention)
    drawn = layout.scaled(factor)
    while True:
        for rng in rngs:
            yield as_row(draw_example(rng, mix, max_objects, space, layout=drawn))


def _resume_point(folder: Path) -> tuple[str | None, int]:
    from mcr.callbacks import complete_checkpoints

    complete = complete_checkpoints(folder)
    if not complete:
        return None, 0
    state = json.loads((complete[-1] / "trainer_state.json").read_text())
    return str(complete[-1]), int(state["global_step"])


def _probe_batch() -> int:
    """Probe generation's batch: larger on a GPU, where a batch costs about what one row does."""
    import torch

    return 64 if torch.cuda.is_available() else 16


def _probe_callback(probes: dict, every: int, curve: list, offset: int):
    """Probe the model in training every ``every`` steps; points go to ``curve`` as (step, probes)."""
    from transformers import TrainerCallback

    class ProbeCallback(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
            if every and state.global_step % every == 0 and state.global_step < state.max_steps:
                model.eval()
                found = run_probes(model, processing_class, probes, batch_size=_probe_batch())
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
    workers: int = 0,
) -> list[dict[str, Any]]:
    """Train one stage from the weights at ``start``; its weights end in ``folder/final``. With
    ``probe_every``, the probes run every that many steps, their points appended to ``curve``.
    On a GPU when there is one; ``workers`` dataloader processes draw the rows (0: this one)."""
    import datasets
    import torch
    from transformers import AutoProcessor
    from trl import SFTConfig, SFTTrainer

    from mcr.callbacks import CompleteCheckpointCallback
    from mcr.training import on_cpu_defaults

    checkpoint, done = _resume_point(folder)
    if checkpoint:
        logger.info("stage %s resumes from %s (step %d)", stage.name, checkpoint, done)
    first = seed * 1_000_003 + zlib.crc32(stage.name.encode()) % 9973 + done
    stream = datasets.IterableDataset.from_generator(
        _stream,
        gen_kwargs={  # a list is split into shards, one per worker
            "seeds": [first + k * SHARD_STRIDE for k in range(max(1, workers))],
            "mix": dict(stage.mix),
            "max_objects": stage.max_objects,
            "min_pixels": space.min_pixels,
            "max_pixels": space.max_pixels,
            "factor": space.factor,
            "box_convention": space.box_convention,
            "layout": stage.layout,
        },
    )
    args = SFTConfig(
        **on_cpu_defaults({"use_cpu": not torch.cuda.is_available()}),
        output_dir=str(folder),
        max_steps=stage.steps,
        per_device_train_batch_size=batch_size,
        gradient_accumulation_steps=stage.accumulation,
        learning_rate=stage.learning_rate,
        lr_scheduler_type=stage.lr_schedule,
        warmup_steps=min(200, stage.steps // 10),
        weight_decay=0.01,
        logging_steps=max(1, min(50, stage.steps // 10)),
        save_strategy="steps",
        save_steps=max(1, min(500, stage.steps // 2)),
        save_total_limit=2,
        report_to=report_to,
        seed=seed,
        ignore_data_skip=True,  # a resumed stage reads a fresh stream instead of replaying the old one
        dataloader_num_workers=workers,
        max_length=None,
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


def spec_space(spec: TinySpec) -> ImageSpace:
    """The image space a tiny model of ``spec`` sees: its pixel bounds, its family's resize factor
    and box convention."""
    return ImageSpace.of(get_family(spec.family), spec.min_pixels, spec.max_pixels)


def _probes(path: Path, probes: dict, space: ImageSpace) -> dict[str, float]:
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(path, padding_side="left")
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    if torch.cuda.is_available():
        model = model.to("cuda")
    found = run_probes(model, processor, probes, batch_size=_probe_batch())
    return {k: round(v, 4) for k, v in found.items()}


def _device() -> str:
    """Where training runs: the GPU's name, else the CPU's."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else machine_name()


def _renamed(stages: list[Stage], taken: list[str]) -> list[Stage]:
    """The stages, each whose name the base's card already has suffixed -2, -3, ... (so that a
    base continued with the same schedule twice keeps both stages; the names, and so the data
    drawn, depend on the base alone, which keeps a resumed continuation the same)."""
    named = []
    for stage in stages:
        name, k = stage.name, 2
        while name in taken or name in {s.name for s in named}:
            name, k = f"{stage.name}-{k}", k + 1
        named.append(replace(stage, name=name))
    return named


def _continued(base: Path, card: dict[str, Any], init: Path) -> dict[str, Any]:
    """The record of a base to continue, from its ``card`` (its stages, probes and time, each
    stage naming the command and machine that made it), its weights copied to ``init``."""
    made = {"command": card["command"], "machine": card["machine"], "batch_size": card["batch_size"]}
    stages = {name: {**made, **stage} for name, stage in card["stages"].items()}
    shutil.copytree(base, init, ignore=shutil.ignore_patterns("model_card.json", "README.md"))
    return {
        "stages": stages,
        "inherited": list(stages),
        "seconds": card["seconds"],
        "untrained": card["untrained"],
    }


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
    base: str | Path | None = None,
    workers: int = 0,
) -> dict[str, Any]:
    """Pretrain the tiny base into ``out`` (weights, processor, ``model_card.json``, ``README.md``);
    the work (stages, checkpoints) stays in ``<out>/../<out name>-work`` so ``out`` holds only
    what ships. With ``base``, continue that pretrained base with ``stages`` instead of starting
    from random weights (``spec`` is then the base's)."""
    from mcr.tiny_model import build_tiny_model

    out = Path(out)
    stages = stages or default_schedule()
    work = out.parent / f"{out.name}-work"
    log_file = work / "pretrain_log.json"
    record = json.loads(log_file.read_text()) if log_file.is_file() else {"stages": {}, "seconds": 0.0}
    init = work / "init"
    if base is not None:
        base = Path(base)
        base_card = json.loads((base / "model_card.json").read_text())
        spec = TinySpec(**base_card["spec"])
        if not (init / "config.json").is_file():
            if init.exists():
                shutil.rmtree(init)
            record = _continued(base, base_card, init)
            _save(log_file, record)
        stages = _renamed(stages, record["inherited"])
    spec = spec or BASE_SPEC
    space = spec_space(spec)
    probe_sets: dict[str, dict] = {}  # by layout name

    def probes_for(layout: Layout) -> dict:  # held-out examples in a stage's world, drawn once
        if layout.name not in probe_sets:
            probe_sets[layout.name] = probe_set(probe_examples, space, layout=layout.scaled(space.factor))
        return probe_sets[layout.name]

    if not (init / "config.json").is_file():
        build_tiny_model(init, seed=seed, spec=spec)
    if "untrained" not in record:
        record["untrained"] = _probes(init, probes_for(stages[0].layout), space)
        _save(log_file, record)
    inherited = record.get("inherited", [])
    start, offset = init, sum(record["stages"][name]["stage"]["steps"] for name in inherited)
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
                probes=probes_for(stage.layout),
                probe_every=probe_every,
                curve=curve,
                offset=offset,
                workers=workers,
            )
            record["stages"][stage.name] = {
                "command": command,
                "machine": _device(),
                "batch_size": batch_size,
                "curve": curve,
                "stage": asdict(stage),
                "seconds": round(time.perf_counter() - began, 1),
                "loss": [(h["step"], round(h["loss"], 4)) for h in history if "loss" in h],
                "probes": _probes(folder / "final", probes_for(stage.layout), space),
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
        "machine": _device(),
        **record,
    }
    (out / "model_card.json").write_text(json.dumps(card, indent=2))
    (out / "README.md").write_text(model_card(card))
    return card


def machine_name() -> str:
    """The CPU's model name, widest vector extension and core count (Linux), else the architecture:
    two CPUs of one model name may differ in AVX-512, and with it in their numerical path."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    if not names:
        return platform.machine()
    flags = next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), [])
    vector = " with AVX-512" if "avx512f" in flags else " (AVX2 only)" if "avx2" in flags else ""
    return f"{names[0]}{vector}, {len(names)} cores"


def _save(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2))


def _made_by(card: dict[str, Any]) -> list[str]:
    """One line per command that trained stages of the base: its stages, steps, batch, time, machine."""
    runs: dict[str, list[tuple[str, dict]]] = {}
    for name, stage in card["stages"].items():
        runs.setdefault(stage.get("command", card["command"]), []).append((name, stage))
    lines = []
    for command, stages in runs.items():
        steps = sum(s["stage"]["steps"] for _, s in stages)
        machines = sorted({s.get("machine", card["machine"]) or "a CPU" for _, s in stages})
        batches = sorted(
            {s.get("batch_size", card["batch_size"]) * s["stage"].get("accumulation", 1) for _, s in stages}
        )
        hours = sum(s["seconds"] for _, s in stages) / 3600
        lines.append(
            f"- `{command}`: {', '.join(n for n, _ in stages)} ({steps} steps of batch "
            f"{'/'.join(map(str, batches))}, {hours:.2f} h on {', '.join(machines)})"
        )
    return lines


def pointing_row(label: str, r: dict[str, Any]) -> str:
    """One row of a pointing table (``bench/base_pointing.py``'s figures): shown, IoU > 0.5,
    "nowhere" when shown, not shown, "nowhere" when not shown."""
    return (
        f"| {label} | {r['shown']} | {100 * r['iou50_shown']:.1f}% | {100 * r['nowhere_shown']:.1f}% | "
        f"{r['absent']} | {100 * r['nowhere_absent']:.1f}% |"
    )


def _task_pointing(card: dict[str, Any]) -> list[str]:
    """The card's section on the task's test entities (``bench/base_pointing.py --card``), if measured."""
    measured = card.get("task_pointing")
    if not measured:
        return []
    lines = [
        "## Pointing at the task's test entities",
        "",
        "Each gold entity of the default recipe's held-out test posts asked the base's own pointing "
        'question, "Where is the <colour> <shape>?" (the colour the post mentions, the shape its type '
        "is drawn as: the binding GMNER leaves to the model, given here), greedy:",
        "",
        '| asked | shown | IoU > 0.5 | "nowhere" when shown | not shown | "nowhere" when not shown |',
        "|---|---|---|---|---|---|",
    ]
    lines += [pointing_row(form, r) for form, r in measured.items()]
    lines += ["", *(f"- {form}: `{r['command']}` on {r['machine']}" for form, r in measured.items()), ""]
    return lines


def _and_scenes(mix: dict[str, float]) -> str:
    return ", and task-like scenes" if any(task in mix for task in SCENE_TASKS) else ""


def _schedule_note(stage: dict[str, Any]) -> str:
    """How a stage's learning rate moved, where it did not decay along a cosine (the default)."""
    schedule = stage.get("lr_schedule", "cosine")
    return "" if schedule == "cosine" else f" ({schedule.replace('_', ' ')})"


def model_card(card: dict[str, Any]) -> str:
    """The shipped base's card: how it was made, its loss curve and its skill probes."""
    names = PROBE_NAMES

    def cells(probes: dict[str, float]) -> str:
        # "-": a probe added after that stage was measured
        return " | ".join(f"{probes[n]:.2f}" if n in probes else "-" for n in names)

    rows = [("untrained", card["untrained"])] + [(name, s["probes"]) for name, s in card["stages"].items()]
    lines = [
        "# The tiny base: a Qwen2.5-VL-architecture model pretrained on unimodal skills",
        "",
        f"Made with seed {card['seed']} by",
        "",
        *_made_by(card),
        "",
        "It reads and copies synthetic posts and describes images of coloured shapes with boxes in "
        "its own pixel frame (`mcr.pretrain.corpus`); it has never seen the GMNER or MATE answer "
        "format, a reasoning style, an entity type, or a post with its image.",
        "",
        "## Stages",
        "",
        "| stage | steps | batch | objects per image | learning rate | minutes |",
        "|---|---|---|---|---|---|",
        *[
            f"| {name} | {s['stage']['steps']} | "
            f"{s.get('batch_size', card['batch_size']) * s['stage'].get('accumulation', 1)} | "
            f"1-{s['stage']['max_objects']}{_and_scenes(s['stage']['mix'])} | "
            f"{s['stage']['learning_rate']:g}{_schedule_note(s['stage'])} | {s['seconds'] / 60:.1f} |"
            for name, s in card["stages"].items()
        ],
        "",
        "## Skill probes (held-out, greedy)",
        "",
        "| after | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        *[f"| {label} | {cells(p)} |" for label, p in rows],
        "",
        "copy: posts repeated exactly; names: name lists exact; copy_new, names_new: the same on posts "
        "whose names are made up (copied, never recalled); colour_shape: drawn objects named with "
        "their colour and shape; box_iou50: drawn objects named with a box of IoU > 0.5; point_iou50: "
        "pointing questions answered with IoU > 0.5; point_absent: pointing questions about a look the "
        'image lacks answered "nowhere"; scene_point_iou50, scene_absent: the same two on images drawn '
        "as the task's, with look-alikes (-: not yet probed when that stage ran).",
        "",
        *_task_pointing(card),
        "## Learning curve (probes during a stage, by step from the first stage's start)",
        "",
        "| step | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
        *[f"| {step} | {cells(p)} |" for s in card["stages"].values() for step, p in s["curve"]],
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
