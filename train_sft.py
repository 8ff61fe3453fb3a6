"""MRSI: LoRA SFT on gold annotations rendered through the reasoning styles.

    accelerate launch train_sft.py recipe=tiny
    accelerate launch --config_file recipes/accelerate/zero2.yaml train_sft.py recipe=mcr_qwen \\
        data.root=/path/to/Twitter10000_v2.0 data.images=/path/to/images

The training split is injected once (``mrsi`` section: styles, seed, D1/D2 split) and saved;
SFT trains on D1 with the loss on the assistant's completion only. GRPO then starts from the
saved adapter: ``train_grpo.py recipe=... model.init_adapter=<sft output_dir>``.
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
from trl import SFTConfig, SFTTrainer

from mcr.config import Recipe, RecipeError, load_recipe
from mcr.training import (
    configure_wandb,
    ensure_data,
    ensure_model,
    load_processor,
    load_split,
    lora_config,
    model_init_kwargs,
    prepare_mrsi,
    print_summary,
    write_metrics,
)

logger = logging.getLogger("mcr.train_sft")


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

    sft_kwargs = {**recipe.sft, "output_dir": recipe.sft_output_dir}
    training_args = SFTConfig(**sft_kwargs, seed=recipe.seed, model_init_kwargs=model_init_kwargs(recipe))
    configure_wandb(training_args.report_to, training_args.output_dir)
    logger.info("recipe %s -> %s", recipe.name, training_args.output_dir)

    ##########################################
    # Model, data, and the injected D1 (SFT)
    ##########################################
    with state.main_process_first():
        model_path = ensure_model(recipe)
        ensure_data(recipe)
        injected = prepare_mrsi(recipe, load_split(recipe, recipe.data.train_split))
    train_dataset = injected["sft"].select_columns(["prompt", "completion", "image"])
    if recipe.data.max_train_samples is not None:
        train_dataset = train_dataset.select(range(min(len(train_dataset), recipe.data.max_train_samples)))
    logger.info("%d SFT examples (D1) from %s", len(train_dataset), recipe.mrsi_dir)
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )

    #########
    # Trainer
    #########
    trainer = SFTTrainer(
        model=model_path,
        args=training_args,
        train_dataset=train_dataset,
        processing_class=processor,
        peft_config=lora_config(recipe),
    )

    ###############
    # Training loop
    ###############
    checkpoint = None
    if recipe.resume == "auto" and Path(training_args.output_dir).is_dir():
        checkpoint = get_last_checkpoint(training_args.output_dir)
        logger.info("resuming from %s", checkpoint or "scratch (no checkpoint yet)")
    elif recipe.resume and recipe.resume != "auto":
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
        print_summary(
            f"MCR SFT run '{recipe.name}'", training_args.output_dir, metrics, time.perf_counter() - started
        )
    state.wait_for_everyone()
    return metrics


if __name__ == "__main__":
    try:
        recipe = load_recipe(sys.argv[1:])
    except RecipeError as err:
        sys.exit(f"error: {err}")
    main(recipe)
