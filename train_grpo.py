"""CVO: GRPO training of a Qwen2.5-VL-architecture model with verifiable rewards.

    accelerate launch train_grpo.py recipe=tiny
    accelerate launch --config_file recipes/accelerate/zero2.yaml train_grpo.py recipe=mcr_qwen \\
        data.root=/path/to/Twitter10000_v2.0 data.images=/path/to/images

Arguments are ``recipe=NAME`` (a file in ``recipes/``) and dotted overrides of its keys.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import datasets
import transformers
from accelerate import PartialState
from transformers.trainer_utils import get_last_checkpoint
from trl import GRPOConfig, GRPOTrainer

from mcr.config import Recipe, RecipeError, load_recipe
from mcr.data.grpo_dataset import build_grpo_dataset
from mcr.rewards import get_reward_funcs
from mcr.training import (
    configure_wandb,
    ensure_data,
    ensure_model,
    load_processor,
    load_split,
    lora_config,
    model_init_kwargs,
    write_metrics,
)

logger = logging.getLogger("mcr.train_grpo")


def main(recipe: Recipe) -> dict:
    started = time.perf_counter()
    state = PartialState()

    ##########
    # Logging
    ##########
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO,
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    if not state.is_main_process:
        logging.getLogger().setLevel(logging.WARNING)
    transformers.utils.logging.set_verbosity_warning()
    datasets.utils.logging.set_verbosity_warning()
    transformers.set_seed(recipe.seed)

    reward_funcs, reward_weights = get_reward_funcs(
        recipe.rewards.funcs, iou_threshold=recipe.rewards.iou_threshold
    )
    grpo_kwargs = {"output_dir": f"outputs/{recipe.name}", **recipe.grpo}
    training_args = GRPOConfig(
        **grpo_kwargs,
        seed=recipe.seed,
        reward_weights=reward_weights,
        model_init_kwargs=model_init_kwargs(recipe),
    )
    configure_wandb(training_args.report_to, training_args.output_dir)
    logger.info("recipe %s -> %s", recipe.name, training_args.output_dir)

    ###################################
    # Model and data (built if needed)
    ###################################
    with state.main_process_first():
        model_path = ensure_model(recipe)
        ensure_data(recipe)
        records = load_split(recipe, recipe.data.train_split)
        eval_records = load_split(recipe, recipe.data.eval_split) if recipe.data.eval_split else None
    if recipe.data.max_train_samples is not None:
        records = records[: recipe.data.max_train_samples]
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    dataset_kwargs = {
        "task": recipe.task,
        "min_pixels": recipe.model.min_pixels,
        "max_pixels": recipe.model.max_pixels,
    }
    train_dataset = build_grpo_dataset(records, **dataset_kwargs)
    eval_dataset = build_grpo_dataset(eval_records, **dataset_kwargs) if eval_records else None
    logger.info(
        "%d training prompts from %s (%s split)",
        len(train_dataset),
        recipe.data.root,
        recipe.data.train_split,
    )

    #########
    # Trainer
    #########
    trainer = GRPOTrainer(
        model=model_path,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=lora_config(recipe),
    )

    ###############
    # Training loop
    ###############
    checkpoint = None
    if recipe.resume == "auto":
        checkpoint = (
            get_last_checkpoint(training_args.output_dir) if Path(training_args.output_dir).is_dir() else None
        )
        logger.info("resuming from %s", checkpoint or "scratch (no checkpoint yet)")
    elif recipe.resume:
        checkpoint = recipe.resume
    train_result = trainer.train(resume_from_checkpoint=checkpoint)

    ##################################
    # Save the adapter and the metrics
    ##################################
    trainer.save_model(training_args.output_dir)
    processor.save_pretrained(training_args.output_dir)
    trainer.save_metrics("train", train_result.metrics)
    trainer.save_state()
    metrics = {}
    if state.is_main_process:
        metrics = write_metrics(
            Path(training_args.output_dir) / "metrics.json",
            recipe,
            train_result.metrics,
            trainer.state.log_history,
        )
        print_summary(recipe, training_args, metrics, time.perf_counter() - started)
    state.wait_for_everyone()
    return metrics


def print_summary(recipe: Recipe, args: GRPOConfig, metrics: dict, seconds: float) -> None:
    rewards_first, rewards_last = metrics["first_rewards"], metrics["final_rewards"]
    train_seconds = metrics["train"].get("train_runtime", 0)
    lines = [
        "",
        f"== MCR GRPO run '{recipe.name}' done in {seconds:.0f}s ({train_seconds:.0f}s training) ==",
        f"output:   {args.output_dir} (LoRA adapter, metrics.json, checkpoints)",
        f"steps:    {metrics['log_history'][-1].get('step', '?')}",
        "rewards (mean of first / last logged steps):",
    ]
    for key in rewards_last:
        lines.append(f"  {key:<32} {rewards_first.get(key, float('nan')):7.3f} -> {rewards_last[key]:7.3f}")
    print("\n".join(lines), flush=True)


if __name__ == "__main__":
    try:
        recipe = load_recipe(sys.argv[1:])
    except RecipeError as err:
        sys.exit(f"error: {err}")
    main(recipe)
