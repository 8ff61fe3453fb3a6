"""The whole run: MRSI SFT, CVO GRPO from the SFT adapter, then the evaluation of the untrained
base, the SFT and the GRPO checkpoints in one comparison table.

    mcr pipeline recipe=tiny                          # the three stages in turn, in this process
    accelerate launch -m mcr.pipeline recipe=tiny     # the same in each of accelerate's processes
    mcr pipeline plan recipe=tiny                     # the stages, one per line, without running them

``plan`` is the one place the stages and their hand-offs are written: GRPO gets
``model.init_adapter=<SFT output>``, the evaluation ``checkpoints=[base,<SFT output>,<GRPO
output>]``. ``bash launch.sh pipeline`` (a clone) runs the lines of ``mcr pipeline plan``, each
stage under its own ``accelerate launch``; this module runs them one after another in one process,
every stage's recipe checked before the first one trains.
"""

from __future__ import annotations

import gc
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcr.config import Recipe, RecipeError, load_recipe
from mcr.runtime import process_state, run_entry_point

logger = logging.getLogger("mcr.pipeline")


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline and the recipe arguments it runs with."""

    name: str  # sft, grpo, evaluation
    module: str  # the entry point: mcr <command>, python -m / accelerate launch -m <module>
    script: str  # the same as a clone's script, which launch.sh runs
    args: tuple[str, ...]  # recipe arguments


Main = Callable[[Recipe], Any]
Check = Callable[[Recipe], None]


def stage_entries() -> dict[str, tuple[Main, Check | None]]:
    """Each stage's module -> its ``main`` and its checks before anything loads; imported when the
    pipeline runs (its plan needs no trainer)."""
    from mcr import train_grpo, train_sft
    from mcr.eval import evaluate

    return {
        "mcr.train_sft": (train_sft.main, None),
        "mcr.train_grpo": (train_grpo.main, None),
        "mcr.eval.evaluate": (evaluate.main, evaluate.check),
    }


def plan(recipe: Recipe, args: list[str]) -> list[Stage]:
    """The stages in order, each with the recipe arguments ``args`` (which load ``recipe``) and its
    hand-off from the stages before it."""
    sft, grpo = recipe.sft_output_dir, recipe.grpo_output_dir
    return [
        Stage("sft", "mcr.train_sft", "train_sft.py", tuple(args)),
        Stage("grpo", "mcr.train_grpo", "train_grpo.py", (*args, f"model.init_adapter={sft}")),
        Stage(
            "evaluation",
            "mcr.eval.evaluate",
            "eval/evaluate.py",
            (*args, f"checkpoints=[base,{sft},{grpo}]"),
        ),
    ]


def load_stages(stages: list[Stage]) -> list[tuple[Stage, Recipe, Main]]:
    """Every stage's recipe, loaded and checked (the evaluation's data and backend too), so that a
    mistake in the last stage stops the pipeline before the first one trains."""
    entries = stage_entries()
    loaded = []
    for stage in stages:
        main, check = entries[stage.module]
        recipe = load_recipe(list(stage.args))
        if check is not None:
            check(recipe)
        loaded.append((stage, recipe, main))
    return loaded


def run_stages(loaded: list[tuple[Stage, Recipe, Main]]) -> dict[str, float]:
    """Run the stages in turn in this process; the seconds each took."""
    state = process_state()
    seconds: dict[str, float] = {}
    for stage, recipe, main in loaded:
        began = time.perf_counter()
        main(recipe)
        _release(state)
        seconds[stage.name] = time.perf_counter() - began
        logger.info("%s done in %.0fs", stage.name, seconds[stage.name])
    return seconds


def _release(state: Any) -> None:
    """Between stages: close the stage's W&B run (the next stage starts its own), free its model's
    memory, and wait for every process."""
    if "wandb" in sys.modules and sys.modules["wandb"].run is not None:
        sys.modules["wandb"].finish()
    gc.collect()
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    state.wait_for_everyone()


def run(argv: list[str] | None = None) -> None:
    """The command line: ``[plan] recipe=NAME key=value ...``, or ``--help``.

    ``plan`` prints one line per stage, tab-separated: its name, its script in a clone, then its
    recipe arguments one by one (what ``bash launch.sh pipeline`` runs)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["plan"] and not {"-h", "--help"} & set(argv):
        try:
            stages = plan(load_recipe(argv[1:]), argv[1:])
        except RecipeError as err:
            sys.exit(f"error: {err}")
        for stage in stages:
            print("\t".join([stage.name, stage.script, *stage.args]))
        return

    loaded: list[tuple[Stage, Recipe, Main]] = []

    def check(recipe: Recipe) -> None:
        loaded.extend(load_stages(plan(recipe, argv)))

    def pipeline(recipe: Recipe) -> dict[str, float]:
        started = time.perf_counter()
        seconds = run_stages(loaded)
        times = ", ".join(f"{name} {s:.0f}s" for name, s in seconds.items())
        logger.info("pipeline done in %.0fs (%s)", time.perf_counter() - started, times)
        return seconds

    run_entry_point(pipeline, __doc__, argv, check)


if __name__ == "__main__":
    run()
