"""The recipe's task data: synthesized where the recipe asks, loaded by split with every image
checked before training starts, and turned into rows."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from mcr.benchmarks import TrainingTask, get_task
from mcr.config import Recipe

logger = logging.getLogger(__name__)


def recipe_task(recipe: Recipe) -> TrainingTask:
    return get_task(recipe.task)


# written beside synthesized data: the arguments that drew it
SYNTH_RECORD = "synth.json"


def synth_arguments(recipe: Recipe) -> dict:
    """What decides the synthetic data a recipe asks for: the same arguments draw the same files."""
    synth = recipe.data.synth
    return {
        "task": recipe_task(recipe).name,
        "n": synth.n,
        "seed": synth.seed,
        "splits": [float(share) for share in synth.splits],
        "layout": synth.layout,
        "colour_look_alikes": float(synth.colour_look_alikes),
        "factor": recipe.image_space.factor,
    }


def ensure_data(recipe: Recipe) -> None:
    """Synthesize the data set at ``data.root`` when the recipe asks for it and it is missing.
    Data synthesized before is used again only if it was drawn with the same arguments (its
    ``synth.json``); other arguments with the same root are an error, not a silent reuse."""
    synth, task, root = recipe.data.synth, recipe_task(recipe), Path(recipe.data.root)
    if synth.n <= 0:
        return
    wanted = synth_arguments(recipe)
    if task.has_data(root):
        record = root / SYNTH_RECORD
        if record.is_file():
            drawn = json.loads(record.read_text())
            differ = sorted(k for k in wanted.keys() | drawn.keys() if wanted.get(k) != drawn.get(k))
            if differ:
                found = ", ".join(f"{k}: {drawn.get(k)!r} there, {wanted.get(k)!r} asked" for k in differ)
                raise ValueError(
                    f"{record}: the data at data.root was synthesized with other arguments ({found}); "
                    "set data.root to a new folder for these, or remove the old data"
                )
        return
    logger.info("synthesizing %d %s examples at %s", synth.n, task.name, root)
    task.synthesize(
        root,
        synth.n,
        synth.seed,
        images=recipe.data.images,
        splits=tuple(synth.splits),
        layout=synth.layout,
        factor=recipe.image_space.factor,
        colour_look_alikes=synth.colour_look_alikes,
    )
    (root / SYNTH_RECORD).write_text(json.dumps(wanted, indent=2) + "\n")


def load_split(recipe: Recipe, split: str) -> list:
    """A split of the recipe's task with its images, failing before any training when one is missing."""
    return recipe_task(recipe).load(recipe.data.root, split, recipe.data.images)


def task_rows(recipe: Recipe, examples: list) -> list[dict]:
    return recipe_task(recipe).rows(examples, recipe.image_space)
