"""CVO: GRPO training of a vision-language model with verifiable rewards.

    mcr grpo recipe=tiny                                  # one process
    accelerate launch -m mcr.train_grpo recipe=tiny       # the processes of accelerate's config
    accelerate launch --config_file recipes/accelerate/zero2.yaml -m mcr.train_grpo recipe=mcr_qwen \\
        data.root=/path/to/Twitter10000_v2.0 data.images=/path/to/images

From a clone, ``accelerate launch train_grpo.py recipe=mcr_qwen`` runs the same (the script calls
this module). Arguments are ``recipe=NAME`` (a file in ``recipes/`` or a YAML path) and dotted
overrides of its keys; ``model.init_adapter=<sft output_dir>`` starts from the SFT adapter
(``mcr.train_sft``).
"""

from __future__ import annotations

import logging
import time

import transformers
from trl import GRPOConfig

from mcr.callbacks import BoxSamplesCallback, MonitorCallback
from mcr.checkpoints import adapter_chain, write_lineage
from mcr.config import Recipe
from mcr.data.rows import rows_dataset
from mcr.generation import GRPOTrainer
from mcr.lengths import check_grpo_lengths
from mcr.models import ensure_model, load_policy, load_processor, model_init_kwargs
from mcr.mrsi import prepare_mrsi
from mcr.rewards import Reward, reward_set
from mcr.rewards.monitors import MONITOR_REWARDS, MONITORS
from mcr.runtime import configure_wandb, process_state, run_entry_point, setup_logging
from mcr.task_data import ensure_data, load_split, task_rows
from mcr.training import on_cpu_defaults, train_and_save

logger = logging.getLogger("mcr.train_grpo")


def main(recipe: Recipe) -> dict:
    started = time.perf_counter()
    trainer, processor = build_trainer(recipe)

    ##############################
    # Train, save, print a summary
    ##############################
    return train_and_save(trainer, processor, recipe, f"MCR GRPO run '{recipe.name}'", started)


def build_trainer(recipe: Recipe) -> tuple[GRPOTrainer, object]:
    """The GRPO trainer of a recipe, ready to train, and the processor (built model and data
    included, as ``main`` trains them)."""
    state = process_state()

    ##########
    # Logging
    ##########
    setup_logging(state.is_main_process)
    transformers.set_seed(recipe.seed)

    reward_funcs, reward_weights = reward_set(recipe.rewards)
    if recipe.monitors.enabled:  # logged beside the rewards, weight 0: they never change the reward
        monitors = [Reward(name) for name in MONITOR_REWARDS if name not in recipe.rewards.funcs]
        reward_funcs, reward_weights = reward_funcs + monitors, reward_weights + [0.0] * len(monitors)
    grpo_kwargs = on_cpu_defaults({**recipe.grpo, "output_dir": recipe.grpo_output_dir})
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
    # With MRSI styles in the recipe, GRPO trains on D2, the part of the split SFT did not see.
    with state.main_process_first():
        model_path = ensure_model(recipe)
        ensure_data(recipe)
        examples = load_split(recipe, recipe.data.train_split)
        eval_examples = load_split(recipe, recipe.data.eval_split) if recipe.data.eval_split else None
        injected = prepare_mrsi(recipe, examples) if recipe.mrsi.styles else None
    if injected is not None:
        if "grpo" not in injected:
            raise ValueError(f"mrsi.sft_fraction={recipe.mrsi.sft_fraction} leaves no D2 examples for GRPO")
        train_dataset, source = injected["grpo"], f"MRSI D2 of {recipe.data.root}"
    else:
        train_dataset, source = rows_dataset(task_rows(recipe, examples)), recipe.data.root
    if recipe.data.max_train_samples is not None:
        train_dataset = train_dataset.select(range(min(len(train_dataset), recipe.data.max_train_samples)))
    eval_dataset = rows_dataset(task_rows(recipe, eval_examples)) if eval_examples else None
    logger.info("%d training prompts from %s (%s split)", len(train_dataset), source, recipe.data.train_split)
    processor = load_processor(
        model_path, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    longest_prompt = check_grpo_lengths(processor, train_dataset, model_path, training_args, recipe)

    #########
    # Trainer
    #########
    model, peft_config = load_policy(recipe, model_path)
    if state.is_main_process and recipe.model.init_adapter and recipe.model.merge_init_adapter:
        # the adapter trained here sits on weights with the SFT adapter merged in: record the chain
        recorded_base, merged = adapter_chain(recipe.model.init_adapter)
        write_lineage(training_args.output_dir, recorded_base or model_path, merged)
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=reward_funcs,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=peft_config,
        generation=recipe.grpo_generation,
        longest_prompt=longest_prompt,
    )

    if recipe.monitors.enabled:
        trainer.add_callback(MonitorCallback(dict(recipe.monitors.thresholds), MONITORS))
    if "wandb" in (training_args.report_to or []) and recipe.monitors.log_boxes:
        columns = [
            c
            for c in ("prompt", "gold", "task", "image_size", "input_size", "box_frame")
            if c in train_dataset.column_names
        ]
        rows = train_dataset.select_columns(columns).to_list()
        trainer.add_callback(BoxSamplesCallback(trainer, rows, recipe.monitors.log_boxes))
    return trainer, processor


def run(argv: list[str] | None = None) -> None:
    """The command line: ``recipe=NAME key=value ...``, or ``--help``."""
    run_entry_point(main, __doc__, argv)


if __name__ == "__main__":
    run()
