"""Glue shared by the training entry points: model, data, LoRA, logging and metrics."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mcr.config import Recipe
from mcr.data.schema import Record

logger = logging.getLogger(__name__)


def wandb_logged_in() -> bool:
    """True when W&B has credentials: WANDB_API_KEY or an api.wandb.ai entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return "api.wandb.ai" in netrc.read_text()
    except OSError:
        return False


def configure_wandb(report_to: Any, output_dir: str, project: str = "mcr") -> None:
    """Make W&B logging work everywhere: offline when there is no login, files in the run's folder."""
    targets = [report_to] if isinstance(report_to, str) else list(report_to or [])
    if "wandb" not in targets and "all" not in targets:
        return
    os.environ.setdefault("WANDB_PROJECT", project)
    os.environ.setdefault("WANDB_DIR", output_dir)
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    if "WANDB_MODE" not in os.environ and not wandb_logged_in():
        os.environ["WANDB_MODE"] = "offline"
        logger.info(
            "no W&B login found: logging offline to %s/wandb (sync later with `wandb sync`)", output_dir
        )


def ensure_model(recipe: Recipe) -> str:
    """The model path; builds the offline tiny model there first when the recipe asks for it."""
    path = recipe.model.name_or_path
    if recipe.model.build_tiny and not (Path(path) / "config.json").is_file():
        from mcr.tiny_model import TinySpec, build_tiny_model

        logger.info("building the tiny Qwen2.5-VL at %s", path)
        spec = TinySpec(min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels)
        build_tiny_model(path, seed=recipe.model.tiny_seed, spec=spec)
    return path


def ensure_data(recipe: Recipe) -> None:
    """Synthesize the data set at ``data.root`` when the recipe asks for it and it is missing."""
    synth = recipe.data.synth
    if synth.n > 0 and not (Path(recipe.data.root) / "txt").is_dir():
        from mcr.data.synth_gmner import write_synthetic_gmner

        logger.info("synthesizing %d GMNER posts at %s", synth.n, recipe.data.root)
        write_synthetic_gmner(
            recipe.data.root,
            synth.n,
            synth.seed,
            images_dirname=os.path.relpath(recipe.images_dir, recipe.data.root),
        )


def load_split(recipe: Recipe, split: str) -> list[Record]:
    """Load a split with its images, failing before any training when one is missing."""
    from mcr.data.twitter_gmner import check_images, load_twitter_gmner

    if recipe.data.format != "twitter-gmner":
        raise ValueError(f"data.format {recipe.data.format!r} is not supported; expected 'twitter-gmner'")
    records = load_twitter_gmner(recipe.data.root, split, images=recipe.images_dir)
    check_images(records, recipe.images_dir)
    return records


def lora_config(recipe: Recipe):
    from peft import LoraConfig

    if not recipe.lora.enabled:
        return None
    return LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=recipe.lora.target_modules,
        task_type="CAUSAL_LM",
    )


def model_init_kwargs(recipe: Recipe) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": recipe.model.dtype}
    if recipe.model.attn_implementation:
        kwargs["attn_implementation"] = recipe.model.attn_implementation
    return kwargs


def reward_means(log_history: list[dict[str, Any]], last: int = 5) -> dict[str, float]:
    """Mean of each logged reward over the last ``last`` logging steps."""
    steps = [h for h in log_history if "reward" in h]
    tail = steps[-last:]
    keys = sorted(
        {k for h in tail for k in h if k == "reward" or (k.startswith("rewards/") and k.endswith("/mean"))}
    )
    return {k: sum(h[k] for h in tail if k in h) / sum(1 for h in tail if k in h) for k in keys}


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


def load_processor(path: str, *, min_pixels: int, max_pixels: int):
    """The model's processor, left-padded, resizing images exactly as the gold boxes assume."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path, padding_side="left", truncation_side="left")
    processor.image_processor.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    for attr in ("min_pixels", "max_pixels"):  # older processors also keep these
        if hasattr(processor.image_processor, attr):
            setattr(processor.image_processor, attr, min_pixels if attr == "min_pixels" else max_pixels)
    return processor
