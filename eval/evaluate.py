"""Evaluate checkpoints of a run on benchmarks and compare them in one table per benchmark.

    accelerate launch eval/evaluate.py recipe=tiny checkpoints=[base,outputs/tiny-sft,outputs/tiny-grpo]
    accelerate launch eval/evaluate.py recipe=mcr_qwen checkpoint=outputs/mcr_qwen-grpo \\
        benchmarks=[gmner,mate,mmra] data.root=/data/Twitter10000_v2.0 data.images=/data/twitter_images \\
        eval.data.mate.root=/data/MATE eval.data.mmra.root=/data/MMRA

``checkpoint=DIR`` or ``checkpoints=[...]`` name adapters (or full model folders); ``base`` is
the recipe's model untouched. ``benchmarks=[...]`` (``eval.benchmarks``) picks the benchmarks;
by default the recipe's own task on its ``data.root``. Every other argument is a recipe key
(``eval.batch_size=32``, ``eval.split=dev``, ``eval.data.grec.split=testA``). Per benchmark and
checkpoint the run writes ``<eval.output_dir>/<benchmark>/<checkpoint>/{predictions.jsonl,
metrics.json}``, prints one comparison table per benchmark, and logs metrics and a table of
samples to W&B when ``eval.report_to`` includes ``wandb``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from mcr.checkpoints import load_checkpoint
from mcr.config import BenchmarkDataArgs, DataArgs, Recipe, RecipeError, load_recipe
from mcr.eval.benchmarks import get_benchmark
from mcr.eval.generate import generate, row_images
from mcr.rewards import REGISTRY, clear_caches
from mcr.training import (
    configure_wandb,
    ensure_data,
    ensure_model,
    load_processor,
    model_init_kwargs,
    process_state,
    setup_logging,
)

logger = logging.getLogger("mcr.evaluate")


def split_eval_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(checkpoints, recipe arguments) from the command line; ``benchmarks=`` is ``eval.benchmarks=``."""
    checkpoints, rest = [], []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in ("checkpoint", "checkpoints"):
            checkpoints += [c.strip() for c in value.strip("[]").split(",") if c.strip()]
        elif key == "benchmarks":
            rest.append(f"eval.benchmarks={value}")
        else:
            rest.append(arg)
    return checkpoints or ["base"], rest


def checkpoint_label(checkpoint: str) -> str:
    return "untrained" if checkpoint == "base" else Path(checkpoint).name


def benchmark_setup(recipe: Recipe, name: str) -> tuple[Recipe, Any, str]:
    """(the recipe as the benchmark sees it, the benchmark, its split). The recipe's own task reads
    ``data.*`` unless ``eval.data.<task>.root`` is given; any other benchmark reads
    ``eval.data.<name>``."""
    benchmark = get_benchmark(name)
    data = recipe.eval.data.get(benchmark.name) or BenchmarkDataArgs()
    if benchmark.name == recipe.task and data.root is None:
        return recipe, benchmark, data.split or recipe.eval.split
    if data.root is None:
        raise RecipeError(
            f"benchmark {benchmark.name!r} needs its data: pass eval.data.{benchmark.name}.root=/path "
            f"(and eval.data.{benchmark.name}.images=... where the images live elsewhere)"
        )
    derived = dataclasses.replace(
        recipe,
        task=benchmark.name,
        data=DataArgs(format=benchmark.data_format, root=data.root, images=data.images),
    )
    return derived, benchmark, data.split or benchmark.default_split


def check_backend(recipe: Recipe) -> None:
    """Fail early on a backend that cannot run here."""
    if recipe.eval.backend not in ("hf", "vllm"):
        raise RecipeError(f"eval.backend must be hf or vllm, not {recipe.eval.backend!r}")
    if recipe.eval.backend == "vllm":
        from mcr.eval.vllm_backend import require_vllm

        require_vllm()
        if process_state().num_processes > 1:
            raise RecipeError(
                "eval.backend=vllm runs in one process (set eval.vllm.tensor_parallel_size for several "
                "GPUs); launch it without --num_processes"
            )


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
    recipe: Recipe,
    task: Any,
    examples: list,
    rows: list[dict],
    completions: list[str],
    *,
    rewarded: bool = True,
) -> tuple[dict, list]:
    """The benchmark's official metrics and format rate, plus — on the task the recipe trains
    (``rewarded``) — the recipe's rewards; and per-sample records."""
    metrics = task.score(examples, rows, completions)
    metrics["format_rate"] = round(sum(map(task.format_score, completions)) / len(completions), 4)
    scores, totals = {}, [None] * len(completions)
    if rewarded:
        scores = reward_scores(recipe, completions, rows)
        totals = total_rewards(recipe, scores)
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


def comparison_table(task: Any, results: dict[str, dict]) -> str:
    """One line per checkpoint: format rate, the benchmark's headline metrics, mean total reward."""
    names = list(task.headline(next(iter(results.values()))))
    rewarded = all("mean_reward" in m for m in results.values())
    header = (
        f"{'checkpoint':<22}{'format':>8}"
        + "".join(f"{n:>11}" for n in names)
        + (f"{'reward':>9}" if rewarded else "")
    )
    lines = [header, "-" * len(header)]
    for label, m in results.items():
        values = task.headline(m)
        cells = "".join(f"{values[n]:>11.1f}" for n in names)
        reward = f"{m['mean_reward']:>9.3f}" if rewarded else ""
        lines.append(f"{label:<22}{m['format_rate']:>8.2f}{cells}{reward}")
    return "\n".join(lines)


def log_to_wandb(
    recipe: Recipe,
    results: dict[str, dict[str, dict]],
    samples: dict[str, dict[str, list]],
    rows: dict[str, list[dict]],
) -> None:
    """Metrics as ``eval/<benchmark>/<checkpoint>/<metric>`` and one table of samples."""
    import wandb

    configure_wandb(recipe.eval.report_to, recipe.eval_dir)
    run = wandb.init(name=f"{recipe.name}-eval", job_type="eval", config=asdict(recipe), dir=recipe.eval_dir)
    flat = {}
    for bench, by_label in results.items():
        task = get_benchmark(bench)
        for label, m in by_label.items():
            prefix = f"eval/{bench}/{label}"
            flat[f"{prefix}/format_rate"] = m["format_rate"]
            if "mean_reward" in m:
                flat[f"{prefix}/mean_reward"] = m["mean_reward"]
            for key, value in task.headline(m).items():
                flat[f"{prefix}/{key.lower().replace(' ', '_')}"] = value
            for name, value in m.get("rewards", {}).items():
                flat[f"{prefix}/rewards/{name}"] = value
    run.log(flat)
    reward_names = list(recipe.rewards.funcs)
    table = wandb.Table(
        columns=[
            "benchmark",
            "checkpoint",
            "id",
            "image",
            "input",
            "gold",
            "prediction",
            "reward",
            *reward_names,
        ]
    )
    for bench, by_label in samples.items():
        by_id = {row["id"]: row for row in rows[bench]}
        for label, items in by_label.items():
            for s in items[: recipe.eval.log_samples]:
                row = by_id[s["id"]]
                table.add_data(
                    bench,
                    label,
                    s["id"],
                    wandb.Image(row_images(row)[0]),
                    row["text"],
                    s["gold"],
                    s["prediction"],
                    s["reward"],
                    *[s["rewards"].get(n) for n in reward_names],
                )
    run.log({"eval/samples": table})
    run.finish()
    wandb.teardown()  # wait for W&B's writer to flush the run to disk before returning


def _open_images(row: dict) -> None:
    """Replace the row's image path(s) by the decoded image(s), keeping one or a list."""
    images = []
    for path in row_images(row):
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    row["image"] = images if isinstance(row["image"], list) else images[0]


def main(recipe: Recipe, checkpoints: list[str]) -> dict[str, dict[str, dict]]:
    check_backend(recipe)
    state = process_state()
    setup_logging(state.is_main_process)

    names = [get_benchmark(n).name for n in (recipe.eval.benchmarks or [recipe.task])]
    setups = {name: benchmark_setup(recipe, name) for name in names}
    with state.main_process_first():
        model_path = ensure_model(recipe)
        if recipe.task in names and setups[recipe.task][0] is recipe:
            ensure_data(recipe)
        examples = {name: bench.load(r, split) for name, (r, bench, split) in setups.items()}
    rows = {}
    for name, (r, bench, split) in setups.items():
        if recipe.eval.max_samples is not None:
            examples[name] = examples[name][: recipe.eval.max_samples]
        rows[name] = bench.rows(r, examples[name])
        for row in rows[name]:
            _open_images(row)
        logger.info("%s: %d examples of the %s split", name, len(rows[name]), split)
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    out_dir = Path(recipe.eval_dir)
    logger.info(
        "evaluating %s on %s -> %s (%d process%s)",
        checkpoints,
        names,
        out_dir,
        state.num_processes,
        "es" if state.num_processes > 1 else "",
    )

    results: dict[str, dict[str, dict]] = {name: {} for name in names}
    samples: dict[str, dict[str, list]] = {name: {} for name in names}
    sampling = {
        "max_new_tokens": recipe.eval.max_new_tokens,
        "do_sample": recipe.eval.do_sample,
        "temperature": recipe.eval.temperature,
    }
    for checkpoint in checkpoints:
        label = checkpoint_label(checkpoint)
        if recipe.eval.backend == "vllm":
            from mcr.eval.vllm_backend import VllmGenerator, model_folder

            engine = VllmGenerator(
                model_folder(checkpoint, model_path, out_dir / "merged"),
                min_pixels=recipe.model.min_pixels,
                max_pixels=recipe.model.max_pixels,
                max_images=max(len(row_images(row)) for r in rows.values() for row in r),
                engine=recipe.eval.vllm,
            )
            complete = partial(engine.generate, processor, **sampling)
        else:
            model = load_checkpoint(
                None if checkpoint == "base" else checkpoint, model_path, **model_init_kwargs(recipe)
            )
            model.to(state.device).eval()
            complete = partial(generate, model, processor, batch_size=recipe.eval.batch_size, **sampling)

        for name, (r, bench, split) in setups.items():
            completions = complete(rows[name], desc=f"{name} {label}")
            clear_caches()
            metrics, samples[name][label] = evaluate_completions(
                r, bench, examples[name], rows[name], completions, rewarded=name == recipe.task
            )
            metrics.update(checkpoint=checkpoint, split=split)
            results[name][label] = metrics
            if state.is_main_process:
                folder = out_dir / name / label
                folder.mkdir(parents=True, exist_ok=True)
                with open(folder / "predictions.jsonl", "w") as f:
                    for s in samples[name][label]:
                        f.write(json.dumps(s, ensure_ascii=False) + "\n")
                (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))
        if recipe.eval.backend == "vllm":
            engine.close()
        else:
            del model

    if state.is_main_process:
        (out_dir / "comparison.json").write_text(json.dumps(results, indent=2))
        for name, (_, bench, split) in setups.items():
            print(
                f"\n== MCR evaluation '{recipe.name}': {name}, {split} split, {len(rows[name])} examples =="
            )
            print(comparison_table(bench, results[name]), flush=True)
        if "wandb" in recipe.eval.report_to:
            log_to_wandb(recipe, results, samples, rows)
    return results


if __name__ == "__main__":
    checkpoints, recipe_args = split_eval_args(sys.argv[1:])
    try:
        recipe = load_recipe(recipe_args)
        for name in recipe.eval.benchmarks or [recipe.task]:
            benchmark_setup(recipe, name)  # fail on missing benchmark data before loading anything
        check_backend(recipe)
    except (RecipeError, RuntimeError, ValueError) as err:
        sys.exit(f"error: {err}")
    main(recipe, checkpoints)
