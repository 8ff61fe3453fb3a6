"""A checkpoint's completions on a benchmark -> its official metrics, the format rate and, on
the task the recipe trains, every reward of the recipe exactly as GRPO computes it."""

from __future__ import annotations

from typing import Any

from mcr.benchmarks import Benchmark
from mcr.config import Recipe
from mcr.rewards import reward_set

_NOT_COLUMNS = ("prompt", "completion")  # what TRL does not pass to reward functions


def reward_scores(recipe: Recipe, completions: list[str], rows: list[dict]) -> dict[str, list[float | None]]:
    """Every reward of the recipe on every completion, with the rows' columns as TRL passes them."""
    funcs, _ = reward_set(recipe.rewards)
    columns = {key: [row[key] for row in rows] for key in rows[0] if key not in _NOT_COLUMNS}
    return {fn.__name__: fn(completions, **columns) for fn in funcs}


def total_rewards(recipe: Recipe, scores: dict[str, list[float | None]]) -> list[float]:
    """The weighted sum GRPO optimises, per completion (rewards that do not apply are left out)."""
    _, weights = reward_set(recipe.rewards)
    weight = dict(zip(recipe.rewards.funcs, weights, strict=True))
    n = len(next(iter(scores.values())))
    return [sum(weight[name] * v[i] for name, v in scores.items() if v[i] is not None) for i in range(n)]


def evaluate_completions(
    recipe: Recipe,
    benchmark: Benchmark,
    examples: list,
    rows: list[dict],
    completions: list[str],
    *,
    rewarded: bool = True,
) -> tuple[dict, list[dict[str, Any]]]:
    """The benchmark's official metrics and format rate, plus — on the task the recipe trains
    (``rewarded``) — the recipe's rewards; and per-sample records."""
    metrics = benchmark.score(examples, rows, completions)
    metrics["format_rate"] = round(sum(map(benchmark.format_score, completions)) / len(completions), 4)
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
            "box_frame": row.get("box_frame", row["input_size"]),
            "gold": row["gold"],
            "reward": total,
            "rewards": {name: v[i] for name, v in scores.items()},
        }
        for i, (row, text, total) in enumerate(zip(rows, completions, totals, strict=True))
    ]
    return metrics, samples
