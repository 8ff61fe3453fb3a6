"""MRSI: LoRA SFT on gold annotations rendered through the reasoning styles.

    mcr sft recipe=tiny                                   # one process
    accelerate launch -m mcr.train_sft recipe=tiny        # the processes of accelerate's config
    accelerate launch --config_file recipes/accelerate/zero2.yaml -m mcr.train_sft recipe=mcr_qwen \\
        data.root=/path/to/Twitter10000_v2.0 data.images=/path/to/images

From a clone, ``accelerate launch train_sft.py recipe=tiny`` runs the same (the script calls this
module). The training split is injected once (``mrsi`` section: styles, seed, D1/D2 split) and
saved; SFT trains on D1 with the loss on the assistant's completion only. GRPO then starts from
the saved adapter: ``mcr grpo recipe=... model.init_adapter=<sft output_dir>`` (``mcr.train_grpo``).
"""

from __future__ import annotations

import logging
import time

import transformers
from trl import SFTConfig, SFTTrainer

from mcr.config import Recipe
from mcr.lengths import check_sft_lengths
from mcr.models import ensure_model, load_processor, lora_config, model_init_kwargs
from mcr.mrsi import prepare_mrsi
from mcr.runtime import configure_wandb, process_state, run_entry_point, setup_logging
from mcr.task_data import ensure_data, load_split
from mcr.training import on_cpu_defaults, train_and_save

logger = logging.getLogger("mcr.train_sft")


def main(recipe: Recipe) -> dict:
    started = time.perf_counter()
    state = process_state()

    ##########
    # Logging
    ##########
    setup_logging(state.is_main_process)
    transformers.set_seed(recipe.seed)

    sft_kwargs = on_cpu_defaults({**recipe.sft, "output_dir": recipe.sft_output_dir})
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
    d1 = injected["sft"]
    if recipe.data.max_train_samples is not None:
        d1 = d1.select(range(min(len(d1), recipe.data.max_train_samples)))
    train_dataset = d1.select_columns(["prompt", "completion", "image"])
    logger.info("%d SFT examples (D1) from %s", len(train_dataset), recipe.mrsi_dir)
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    check_sft_lengths(processor, d1, training_args, recipe)

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

    ##############################
    # Train, save, print a summary
    ##############################
    return train_and_save(trainer, processor, recipe, f"MCR SFT run '{recipe.name}'", started)


def run(argv: list[str] | None = None) -> None:
    """The command line: ``recipe=NAME key=value ...``, or ``--help``."""
    run_entry_point(main, __doc__, argv)


if __name__ == "__main__":
    run()
