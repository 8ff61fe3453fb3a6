"""The run of a trainer: resume from the last complete checkpoint, train, save, write metrics
and print a summary; SIGTERM saves and stops."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mcr.config import Recipe

logger = logging.getLogger(__name__)


def on_cpu_defaults(settings: dict[str, Any]) -> dict[str, Any]:
    """A trainer config's keyword arguments, trained in fp32 without activation checkpointing when
    there is no GPU (or ``use_cpu`` asks for the CPU), unless the settings say otherwise.

    TRL's configs default to ``bf16=True`` and activation (gradient) checkpointing: on a CPU
    without native bf16, autocast emulates every matmul (a batch-16 pretraining step took 30 s
    instead of 1.3-1.6 s on an AVX2-only EPYC), and checkpointing recomputes every forward pass
    to save memory a CPU run does not lack.
    """
    import torch

    if torch.cuda.is_available() and not settings.get("use_cpu"):
        return dict(settings)
    defaults: dict[str, Any] = {"bf16": False}
    if "gradient_checkpointing" not in settings:
        defaults["activation_checkpointing"] = False
    return {**defaults, **settings}


def reward_means(log_history: list[dict[str, Any]], last: int = 5) -> dict[str, float]:
    """Mean of each logged reward over the last ``last`` logging steps."""
    steps = [h for h in log_history if "reward" in h]
    tail = steps[-last:]
    keys = sorted(
        {k for h in tail for k in h if k == "reward" or (k.startswith("rewards/") and k.endswith("/mean"))}
    )
    means = {}
    for k in keys:  # a reward with no value on any row of a step is logged as None (or NaN)
        values = [h[k] for h in tail if isinstance(h.get(k), int | float) and h[k] == h[k]]
        if values:
            means[k] = sum(values) / len(values)
    return means


def write_metrics(
    path: str | Path, recipe: Recipe, train_metrics: dict[str, Any], log_history: list[dict[str, Any]]
) -> dict[str, Any]:
    metrics = {
        "recipe": recipe.name,
        "train": train_metrics,
        "final_rewards": reward_means(log_history),
        "first_rewards": reward_means([h for h in log_history if "reward" in h][:5]),
        "log_history": log_history,
        "config": asdict(recipe),
    }
    Path(path).write_text(json.dumps(metrics, indent=2, default=str))
    return metrics


def print_summary(title: str, output_dir: str, metrics: dict[str, Any], seconds: float) -> None:
    """The closing lines of a training run: where things are and how the logged rewards or loss moved."""
    train_seconds = metrics["train"].get("train_runtime", 0)
    history = metrics["log_history"]
    lines = [
        "",
        f"== {title} done in {seconds:.0f}s ({train_seconds:.0f}s training) ==",
        f"output:   {output_dir} (adapter or weights, metrics.json, checkpoints)",
        f"steps:    {history[-1].get('step', '?') if history else 0}",
    ]
    losses = [h["loss"] for h in history if "loss" in h]
    if losses:
        lines.append(f"loss:     {losses[0]:.3f} -> {losses[-1]:.3f}")
    first, last = metrics["first_rewards"], metrics["final_rewards"]
    if last:
        lines.append("rewards (mean of first / last logged steps):")
        lines += [f"  {key:<32} {first.get(key, float('nan')):7.3f} -> {last[key]:7.3f}" for key in last]
    print("\n".join(lines), flush=True)


def resume_checkpoint(recipe: Recipe, output_dir: str) -> str | None:
    """The checkpoint to resume from: ``resume=auto`` takes the newest *complete* one in
    ``output_dir`` (see ``mcr.callbacks``), passing over any that a crash cut short."""
    from mcr.callbacks import complete_checkpoints

    if recipe.resume != "auto":
        return recipe.resume
    complete = complete_checkpoints(output_dir)
    partial = (
        sorted(p.name for p in Path(output_dir).glob("checkpoint-*") if p.is_dir() and p not in complete)
        if Path(output_dir).is_dir()
        else []
    )
    if partial:
        logger.warning("passing over incomplete checkpoint(s) %s in %s", partial, output_dir)
    checkpoint = str(complete[-1]) if complete else None
    logger.info("resuming from %s", checkpoint or "scratch (no complete checkpoint yet)")
    return checkpoint


def train_and_save(trainer, processor, recipe: Recipe, title: str, started: float) -> dict[str, Any]:
    """Train (resuming as the recipe says), save weights, processor, state and metrics; print a summary.

    A SIGTERM during training saves a checkpoint at the end of the step and exits with status 143
    without writing the final weights: the run is resumable, not finished.
    """
    import time

    from mcr.callbacks import CompleteCheckpointCallback, RankReportCallback, SigtermCallback

    sigterm = SigtermCallback()
    for callback in (CompleteCheckpointCallback(), sigterm, RankReportCallback()):
        trainer.add_callback(callback)
    output_dir = trainer.args.output_dir
    train_result = trainer.train(resume_from_checkpoint=resume_checkpoint(recipe, output_dir))
    if sigterm.terminated:
        logger.warning("stopped by SIGTERM at step %d; resume with resume=auto", trainer.state.global_step)
        raise SystemExit(143)
    trainer.save_model(output_dir)
    processor.save_pretrained(output_dir)
    trainer.save_metrics("train", train_result.metrics)
    trainer.save_state()
    metrics: dict[str, Any] = {}
    if trainer.accelerator.is_main_process:
        metrics = write_metrics(
            Path(output_dir) / "metrics.json", recipe, train_result.metrics, trainer.state.log_history
        )
        print_summary(title, output_dir, metrics, time.perf_counter() - started)
    trainer.accelerator.wait_for_everyone()
    return metrics
