"""Controlled runs on what blocks localisation in the tiny model: one variable changed at a time.

    python bench/localisation.py free4 grid                  # from random init, 800 steps each
    python bench/localisation.py grid --from mcr:tiny-base    # continuing a pretrained base instead
    python bench/localisation.py grid --from outputs/localisation/grid   # a finished run, 800 more
    python bench/localisation.py --table                      # the table of every finished run
    python bench/localisation.py --by-position grid grid_far  # where in the answer boxes are right

Each run trains the pretraining base (``mcr.pretrain.run.BASE_SPEC``, or the base given with
``--from``) on the pretraining corpus's vision tasks only, with ``train_stage``: batch 16, seed
0, half the steps at learning rate 2e-3 and half at 1e-3, in fp32. After each half it measures,
greedily, on held-out examples of the variant's own world (``mcr.pretrain.probes``, 64 each):
colour and shape named in captions, caption boxes and pointing answers with IoU > 0.5, "nowhere"
for absent looks, pointing when the question comes 2-130 tokens after the image
(``point_far``); and on the task (``bench/base_pointing.py``): the first ``--posts`` test posts
of synthetic GMNER drawn in the variant's layout, each gold entity asked about as the base was
taught ("Where is the <colour> <shape>?"), right after the image and after the post's words.

``--decision`` asks whether a finished run's yes / no answer depends on its input at all: the
first answer token's "yes" minus "no" logit on 160 fresh questions, its spread, and how often it
ranks a drawn look above an absent one (0.5: no signal).

``--by-position`` looks inside the figures of finished runs (their last checkpoint), on 128 fresh
examples each: caption boxes with IoU > 0.5 by the object's place in the caption (first, second,
...: each later box is written further from the image), pointing by the number of words
between the image and the question (0: ``point``; 1-60: ``point_far``), and where the plain
pointing answers land by the objects in the scene (the asked object, another one, none,
"nowhere"; and for looks the scene lacks).

The yes / no variants (``grid_exists`` and its controls) ask whether a named look is drawn at all
(``exists``, ``exists_text``, ``exists_first`` in ``mcr.pretrain.corpus``): the match between the
question and the image that pointing at the named object needs, with no box to write.

A variant differs from ``grid`` (or, for the layouts, from today's ``free4``) in one thing; the
runs of one table share steps, seed, batch, learning rates and machine. Results go to
``<out>/<run>/result.json``; a finished run is not run again.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# four sizes whose sides are multiples of 28 within the tiny model's 224x224 pixels: never resized
GRID_SIZES = ((224, 224), (252, 196), (196, 252), (224, 168))
CAPTION_AND_POINT = {"caption": 1.0, "point": 1.0}
# the base's sizes as a tiny Qwen3-VL: 32-pixel visual tokens (so 256x256 for the same 8x8 grid),
# its geometric RoPE (the per-pair frequencies are for Qwen2.5-VL's mrope sections)
# Qwen2.5-VL's mrope gives pairs 0-3 the temporal position (constant over an image), 4-9 rows and
# 10-15 columns; the base's frequencies (mcr.pretrain.run.ROTARY_FREQUENCIES) leave two pairs
# still enough (0.002) for a query to match a key by content 100-200 tokens away
STILL_PAIRS = (1.0, 0.3, 1e-4, 1e-4) + (1.5, 0.8, 0.4, 1e-4, 1e-4, 1e-4) * 2
# Qwen3-VL's geometric RoPE (base 10,000 over 16 pairs) for its eight fastest pairs, the rest still
QWEN3VL_STILL = tuple(round(10_000 ** (-i / 16), 6) for i in range(8)) + (1e-4,) * 8
QWEN3VL = {"family": "qwen3_vl", "max_pixels": 256 * 256, "rotary_frequencies": None}


@dataclass(frozen=True)
class Variant:
    change: str  # the one thing it changes, as the table says it
    layout: str = "grid"  # a key of LAYOUT_CHOICES
    mix: dict[str, float] = field(default_factory=lambda: dict(CAPTION_AND_POINT))
    spec: dict[str, Any] = field(default_factory=dict)  # TinySpec fields over BASE_SPEC's
    max_objects: int = 4  # objects a scene: 1 to this many, in training and in the probes


VARIANTS = {
    "free4": Variant("today's world: objects of 36-72 px anywhere, four image sizes, resized", layout="free"),
    "free1": Variant("free4 with one image size (224x224)", layout="free1"),
    "grid4": Variant(
        "free4 with objects in cells of 2x2 tokens, four sizes (multiples of 28)", layout="grid4"
    ),
    "grid": Variant("free4 with objects in cells of 2x2 tokens, one size (224x224)"),
    "grid_far": Variant(
        "grid with every pointing question 2-130 tokens after the image (point_far)",
        mix={"caption": 1.0, "point_far": 1.0},
    ),
    "grid_mixed_far": Variant(
        "grid with half the pointing questions far from the image",
        mix={"caption": 1.0, "point": 0.5, "point_far": 0.5},
    ),
    "grid_qwen3vl": Variant(
        "grid on a tiny Qwen3-VL (learned absolute positions in the vision tower, 0-1000 boxes, "
        "32-px tokens: 256x256 images)",
        spec=QWEN3VL,
    ),
    "grid_far_qwen3vl": Variant(
        "grid_far on the tiny Qwen3-VL", mix={"caption": 1.0, "point_far": 1.0}, spec=QWEN3VL
    ),
    "grid_far_qwen3vl_sincos": Variant(
        "grid_far_qwen3vl with the vision tower's absolute positions started from a sine-cosine table",
        mix={"caption": 1.0, "point_far": 1.0},
        spec={**QWEN3VL, "sincos_vision_positions": True},
    ),
    "grid_mixed_far_qwen3vl_sincos": Variant(
        "grid_far_qwen3vl_sincos with half the pointing questions right after the image",
        mix={"caption": 1.0, "point": 0.5, "point_far": 0.5},
        spec={**QWEN3VL, "sincos_vision_positions": True},
    ),
    "grid_mixed_far_qwen3vl_sincos_still": Variant(
        "grid_mixed_far_qwen3vl_sincos with its eight slowest rotary pairs still (1e-4 rad a token)",
        mix={"caption": 1.0, "point": 0.5, "point_far": 0.5},
        spec={**QWEN3VL, "sincos_vision_positions": True, "rotary_frequencies": QWEN3VL_STILL},
    ),
    "free4_far_qwen3vl": Variant(
        "grid_far_qwen3vl in today's world (objects anywhere, four sizes, resized)",
        layout="free",
        mix={"caption": 1.0, "point_far": 1.0},
        spec=QWEN3VL,
    ),
    "grid_far_still": Variant(
        "grid_far with half the rotary pairs nearly still (1e-4 rad a token), so that content matches "
        "at any distance",
        mix={"caption": 1.0, "point_far": 1.0},
        spec={"rotary_frequencies": STILL_PAIRS},
    ),
    "grid_recall_boxes": Variant(
        "grid with a third task: the recall with each shape's box after it (scene_recall_boxes: "
        '"red is circle [..]; blue is none; ...", on task-like scenes)',
        mix={"caption": 1.0, "point": 1.0, "scene_recall_boxes": 1.0},
    ),
    "grid_wide": Variant(
        "grid with hidden size 192 (intermediate 576; six heads of 32, so the same rotary pairs)",
        spec={
            "hidden_size": 192,
            "intermediate_size": 576,
            "num_attention_heads": 6,
            "num_key_value_heads": 3,
        },
    ),
    "grid_vision2": Variant("grid with a two-block vision tower", spec={"vision_depth": 2}),
    "grid_exists": Variant(
        'grid with a third task: "Do you see the <colour> <shape>?" (yes / no; half the looks absent, '
        "half of those near misses)",
        mix={"caption": 1.0, "point": 1.0, "exists": 1.0},
    ),
    "grid_exists_text": Variant(
        "grid_exists with the looks listed in words before the question, on a blank image (the control)",
        mix={"caption": 1.0, "point": 1.0, "exists_text": 1.0},
    ),
    "grid_exists_first": Variant(
        "grid_exists with the question before the image (its tokens can see what is asked)",
        mix={"caption": 1.0, "point": 1.0, "exists_first": 1.0},
    ),
    "grid_exists_only": Variant(
        "grid_exists with the yes / no question as the only task (no captions, no pointing)",
        mix={"exists": 1.0},
    ),
    "grid_exists_one": Variant(
        "grid_exists_only with one object a scene: the asked look compared with the one drawn, no search",
        mix={"exists": 1.0},
        max_objects=1,
    ),
    "grid_exists_only_mimetic": Variant(
        "grid_exists_only with mimetic attention: each key-value group's first query head starts as "
        "its key head (x4), so that a word can match what an image token shows from the first step",
        mix={"exists": 1.0},
        spec={"mimetic_attention": 4.0},
    ),
    "grid_exists_text_only": Variant(
        "grid_exists_text with the question about listed looks as the only task", mix={"exists_text": 1.0}
    ),
}


def layout_choices():
    from mcr.benchmarks.gmner.synthetic import LAYOUTS, Layout

    return {
        "free": LAYOUTS["free"],
        "free1": Layout("free1", ((224, 224),)),
        "grid4": Layout("grid4", GRID_SIZES, cell=56),
        "grid": LAYOUTS["grid"],
    }


def _machine() -> str:
    from mcr.pretrain.run import _device

    return _device()


def task_pointing(model_path: Path, layout, space, data_root: Path, posts: int) -> dict[str, Any]:
    """``bench/base_pointing.py``'s figures on the first ``posts`` test posts of synthetic GMNER drawn
    in ``layout``: the question right after the image, and after the post's words."""
    from base_pointing import measure, pointing_questions

    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.rows import rows as gmner_rows
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner

    if not (data_root / "txt").is_dir():  # the default recipe's 1,250 posts and splits, in this layout
        write_synthetic_gmner(data_root, 1250, 0, splits=(0.64, 0.12, 0.24), layout=layout, progress=False)
    records = load_twitter_gmner(data_root, "test", images=data_root / "images")[:posts]
    rows = gmner_rows(records, space)
    return {
        "near": measure(str(model_path), pointing_questions(rows), 32),
        "after_post": measure(str(model_path), pointing_questions(rows, after_post=True), 32),
    }


def run_label(name: str, base: str | None) -> str:
    """The folder name of a run: the variant's, and what it continued (a base or a finished run)."""
    return name if base is None else f"{name}-from-{Path(base).name.replace(':', '-')}"


def last_checkpoint(folder: Path) -> Path:
    """The weights a finished run ended with: its second half's."""
    (final,) = folder.glob("*-b/final")
    return final


def run_spec(folder: Path) -> Any:
    """The ``TinySpec`` a run trained: its ``spec.json``; for runs written before that file, the
    continued base's card, else its variant's fields over ``BASE_SPEC``."""
    from mcr.pretrain.run import BASE_SPEC
    from mcr.tiny_model import TinySpec

    for source in (folder / "spec.json", folder / "init" / "model_card.json"):
        if source.is_file():
            found = json.loads(source.read_text())
            return TinySpec(**found.get("spec", found))
    variant = json.loads((folder / "result.json").read_text())["variant"]
    return replace(BASE_SPEC, **VARIANTS[variant].spec)


def run(name: str, args: argparse.Namespace) -> dict[str, Any]:
    import torch

    from mcr.pretrain.corpus import EXISTS_TASKS
    from mcr.pretrain.probes import probe_set
    from mcr.pretrain.run import BASE_SPEC, Stage, _probes, spec_space, train_stage
    from mcr.shipped import resolve_model_path
    from mcr.tiny_model import TinySpec, build_tiny_model

    torch.set_num_threads(args.threads)
    variant = VARIANTS[name]
    label = run_label(name, args.base)
    folder = Path(args.out) / label
    result_file = folder / "result.json"
    if result_file.is_file():
        return json.loads(result_file.read_text())
    init = folder / "init"
    if args.base is None:
        spec = replace(BASE_SPEC, **variant.spec)
        if not (init / "config.json").is_file():
            build_tiny_model(init, seed=0, spec=spec)
    else:
        if (Path(args.base) / "result.json").is_file():  # a finished run of this bench, continued
            spec, base = run_spec(Path(args.base)), last_checkpoint(Path(args.base))
        else:
            base = Path(resolve_model_path(args.base))
            spec = TinySpec(**json.loads((base / "model_card.json").read_text())["spec"])
        if not (init / "config.json").is_file():
            shutil.copytree(base, init, dirs_exist_ok=True)
    (folder / "spec.json").write_text(json.dumps(asdict(spec), indent=2))
    space = spec_space(spec)
    layout = layout_choices()[variant.layout]
    drawn = layout.scaled(space.factor)
    probes = probe_set(
        args.probe_examples,
        space,
        max_objects=variant.max_objects,
        layout=drawn,
        boxed_recall="scene_recall_boxes" in variant.mix,
    )
    measured = ("caption", "point", "point_absent", "point_far", *EXISTS_TASKS, "scene_recall_boxes")
    probes = {k: v for k, v in probes.items() if k in measured}
    data_root = Path(args.out) / "data" / f"{drawn.name}-{space.factor}"
    began, start, points = time.perf_counter(), init, []
    half = args.steps // 2
    for i, learning_rate in enumerate((2e-3, 1e-3)):
        # named after the run, so that a continuation draws examples its source never saw
        stage = Stage(
            f"{label}-{'ab'[i]}", half, variant.max_objects, learning_rate, dict(variant.mix), layout=layout
        )
        train_stage(stage, start, folder / stage.name, seed=0, batch_size=16, space=space, report_to="none")
        start = folder / stage.name / "final"
        trained = time.perf_counter() - began
        points.append(
            {
                "step": half * (i + 1),
                "train_minutes": round(trained / 60, 1),
                "probes": _probes(start, probes, space),
                "task": task_pointing(start, drawn, space, data_root, args.posts),
            }
        )
        print(label, json.dumps(points[-1]), flush=True)
    result = {
        "run": label,
        "variant": name,
        "change": variant.change,
        "from": args.base or "random init",
        "steps": args.steps,
        "machine": f"{_machine()}, {platform.python_version()}, torch {torch.__version__}",
        "threads": args.threads,
        "points": points,
    }
    result_file.write_text(json.dumps(result, indent=2))
    return result


WORD_BINS = ((0, 0), (1, 10), (11, 30), (31, 60))  # words between the image and a pointing question


def words_before(prompt: str) -> int:
    """The words a pointing question comes after ("Read these words: a b c. Where is ...": 3)."""
    if not prompt.startswith("Read these words: "):
        return 0
    return len(prompt.removeprefix("Read these words: ").split(". Where is")[0].split())


@dataclass(frozen=True)
class FinishedRun:
    label: str
    model: Any
    processor: Any
    space: Any  # the ImageSpace it trained in
    drawn: Any  # its layout, scaled for its family


def open_run(name: str, args: argparse.Namespace) -> FinishedRun:
    """A finished run's last weights and processor, with the image space and layout it trained in."""
    import torch
    from transformers import AutoModelForImageTextToText, AutoProcessor

    from mcr.pretrain.run import spec_space

    torch.set_num_threads(args.threads)
    folder = Path(args.out) / run_label(name, args.base)
    if not (folder / "result.json").is_file():
        raise SystemExit(f"{folder}: no finished run (result.json) to look inside")
    final, space = last_checkpoint(folder), spec_space(run_spec(folder))
    return FinishedRun(
        folder.name,
        AutoModelForImageTextToText.from_pretrained(final).eval(),
        AutoProcessor.from_pretrained(final, padding_side="left"),
        space,
        layout_choices()[VARIANTS[name].layout].scaled(space.factor),
    )


def by_position(name: str, args: argparse.Namespace, n: int = 128) -> dict[str, Any]:
    """A finished run's caption boxes by the object's place in the caption, and its pointing by
    the words between the image and the question (see the module's docstring)."""
    import random

    from mcr.eval.generate import generate
    from mcr.pretrain.corpus import NOWHERE, as_row, vision_example
    from mcr.pretrain.probes import caption_hits, point_hit, point_landing

    run = open_run(name, args)
    space, drawn = run.space, run.drawn
    rng = random.Random(20261206)
    captions = [vision_example(rng, "caption", 4, space, drawn) for _ in range(n)]
    looks = [vision_example(rng, "point_far", 4, space, drawn) for _ in range(2 * n)]
    looks = [e for e in looks if e.answer != NOWHERE][:n]
    near = [vision_example(rng, "point", 4, space, drawn) for _ in range(2 * n)]
    absent = [e for e in near if e.answer == NOWHERE][: n // 2]
    near = [e for e in near if e.answer != NOWHERE][: n // 2]

    def answers(examples):
        rows = [as_row(e) for e in examples]
        return [
            a.strip() for a in generate(run.model, run.processor, rows, batch_size=16, max_new_tokens=160)
        ]

    places: dict[int, list[int]] = {}
    for example, answer in zip(captions, answers(captions), strict=True):
        for place, (_, boxed) in enumerate(caption_hits(example, answer), 1):
            places.setdefault(place, []).append(int(boxed))
    words: dict[tuple[int, int], list[int]] = {b: [] for b in WORD_BINS}
    landings: dict[str, Counter] = defaultdict(Counter)
    for example, answer in zip(near + looks + absent, answers(near + looks + absent), strict=True):
        count = words_before(example.prompt)
        if example.answer == NOWHERE:
            landings["absent"][point_landing(example, answer)] += 1
            continue
        words[next(b for b in WORD_BINS if b[0] <= count <= b[1])].append(int(point_hit(example, answer)))
        if count == 0:
            landings[f"{len(example.objects)} objects"][point_landing(example, answer)] += 1
    return {
        "run": run.label,
        "caption_box_by_place": {p: [sum(h), len(h)] for p, h in sorted(places.items())},
        "pointing_by_words": {f"{lo}-{hi}": [sum(h), len(h)] for (lo, hi), h in words.items()},
        "near_landing": {k: dict(landings[k]) for k in sorted(landings)},
    }


def ranked_above(positive: list[float], negative: list[float]) -> float:
    """The share of (positive, negative) pairs whose scores are in the right order (ties: half):
    the area under the ROC curve; 0.5 when the scores carry no signal."""
    pairs = [(p > n) + 0.5 * (p == n) for p in positive for n in negative]
    return sum(pairs) / max(1, len(pairs))


def decision_signal(name: str, args: argparse.Namespace, n: int = 160) -> dict[str, Any]:
    """Whether a finished run's yes / no decision depends on its input: on ``n`` fresh ``exists``
    questions of its world, the first answer token's logit for "yes" minus that for "no" (mean and
    spread) and how often it ranks a drawn look above an absent one."""
    import random
    import statistics

    import torch

    from mcr.eval.generate import prompt_inputs
    from mcr.pretrain.corpus import NO, YES, as_row, vision_example

    run = open_run(name, args)
    rng = random.Random(20261206)
    max_objects = VARIANTS[name].max_objects
    examples = [vision_example(rng, "exists", max_objects, run.space, run.drawn) for _ in range(n)]
    yes, no = (run.processor.tokenizer.encode(word)[0] for word in (YES, NO))  # the first token decides
    margins: list[float] = []
    for i in range(0, n, 16):
        inputs = prompt_inputs(run.processor, [as_row(e) for e in examples[i : i + 16]])
        with torch.no_grad():
            last = run.model(**inputs).logits[:, -1]
        margins += (last[:, yes] - last[:, no]).tolist()
    drawn_looks = [m for m, e in zip(margins, examples, strict=True) if e.answer == YES]
    absent_looks = [m for m, e in zip(margins, examples, strict=True) if e.answer == NO]
    return {
        "run": run.label,
        "margin_mean": round(statistics.mean(margins), 4),
        "margin_spread": round(statistics.pstdev(margins), 4),
        "drawn_above_absent": round(ranked_above(drawn_looks, absent_looks), 3),
    }


def position_table(found: list[dict[str, Any]]) -> str:
    """``by_position``'s figures as a table: right / asked in each cell."""
    places = sorted({p for f in found for p in f["caption_box_by_place"]}, key=int)
    bins = [f"{lo}-{hi}" for lo, hi in WORD_BINS]
    lines = [
        "| run | "
        + " | ".join(f"caption box, object {p}" for p in places)
        + " | "
        + " | ".join(f"pointing, {b} words before" for b in bins)
        + " |",
        "|---|" + "---|" * (len(places) + len(bins)),
    ]
    for f in found:
        cells = [f["caption_box_by_place"].get(p) for p in places] + [f["pointing_by_words"][b] for b in bins]
        lines.append(f"| {f['run']} | " + " | ".join(f"{c[0]}/{c[1]}" if c else "-" for c in cells) + " |")
    return "\n".join(lines)


LANDINGS = ("asked", "other", "empty", "nowhere", "unread")


def landing_table(found: list[dict[str, Any]]) -> str:
    """Where ``by_position``'s pointing answers right after the image land, by the objects in the
    scene (and for looks the image lacks): a model that boxes some object rather than the named
    one is right on about 1/n of n-object scenes and lands on another object otherwise."""
    lines = ["| run | scene | " + " | ".join(LANDINGS) + " |", "|---|---|" + "---|" * len(LANDINGS)]
    for f in found:
        for scene, counts in f.get("near_landing", {}).items():
            total = sum(counts.values())
            lines.append(
                f"| {f['run']} | {scene} | "
                + " | ".join(f"{counts.get(k, 0)}/{total}" for k in LANDINGS)
                + " |"
            )
    return "\n".join(lines)


def table(out: Path) -> str:
    from mcr.pretrain.corpus import EXISTS_TASKS

    lines = [
        '| run | change | step | colour+shape | boxes IoU>0.5 | pointing IoU>0.5 | "nowhere" absent | '
        'pointing, far | "do you see": right (absent looks) | the same, looks in words | '
        "the same, question first | "
        'task: pointing | task: "nowhere" not shown | '
        "task: pointing after the post | recall's boxes IoU>0.5 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result_file in sorted(out.glob("*/result.json")):
        r = json.loads(result_file.read_text())
        for p in r["points"]:
            pr, near, far = p["probes"], p["task"]["near"], p["task"]["after_post"]
            # "-": measured before the exists probes were added
            seen, read, first = (
                f"{pr[k]:.2f} ({pr[k + '_absent']:.2f})" if k in pr else "-" for k in EXISTS_TASKS
            )
            boxed = pr.get("scene_recall_boxes_iou50")  # only runs that train the task measure it
            recall_boxes = "-" if boxed is None else f"{100 * boxed:.1f}%"
            lines.append(
                f"| {r['run']} | {r['change']} | {p['step']} | {pr['colour_shape']:.2f} | "
                f"{100 * pr['box_iou50']:.1f}% | {100 * pr['point_iou50']:.1f}% | "
                f"{100 * pr['point_absent']:.1f}% | {100 * pr['point_far_iou50']:.1f}% | "
                f"{seen} | {read} | {first} | "
                f"{100 * near['iou50_shown']:.1f}% | {100 * near['nowhere_absent']:.1f}% | "
                f"{100 * far['iou50_shown']:.1f}% | {recall_boxes} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("variants", nargs="*", help=f"runs, in order: {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument(
        "--from",
        dest="base",
        default=None,
        help="continue this base or a finished run's folder (not random init)",
    )
    parser.add_argument("--out", default="outputs/localisation")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--probe-examples", type=int, default=64)
    parser.add_argument("--posts", type=int, default=300, help="test posts for the task's pointing")
    parser.add_argument("--table", action="store_true", help="print the table of the finished runs")
    parser.add_argument(
        "--by-position", action="store_true", help="look inside the named finished runs instead of training"
    )
    parser.add_argument(
        "--decision",
        action="store_true",
        help="whether the named finished runs' yes / no answers depend on the input, instead of training",
    )
    args = parser.parse_args(argv)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; known: {list(VARIANTS)}")
    if args.decision:
        for name in args.variants:
            print(json.dumps(decision_signal(name, args)))
        return
    if args.by_position:
        found = [by_position(name, args) for name in args.variants]
        print(json.dumps(found))
        print(position_table(found))
        print(landing_table(found))
        return
    for name in args.variants:
        run(name, args)
    if args.table or args.variants:
        print(table(Path(args.out)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
