"""The checks a loaded recipe passes beyond its keys: values that fit the rest of MCR.

``check_recipe`` runs them in order; each names the recipe file and the key at fault. The
model-family modules a recipe names (``families.modules``) are imported first, before anything
asks for ``model.family``; then its benchmark modules (``benchmarks.modules``), so that its
``task``, its probes and its reward modules may name their benchmarks; then the reward modules
(``rewards.modules``), before its ``rewards.funcs`` are checked against the registry.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from mcr.config.errors import RecipeError, key_error
from mcr.config.schema import STATIC_CACHES, Recipe
from mcr.families import BOX_CONVENTIONS, get_family

# the words YAML reads as booleans
YAML_WORDS = {"yes": True, "no": False, "on": True, "off": False, "true": True, "false": False}


def check_recipe(recipe: Recipe, path: Path) -> None:
    """Every check, in order; the ``grpo`` and ``sft`` sections get YAML's yes/no/on/off in
    their fields' types."""
    check_family_modules(recipe, path)
    check_benchmark_modules(recipe, path)
    check_rewards(recipe, path)
    check_task_rewards(recipe, path)
    check_synth_splits(recipe, path)
    check_family(recipe, path)
    check_probes(recipe, path)
    check_monitors(recipe, path)
    check_box_convention(recipe, path)
    check_trainer_sections(recipe, path)
    check_grpo_generation(recipe, path)


def check_family_modules(recipe: Recipe, path: Path) -> None:
    """``families.modules`` import, each registering the families it declares."""
    from mcr.families import load_family_modules
    from mcr.user_modules import UserModuleError

    try:
        load_family_modules(recipe.families.modules)
    except UserModuleError as err:
        raise RecipeError(f"{path}: {err}") from err


def check_benchmark_modules(recipe: Recipe, path: Path) -> None:
    """``benchmarks.modules`` import, each registering the benchmark it defines."""
    from mcr.benchmarks import load_benchmark_modules
    from mcr.user_modules import UserModuleError

    try:
        load_benchmark_modules(recipe.benchmarks.modules)
    except UserModuleError as err:
        raise RecipeError(f"{path}: {err}") from err


def check_rewards(recipe: Recipe, path: Path) -> None:
    """``rewards.modules`` import, and ``rewards.funcs`` names at least one reward."""
    from mcr.rewards import RewardModuleError, load_reward_modules

    try:
        load_reward_modules(recipe.rewards.modules)
    except RewardModuleError as err:
        raise RecipeError(f"{path}: {err}") from err
    if not recipe.rewards.funcs:
        raise RecipeError(
            f"{path}: rewards.funcs names no reward; list name: weight pairs from mcr.rewards.REGISTRY"
        )


def check_task_rewards(recipe: Recipe, path: Path) -> None:
    """The task trains, every reward is registered, and none scores only another task's rows
    (it would score none of this task's): each reward declares its tasks (``mcr.rewards``)."""
    from mcr.benchmarks import BENCHMARKS
    from mcr.rewards import REGISTRY, reward_tasks, task_rewards

    task = BENCHMARKS.get(recipe.task)
    if task is None or not task.trains:
        trainable = sorted(name for name, b in BENCHMARKS.items() if b.trains)
        raise RecipeError(f"{path}: task {recipe.task!r} is not a training task; expected one of {trainable}")
    unknown = [name for name in recipe.rewards.funcs if name not in REGISTRY]
    if unknown:
        raise RecipeError(
            f"{path}: rewards.funcs names unknown reward(s) {unknown}; registered: {sorted(REGISTRY)} "
            "(a reward of your own: name its module or file in rewards.modules)"
        )
    wrong = [
        name
        for name in recipe.rewards.funcs
        if reward_tasks(name) is not None and task.name not in reward_tasks(name)
    ]
    if wrong:
        owners = " or ".join(reward_tasks(wrong[0]))
        raise RecipeError(
            f"{path}: reward(s) {wrong} score {owners} rows only, none of the {task.name} task's; "
            f"its rewards: {list(task_rewards(task.name))} (or rewards of your own)"
        )


def check_synth_splits(recipe: Recipe, path: Path) -> None:
    """``data.synth.splits`` are three shares, ``data.synth.colour_look_alikes`` a chance, and
    ``data.synth.n`` asks only a task that synthesizes (``check_task_rewards`` has checked that
    the task trains)."""
    from mcr.benchmarks import get_task

    splits = recipe.data.synth.splits
    if len(splits) != 3 or min(splits) < 0 or abs(sum(splits) - 1) > 1e-6:
        raise RecipeError(
            f"{path}: data.synth.splits must be three shares (train, dev, test) summing to 1, not {splits}"
        )
    chance = recipe.data.synth.colour_look_alikes
    if not 0.0 <= chance <= 1.0:
        raise RecipeError(f"{path}: data.synth.colour_look_alikes is a chance, between 0 and 1, not {chance}")
    if recipe.data.synth.n > 0 and not get_task(recipe.task).synthesizes:
        raise RecipeError(
            f"{path}: data.synth.n={recipe.data.synth.n}, but task {recipe.task!r} synthesizes no data; "
            "set data.synth.n=0 and point data.root at its release"
        )


def check_family(recipe: Recipe, path: Path) -> None:
    if recipe.model.family != "auto":
        try:
            get_family(recipe.model.family)
        except ValueError as err:
            hint = " (one of your own: name its module in families.modules)"
            hint = "" if recipe.families.modules else hint
            raise RecipeError(f"{path}: model.family: {err}{hint}") from None


def check_probes(recipe: Recipe, path: Path) -> None:
    from mcr.benchmarks import BENCHMARKS

    known_probes = {probe for b in BENCHMARKS.values() for probe in b.probes}
    if set(recipe.eval.probes) - known_probes:
        raise RecipeError(
            f"{path}: eval.probes names {sorted(set(recipe.eval.probes) - known_probes)}; the probes: "
            f"{sorted(known_probes)}"
        )


def check_monitors(recipe: Recipe, path: Path) -> None:
    from mcr.rewards.monitors import MONITORS

    unknown = sorted(set(recipe.monitors.thresholds) - set(MONITORS))
    if unknown:
        raise RecipeError(f"{path}: monitors.thresholds names {unknown}; the monitors: {sorted(MONITORS)}")


def check_box_convention(recipe: Recipe, path: Path) -> None:
    if recipe.model.box_convention not in (None, *BOX_CONVENTIONS):
        raise RecipeError(
            f"{path}: model.box_convention must be one of {list(BOX_CONVENTIONS)} (or null for the "
            f"family's), not {recipe.model.box_convention!r}"
        )


def check_trainer_sections(recipe: Recipe, path: Path) -> None:
    """``grpo`` and ``sft`` hold fields of ``trl.GRPOConfig`` and ``trl.SFTConfig``."""
    from trl import GRPOConfig, SFTConfig

    recipe.grpo = check_trainer_args("grpo", recipe.grpo, GRPOConfig, f"{path} or the command line")
    recipe.sft = check_trainer_args("sft", recipe.sft, SFTConfig, f"{path} or the command line")


def check_trainer_args(section: str, args: dict[str, Any], config_class: type, where: str) -> dict[str, Any]:
    """Check a section's keys against a TRL config class and give YAML's yes/no/on/off their field's type."""
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
    checked = {}
    for key, value in args.items():
        if key not in fields:
            raise key_error(f"{section}.{key}", list(fields), where)
        f = fields[key]
        is_bool = isinstance(f.default, bool) or str(f.type).replace(" ", "") in ("bool", "bool|None")
        if is_bool and isinstance(value, str) and value.lower() in YAML_WORDS:
            value = YAML_WORDS[value.lower()]
        elif not is_bool and isinstance(value, bool):
            raise RecipeError(
                f"{section}.{key} got the boolean {value} in {where}; YAML reads yes/no/on/off as "
                f"booleans, so quote the word (for example {section}.{key}='no')"
            )
        checked[key] = value
    return checked


def check_grpo_generation(recipe: Recipe, path: Path) -> None:
    """``grpo_generation`` and TRL's generation keys fit together and fit a vision-language model
    (``mcr.generation``; docs/generation.md)."""
    grpo, generation = recipe.grpo, recipe.grpo_generation
    for key in ("use_transformers_continuous_batching", "use_transformers_paged"):
        if grpo.get(key):
            raise RecipeError(
                f"{path}: grpo.{key}: TRL's GRPOTrainer refuses continuous batching for multimodal models "
                "(the processor's images never reach generate_batch), and every model family MCR trains is "
                "one; generate faster with grpo_generation.merge_lora, grpo_generation.compile or "
                "grpo.steps_per_generation (docs/generation.md), or grpo.use_vllm"
            )
    used = [key for key in ("merge_lora", "compile") if getattr(generation, key)]
    if used and grpo.get("use_vllm"):
        raise RecipeError(
            f"{path}: grpo_generation.{used[0]} sets how transformers generates, but grpo.use_vllm generates "
            "with vLLM (TRL merges the adapters into vLLM's weights itself); set one or the other"
        )
    if generation.merge_lora and not recipe.lora.enabled:
        raise RecipeError(
            f"{path}: grpo_generation.merge_lora merges LoRA adapters, but lora.enabled is false"
        )
    if generation.compile and grpo.get("cache_implementation") not in STATIC_CACHES:
        raise RecipeError(
            f"{path}: grpo_generation.compile needs a static cache (grpo.cache_implementation: static), "
            f"not {grpo.get('cache_implementation')!r}: transformers compiles generate only over one"
        )
