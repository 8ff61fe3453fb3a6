"""Evaluate checkpoints of a run on benchmarks and compare them in one table per benchmark.

    mcr evaluate recipe=tiny checkpoints=[base,outputs/tiny-sft,outputs/tiny-grpo]
    accelerate launch -m mcr.eval.evaluate recipe=mcr_qwen checkpoint=outputs/mcr_qwen-grpo \\
        benchmarks=[gmner,mate,mmra] data.root=/data/Twitter10000_v2.0 data.images=/data/twitter_images \\
        eval.data.mate.root=/data/MATE eval.data.mmra.root=/data/MMRA

(From a clone, ``accelerate launch eval/evaluate.py ...`` runs the same.)

Every argument is a recipe key: ``eval.checkpoints`` (``checkpoints=[...]`` or ``checkpoint=DIR``)
names adapters or full model folders, ``base`` the recipe's model untouched; ``eval.benchmarks``
(``benchmarks=[...]``) picks the benchmarks, by default the recipe's own task on its
``data.root``; ``eval.batch_size=32``, ``eval.split=dev``, ``eval.data.grec.split=testA`` ...
Per benchmark and checkpoint the run writes ``<eval.output_dir>/<benchmark>/<checkpoint>/
{predictions.jsonl, metrics.json}``, prints one comparison table per benchmark, and logs metrics
and a table of samples to W&B when ``eval.report_to`` includes ``wandb``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from PIL import Image

from mcr.benchmarks import Benchmark, get_benchmark
from mcr.checkpoints import load_checkpoint
from mcr.config import BenchmarkDataArgs, Recipe, RecipeError
from mcr.data.rows import row_images
from mcr.eval.generate import generate
from mcr.eval.reliance import reliance_table, run_probes
from mcr.eval.report import comparison_table, log_to_wandb, write_outputs
from mcr.eval.scoring import evaluate_completions
from mcr.models import ensure_model, load_processor, model_init_kwargs
from mcr.rewards import clear_caches
from mcr.runtime import process_state, run_entry_point, setup_logging
from mcr.task_data import ensure_data

logger = logging.getLogger("mcr.evaluate")


@dataclass(frozen=True)
class Setup:
    """Where one benchmark's data come from in this run."""

    benchmark: Benchmark
    root: str
    images: str | None
    split: str
    own_task: bool  # the recipe's own task, scored with its rewards too


def checkpoint_label(checkpoint: str) -> str:
    return "untrained" if checkpoint == "base" else Path(checkpoint).name


def benchmark_setup(recipe: Recipe, name: str) -> Setup:
    """The recipe's own task reads ``data.*`` unless ``eval.data.<task>.root`` is given; any other
    benchmark reads ``eval.data.<name>``."""
    benchmark = get_benchmark(name)
    data = recipe.eval.data.get(benchmark.name) or BenchmarkDataArgs()
    if benchmark.name == recipe.task and data.root is None:
        return Setup(benchmark, recipe.data.root, recipe.data.images, data.split or recipe.eval.split, True)
    if data.root is None:
        raise RecipeError(
            f"benchmark {benchmark.name!r} needs its data: pass eval.data.{benchmark.name}.root=/path "
            f"(and eval.data.{benchmark.name}.images=... where the images live elsewhere)"
        )
    own = benchmark.name == recipe.task
    return Setup(benchmark, data.root, data.images, data.split or benchmark.default_split, own)


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


def check(recipe: Recipe) -> None:
    """Fail on missing benchmark data or a backend that cannot run here, before loading anything."""
    for name in recipe.eval.benchmarks or [recipe.task]:
        benchmark_setup(recipe, name)
    check_backend(recipe)


def _open_images(row: dict) -> None:
    """Replace the row's image path(s) by the decoded image(s), keeping one or a list."""
    images = []
    for path in row_images(row):
        with Image.open(path) as image:
            images.append(image.convert("RGB"))
    row["image"] = images if isinstance(row["image"], list) else images[0]


def main(recipe: Recipe) -> dict[str, dict[str, dict]]:
    check_backend(recipe)
    state = process_state()
    setup_logging(state.is_main_process)

    names = [get_benchmark(n).name for n in (recipe.eval.benchmarks or [recipe.task])]
    setups = {name: benchmark_setup(recipe, name) for name in names}
    with state.main_process_first():
        model_path = ensure_model(recipe)
        if any(s.own_task and s.root == recipe.data.root for s in setups.values()):
            ensure_data(recipe)
        examples = {name: s.benchmark.load(s.root, s.split, s.images) for name, s in setups.items()}
    rows = {}
    for name, s in setups.items():
        if recipe.eval.max_samples is not None:
            examples[name] = examples[name][: recipe.eval.max_samples]
        rows[name] = s.benchmark.rows(examples[name], recipe.image_space)
        for row in rows[name]:
            _open_images(row)
        logger.info("%s: %d examples of the %s split", name, len(rows[name]), s.split)
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    out_dir = Path(recipe.eval_dir)
    checkpoints = recipe.eval.checkpoints
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

        for name, s in setups.items():
            completions = complete(rows[name], desc=f"{name} {label}")
            clear_caches()
            metrics, samples[name][label] = evaluate_completions(
                recipe, s.benchmark, examples[name], rows[name], completions, rewarded=s.own_task
            )
            if recipe.eval.probes:
                metrics["reliance"] = run_probes(
                    s.benchmark,
                    recipe.eval.probes,
                    examples[name],
                    rows[name],
                    completions,
                    metrics,
                    complete,
                    recipe.image_space,
                    recipe.eval.probe_samples,
                )
            metrics.update(checkpoint=checkpoint, split=s.split)
            results[name][label] = metrics
            if state.is_main_process:
                write_outputs(out_dir / name / label, metrics, samples[name][label])
        if recipe.eval.backend == "vllm":
            engine.close()
        else:
            del model

    if state.is_main_process:
        (out_dir / "comparison.json").write_text(json.dumps(results, indent=2))
        for name, s in setups.items():
            print(
                f"\n== MCR evaluation '{recipe.name}': {name}, {s.split} split, {len(rows[name])} examples =="
            )
            print(comparison_table(s.benchmark, results[name]), flush=True)
            reliance = reliance_table(results[name])
            if reliance:
                counted = next(iter(next(iter(results[name].values()))["reliance"].values()))["examples"]
                print(
                    f"\n== modality reliance: {name}, {counted} examples, each checkpoint against itself =="
                )
                print(reliance, flush=True)
        if "wandb" in recipe.eval.report_to:
            log_to_wandb(recipe, results, samples, rows)
    return results


def run(argv: list[str] | None = None) -> None:
    """The command line: ``recipe=NAME key=value ...``, or ``--help``."""
    run_entry_point(main, __doc__, argv, check)


if __name__ == "__main__":
    run()
