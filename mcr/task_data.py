"""The recipe's task data: synthesized where the recipe asks, loaded by split with every image
checked before training starts, and turned into rows."""

from __future__ import annotations

import logging

from mcr.benchmarks import TrainingTask, get_task
from mcr.config import Recipe

logger = logging.getLogger(__name__)


def recipe_task(recipe: Recipe) -> TrainingTask:
    return get_task(recipe.task)


def ensure_data(recipe: Recipe) -> None:
    """Synthesize the data set at ``data.root`` when the recipe asks for it and it is missing."""
    synth, task = recipe.data.synth, recipe_task(recipe)
    if synth.n <= 0 or task.has_data(recipe.data.root):
        return
    logger.info("synthesizing %d %s examples at %s", synth.n, task.name, recipe.data.root)
    task.synthesize(
        recipe.data.root,
        synth.n,
        synth.seed,
        images=recipe.data.images,
        splits=tuple(synth.splits),
        layout=synth.layout,
        factor=recipe.image_space.factor,
    )


def load_split(recipe: Recipe, split: str) -> list:
    """A split of the recipe's task with its images, failing before any training when one is missing."""
    return recipe_task(recipe).load(recipe.data.root, split, recipe.data.images)


def task_rows(recipe: Recipe, examples: list) -> list[dict]:
    return recipe_task(recipe).rows(examples, recipe.image_space)
