"""What an evaluation leaves behind: files per benchmark and checkpoint, one comparison table
per benchmark, and W&B metrics with a table of samples."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from mcr.benchmarks import Benchmark, get_benchmark
from mcr.config import Recipe
from mcr.data.rows import row_images
from mcr.runtime import configure_wandb
from mcr.wandb_boxes import boxed_image


def write_outputs(folder: Path, metrics: dict, samples: list[dict]) -> None:
    """``predictions.jsonl`` (one sample per line) and ``metrics.json`` of one benchmark and checkpoint."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "predictions.jsonl", "w") as f:
        for s in samples:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2))


def comparison_table(task: Benchmark, results: dict[str, dict]) -> str:
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
    """Metrics as ``eval/<benchmark>/<checkpoint>/<metric>`` and one table of samples: each image
    with its gold and predicted boxes drawn (``mcr.wandb_boxes``), a row per image."""
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
            for probe, figures in m.get("reliance", {}).items():
                for key, value in figures.items():
                    flat[f"{prefix}/reliance/{probe}/{key}"] = value
    run.log(flat)
    reward_names = list(recipe.rewards.funcs)
    table = wandb.Table(
        columns=[
            "benchmark",
            "checkpoint",
            "id",
            "image_index",
            "image",
            "input",
            "gold",
            "prediction",
            "reward",
            *reward_names,
        ]
    )
    for bench, by_label in samples.items():
        benchmark = get_benchmark(bench)
        by_id = {row["id"]: row for row in rows[bench]}
        for label, items in by_label.items():
            for s in items[: recipe.eval.log_samples]:
                row = by_id[s["id"]]
                overlay = benchmark.box_overlay(row, s["prediction"])
                for k, image in enumerate(row_images(row)):  # every image of a multi-image sample
                    table.add_data(
                        bench,
                        label,
                        s["id"],
                        k,
                        boxed_image(wandb, image, overlay if k == 0 else None),
                        row["text"],
                        s["gold"],
                        s["prediction"],
                        s["reward"],
                        *[s["rewards"].get(n) for n in reward_names],
                    )
    run.log({"eval/samples": table})
    run.finish()
    wandb.teardown()  # wait for W&B's writer to flush the run to disk before returning
