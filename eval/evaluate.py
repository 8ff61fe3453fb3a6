"""Evaluate checkpoints of a run on a benchmark split and compare them in one table.

    accelerate launch eval/evaluate.py recipe=tiny checkpoints=[base,outputs/tiny-sft,outputs/tiny-grpo]
    accelerate launch eval/evaluate.py recipe=mcr_qwen checkpoint=outputs/mcr_qwen \\
        data.root=/path/to/Twitter10000_v2.0 data.images=/path/to/images

``checkpoint=DIR`` or ``checkpoints=[...]`` name adapters (or full model folders); ``base`` is
the recipe's model untouched. Every other argument is a recipe key (``eval.batch_size=32``,
``eval.split=dev``). Per checkpoint the run writes ``predictions.jsonl`` and ``metrics.json``
under ``eval.output_dir``, prints one comparison table for all, and logs metrics and a table
of samples to W&B when ``eval.report_to`` includes ``wandb``.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path

from accelerate import PartialState
from PIL import Image

from mcr.checkpoints import load_checkpoint
from mcr.config import Recipe, RecipeError, load_recipe
from mcr.eval.generate import generate
from mcr.rewards import REGISTRY, clear_caches
from mcr.tasks import Task, get_task
from mcr.training import (
    configure_wandb,
    ensure_data,
    ensure_model,
    load_processor,
    load_split,
    model_init_kwargs,
    setup_logging,
)

logger = logging.getLogger("mcr.evaluate")


def split_eval_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(checkpoints, recipe arguments) from the command line."""
    checkpoints, rest = [], []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in ("checkpoint", "checkpoints"):
            checkpoints += [c.strip() for c in value.strip("[]").split(",") if c.strip()]
        else:
            rest.append(arg)
    return checkpoints or ["base"], rest


def checkpoint_label(checkpoint: str) -> str:
    return "untrained" if checkpoint == "base" else Path(checkpoint).name


def reward_scores(recipe: Recipe, completions: list[str], rows: list[dict]) -> dict[str, list[float | None]]:
    """Every reward of the recipe on every completion, as GRPO would compute them."""
    kwargs = {"gold": [r["gold"] for r in rows], "text": [r["text"] for r in rows]}
    return {
        name: REGISTRY[name](completions, iou_threshold=recipe.rewards.iou_threshold, **kwargs)
        for name in recipe.rewards.funcs
    }


def total_rewards(recipe: Recipe, scores: dict[str, list[float | None]]) -> list[float]:
    """The weighted sum GRPO optimises, per completion (rewards that do not apply are left out)."""
    n = len(next(iter(scores.values())))
    return [
        sum(recipe.rewards.funcs[name] * v[i] for name, v in scores.items() if v[i] is not None)
        for i in range(n)
    ]


def evaluate_completions(
    recipe: Recipe, task: Task, examples: list, rows: list[dict], completions: list[str]
) -> tuple[dict, list]:
    """The task's official metrics, the format rate and the recipe's rewards; and per-sample records."""
    scores = reward_scores(recipe, completions, rows)
    totals = total_rewards(recipe, scores)
    metrics = task.score(examples, rows, completions)
    format_scores = REGISTRY["format"](completions, gold=[r["gold"] for r in rows])
    metrics["format_rate"] = round(sum(format_scores) / len(format_scores), 4)
    metrics["mean_reward"] = round(sum(totals) / len(totals), 4)
    metrics["rewards"] = {
        name: round(sum(x for x in v if x is not None) / max(1, sum(x is not None for x in v)), 4)
        for name, v in scores.items()
    }
    samples = [
        {
            "id": row["id"],
            "prediction": text,
            "image_size": row["image_size"],
            "input_size": row["input_size"],
            "gold": row["gold"],
            "reward": total,
            "rewards": {name: v[i] for name, v in scores.items()},
        }
        for i, (row, text, total) in enumerate(zip(rows, completions, totals, strict=True))
    ]
    return metrics, samples


def comparison_table(task: Task, results: dict[str, dict]) -> str:
    """One line per checkpoint: format rate, the task's headline metrics, mean total reward."""
    names = list(task.headline(next(iter(results.values()))))
    header = f"{'checkpoint':<22}{'format':>8}" + "".join(f"{n:>11}" for n in names) + f"{'reward':>9}"
    lines = [header, "-" * len(header)]
    for label, m in results.items():
        values = task.headline(m)
        cells = "".join(f"{values[n]:>11.1f}" for n in names)
        lines.append(f"{label:<22}{m['format_rate']:>8.2f}{cells}{m['mean_reward']:>9.3f}")
    return "\n".join(lines)


def log_to_wandb(
    recipe: Recipe, task: Task, results: dict[str, dict], samples: dict[str, list], rows: list[dict]
) -> None:
    import wandb

    configure_wandb(recipe.eval.report_to, recipe.eval_dir)
    run = wandb.init(name=f"{recipe.name}-eval", job_type="eval", config=asdict(recipe), dir=recipe.eval_dir)
    flat = {}
    for label, m in results.items():
        for key in ("format_rate", "mean_reward"):
            flat[f"eval/{label}/{key}"] = m[key]
        for key, value in task.headline(m).items():
            flat[f"eval/{label}/{key.lower().replace(' ', '_')}"] = value
        for name, value in m["rewards"].items():
            flat[f"eval/{label}/rewards/{name}"] = value
    run.log(flat)
    reward_names = list(recipe.rewards.funcs)
    table = wandb.Table(
        columns=["checkpoint", "id", "image", "input", "gold", "prediction", "reward", *reward_names]
    )
    by_id = {row["id"]: row for row in rows}
    for label, items in samples.items():
        for s in items[: recipe.eval.log_samples]:
            row = by_id[s["id"]]
            table.add_data(
                label,
                s["id"],
                wandb.Image(row["image"]),
                row["text"],
                s["gold"],
                s["prediction"],
                s["reward"],
                *[s["rewards"][n] for n in reward_names],
            )
    run.log({"eval/samples": table})
    run.finish()
    wandb.teardown()  # wait for W&B's writer to flush the run to disk before returning


def main(recipe: Recipe, checkpoints: list[str]) -> dict[str, dict]:
    state = PartialState()
    setup_logging(state.is_main_process)

    task = get_task(recipe)
    with state.main_process_first():
        model_path = ensure_model(recipe)
        ensure_data(recipe)
        examples = load_split(recipe, recipe.eval.split)
    if recipe.eval.max_samples is not None:
        examples = examples[: recipe.eval.max_samples]
    rows = task.rows(recipe, examples)
    for row in rows:
        with Image.open(row["image"]) as image:
            row["image"] = image.convert("RGB")
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    out_dir = Path(recipe.eval_dir)
    logger.info(
        "evaluating %s on %d examples of the %s split -> %s",
        checkpoints,
        len(rows),
        recipe.eval.split,
        out_dir,
    )

    results: dict[str, dict] = {}
    samples: dict[str, list] = {}
    for checkpoint in checkpoints:
        label = checkpoint_label(checkpoint)
        model = load_checkpoint(
            None if checkpoint == "base" else checkpoint, model_path, **model_init_kwargs(recipe)
        )
        model.to(state.device).eval()
        completions = generate(
            model,
            processor,
            rows,
            batch_size=recipe.eval.batch_size,
            max_new_tokens=recipe.eval.max_new_tokens,
            do_sample=recipe.eval.do_sample,
            temperature=recipe.eval.temperature,
            desc=f"generate {label}",
        )
        clear_caches()
        metrics, samples[label] = evaluate_completions(recipe, task, examples, rows, completions)
        metrics["checkpoint"] = checkpoint
        results[label] = metrics
        if state.is_main_process:
            (out_dir / label).mkdir(parents=True, exist_ok=True)
            with open(out_dir / label / "predictions.jsonl", "w") as f:
                for s in samples[label]:
                    f.write(json.dumps(s, ensure_ascii=False) + "\n")
            (out_dir / label / "metrics.json").write_text(json.dumps(metrics, indent=2))
        del model

    if state.is_main_process:
        (out_dir / "comparison.json").write_text(json.dumps(results, indent=2))
        print(f"\n== MCR evaluation '{recipe.name}', {recipe.eval.split} split, {len(rows)} examples ==")
        print(comparison_table(task, results), flush=True)
        if "wandb" in recipe.eval.report_to:
            log_to_wandb(recipe, task, results, samples, rows)
    return results


if __name__ == "__main__":
    checkpoints, recipe_args = split_eval_args(sys.argv[1:])
    try:
        recipe = load_recipe(recipe_args)
    except RecipeError as err:
        sys.exit(f"error: {err}")
    main(recipe, checkpoints)
