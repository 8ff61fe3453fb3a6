"""MRSI: Multi-style Reasoning Schema Injection.

Gold annotations are rendered through reasoning *styles* — Jinja templates in
``templates/mrsi/<task>/<style>.jinja`` — into completions that reason over every constraint
before answering::

    <think>
    styled reasoning that states, per entity, its type and whether the image shows it
    </think>
    <answer>[{"entity": ..., "type": ..., "bbox": [x1, y1, x2, y2] | null}]</answer>

A data set is split into D1, rendered into SFT prompt/completion pairs, and D2, kept as
GRPO rows (prompt, image, gold). Styles are drawn per example with the recipe's weights and
seed, so the same recipe always gives the same data. A new style is a new template file,
named in a recipe's ``mrsi.styles``; what a style may use is its benchmark's style context
(``mcr.benchmarks.<task>.rows``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from pathlib import Path

import datasets

from mcr.benchmarks import TrainingTask
from mcr.config import Recipe
from mcr.data.rows import rows_dataset
from mcr.image_space import ImageSpace
from mcr.prompts import ANSWER_ONLY, available_styles, render_style, styles_dir
from mcr.task_data import recipe_task

logger = logging.getLogger(__name__)

# bump when the injected rows change shape, so that older caches are rebuilt
INJECTION_FORMAT = 3


def pick_styles(n: int, styles: dict[str, float], seed: int) -> list[str]:
    """A style per example, drawn with the recipe's weights; the same arguments give the same list."""
    names = sorted(styles)
    weights = [styles[name] for name in names]
    if not names or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"mrsi.styles needs at least one style with a positive weight, got {styles}")
    return random.Random(seed).choices(names, weights=weights, k=n)


def split_d1_d2(records: list, sft_fraction: float, seed: int) -> tuple[list, list]:
    """D1 (SFT) and D2 (GRPO): a seeded shuffle cut at ``sft_fraction``, each part in file order."""
    if not 0.0 < sft_fraction <= 1.0:
        raise ValueError(f"mrsi.sft_fraction must be in (0, 1], got {sft_fraction}")
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    cut = round(len(records) * sft_fraction)
    d1, d2 = sorted(order[:cut]), sorted(order[cut:])
    return [records[i] for i in d1], [records[i] for i in d2]


def inject(
    examples: list,
    task: TrainingTask,
    *,
    styles: dict[str, float],
    sft_fraction: float,
    seed: int,
    space: ImageSpace,
) -> datasets.DatasetDict:
    """Render D1 into SFT prompt/completion pairs in ``styles`` and keep D2 as GRPO rows."""
    for style in styles:  # fail before any rendering on a style name that has no template
        if style not in (*available_styles(task.name), ANSWER_ONLY):
            render_style(task.name, style)
    d1, d2 = split_d1_d2(examples, sft_fraction, seed)
    chosen = pick_styles(len(d1), styles, seed)
    parts = {"sft": rows_dataset([task.sft_example(e, s, space) for e, s in zip(d1, chosen, strict=True)])}
    if d2:
        parts["grpo"] = rows_dataset(task.rows(d2, space))
    return datasets.DatasetDict(parts)


def prepare_mrsi(recipe: Recipe, records: list) -> datasets.DatasetDict:
    """The MRSI data set (D1 as SFT pairs, D2 as GRPO rows), injected once and reused.

    It is rebuilt when anything it depends on changes (styles, seed, split, data, resizing),
    recorded in ``mrsi_config.json`` beside it.
    """
    out = Path(recipe.mrsi_dir)
    folder = styles_dir(recipe.task)
    spec = {
        "format": INJECTION_FORMAT,
        "task": recipe.task,
        "styles": dict(recipe.mrsi.styles),
        "templates": {  # editing a template re-injects
            style: hashlib.sha256((folder / f"{style}.jinja").read_bytes()).hexdigest()[:16]
            for style in recipe.mrsi.styles
            if (folder / f"{style}.jinja").is_file()
        },
        "seed": recipe.mrsi.seed,
        "sft_fraction": recipe.mrsi.sft_fraction,
        "data_root": str(Path(recipe.data.root).resolve()),
        "split": recipe.data.train_split,
        "records": len(records),
        "min_pixels": recipe.model.min_pixels,
        "max_pixels": recipe.model.max_pixels,
    }
    stamp = out / "mrsi_config.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == spec:
        return datasets.load_from_disk(str(out / "data"))
    if not recipe.mrsi.styles:
        raise ValueError(f"recipe {recipe.name!r} names no reasoning style: set mrsi.styles (name: weight)")
    logger.info("injecting %d records into %s with styles %s", len(records), out, spec["styles"])
    injected = inject(
        records,
        recipe_task(recipe),
        styles=dict(recipe.mrsi.styles),
        sft_fraction=recipe.mrsi.sft_fraction,
        seed=recipe.mrsi.seed,
        space=recipe.image_space,
    )
    injected.save_to_disk(str(out / "data"))
    stamp.write_text(json.dumps(spec, indent=2))
    return datasets.load_from_disk(str(out / "data"))
