"""Glue shared by the training entry points: model, data, LoRA, logging and metrics."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mcr.config import Recipe

logger = logging.getLogger(__name__)
_USER_WANDB_DIR = os.environ.get("WANDB_DIR")


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
    # each run's files go to its own folder, unless the user chose one before starting
    os.environ["WANDB_DIR"] = _USER_WANDB_DIR or output_dir
    if "wandb" in sys.modules:  # a finished run earlier in this process froze W&B's settings
        sys.modules["wandb"].teardown()
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
    synth, root = recipe.data.synth, Path(recipe.data.root)
    if synth.n <= 0:
        return
    if recipe.data.format == "twitter-gmner" and not (root / "txt").is_dir():
        from mcr.data.synth_gmner import write_synthetic_gmner

        logger.info("synthesizing %d GMNER posts at %s", synth.n, root)
        write_synthetic_gmner(
            root, synth.n, synth.seed, images_dirname=os.path.relpath(recipe.images_dir, root)
        )
    elif recipe.data.format == "mate" and not (root / "train.jsonl").is_file():
        from mcr.data.synth_mate import write_synthetic_mate

        logger.info("synthesizing %d MATE instances at %s", synth.n, root)
        write_synthetic_mate(root, synth.n, synth.seed)


def load_split(recipe: Recipe, split: str) -> list:
    """Load a split of the recipe's task with its images, failing before any training when one is missing."""
    from mcr.tasks import get_task

    return get_task(recipe).load(recipe, split)


def lora_config(recipe: Recipe):
    from peft import LoraConfig

    if not recipe.lora.enabled:
        return None
    return LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=recipe.lora.target_modules,
        modules_to_save=recipe.lora.modules_to_save,
        task_type="CAUSAL_LM",
    )


def attention_implementation(requested: str | None) -> str | None:
    """``auto``: Flash-Attention 2 when flash-attn is installed and a GPU is there, else SDPA."""
    if requested != "auto":
        return requested
    import importlib.util

    import torch

    if importlib.util.find_spec("flash_attn") is not None and torch.cuda.is_available():
        return "flash_attention_2"
    return "sdpa"


def model_init_kwargs(recipe: Recipe) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": recipe.model.dtype}
    attention = attention_implementation(recipe.model.attn_implementation)
    if attention:
        kwargs["attn_implementation"] = attention
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


def prepare_mrsi(recipe: Recipe, records: list):
    """The MRSI data set (D1 as SFT pairs, D2 as GRPO rows), injected once and reused.

    It is rebuilt when anything it depends on changes (styles, seed, split, data, resizing),
    recorded in ``mrsi_config.json`` beside it.
    """
    import datasets

    from mcr.mrsi import inject, styles_dir
    from mcr.tasks import get_task

    out = Path(recipe.mrsi_dir)
    spec = {
        "task": recipe.task,
        "styles": dict(recipe.mrsi.styles),
        "templates": {  # editing a template re-injects
            style: hashlib.sha256((styles_dir(recipe.task) / f"{style}.jinja").read_bytes()).hexdigest()[:16]
            for style in recipe.mrsi.styles
            if (styles_dir(recipe.task) / f"{style}.jinja").is_file()
        },
        "seed": recipe.mrsi.seed,
        "sft_fraction": recipe.mrsi.sft_fraction,
        "data_root": str(Path(recipe.data.root).resolve()),
        "split": recipe.data.train_split,
        "records": len(records),
        "min_pixels": recipe.model.min_pixels,
        "max_pixels": recipe.model.max_pixels,
    }
    stamp = out / "mrsi_config.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == spec:
        return datasets.load_from_disk(str(out / "data"))
    if not recipe.mrsi.styles:
        raise ValueError(f"recipe {recipe.name!r} names no reasoning style: set mrsi.styles (name: weight)")
    logger.info("injecting %d records into %s with styles %s", len(records), out, spec["styles"])
    injected = inject(records, get_task(recipe), recipe)
    injected.save_to_disk(str(out / "data"))
    stamp.write_text(json.dumps(spec, indent=2))
    return datasets.load_from_disk(str(out / "data"))


def load_policy(recipe: Recipe, model_path: str):
    """The model GRPO starts from and the LoRA config to train, honouring ``model.init_adapter``.

    Without an init adapter: the path (TRL loads it) and a fresh LoRA. With one: its whole
    adapter chain merged into the base weights with a fresh LoRA on top (``merge_init_adapter``),
    or the adapter itself kept trainable on its merged predecessors.
    """
    if not recipe.model.init_adapter:
        return model_path, lora_config(recipe)
    from peft import PeftModel

    from mcr.checkpoints import adapter_chain, load_checkpoint

    if recipe.model.merge_init_adapter:
        return load_checkpoint(
            recipe.model.init_adapter, model_path, **model_init_kwargs(recipe)
        ), lora_config(recipe)
    recorded_base, chain = adapter_chain(recipe.model.init_adapter)
    base = load_checkpoint(None, recorded_base or model_path, **model_init_kwargs(recipe))
    for adapter in chain[:-1]:
        base = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    return PeftModel.from_pretrained(base, chain[-1], is_trainable=True), None


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


def process_state():
    """The process's ``accelerate.PartialState``, created here before anything else asks for it.

    Without a GPU, accelerate only forms a process group over gloo when told it runs on the CPU
    (``cpu=True``); otherwise each process of ``accelerate launch --num_processes N`` would do the
    whole job alone. DeepSpeed launches set up their own group and keep the default.
    """
    import torch
    from accelerate import PartialState

    deepspeed = os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true"
    return PartialState(cpu=not torch.cuda.is_available() and not deepspeed)


def setup_logging(is_main_process: bool) -> None:
    """INFO logs on the main process, warnings only elsewhere; quiet transformers and datasets."""
    import datasets
    import transformers

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO if is_main_process else logging.WARNING,
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    transformers.utils.logging.set_verbosity_warning()
    datasets.utils.logging.set_verbosity_warning()


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
