"""The stages end to end on the tiny model: SFT on injected data, GRPO from its adapter, evaluation."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from mcr.checkpoints import LINEAGE_FILE, adapter_chain, export_merged, load_checkpoint
from mcr.config import load_recipe

from helpers.runs import tiny_run_args

pytestmark = pytest.mark.slow


def _overrides(tmp_path, model_dir):
    return [
        *tiny_run_args(tmp_path, model_dir, posts=30),
        f"sft.output_dir={tmp_path / 'sft'}",
        "sft.max_steps=3",
        "sft.save_steps=2",
        "sft.logging_steps=1",
        "sft.per_device_train_batch_size=4",
        "sft.report_to=none",
        f"grpo.output_dir={tmp_path / 'grpo'}",
        "grpo.max_steps=2",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=24",
        "grpo.report_to=none",
        f"eval.output_dir={tmp_path / 'eval'}",
        "eval.max_new_tokens=24",
        "eval.batch_size=4",
        "eval.max_samples=6",  # the test split of 30 posts has 3
    ]


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory, tiny_model_dir):
    import train_sft

    tmp = tmp_path_factory.mktemp("pipeline")
    recipe = load_recipe(_overrides(tmp, tiny_model_dir))
    metrics = train_sft.main(recipe)
    return tmp, recipe, metrics


def test_sft_trains_the_adapter_on_d1(sft_run):
    tmp, recipe, metrics = sft_run
    adapter = load_file(tmp / "sft" / "adapter_model.safetensors")
    lora_b = [k for k in adapter if "lora_B" in k]
    assert lora_b and any(adapter[k].abs().sum() > 0 for k in lora_b)
    assert any("visual" in k for k in adapter)  # the tiny recipe adapts the vision tower too
    first = load_file(tmp / "sft" / "checkpoint-2" / "adapter_model.safetensors")
    assert any(not torch.equal(first[k], adapter[k]) for k in adapter)
    losses = [h["loss"] for h in metrics["log_history"] if "loss" in h]
    assert losses and all(loss > 0 for loss in losses)
    injected = json.loads((tmp / "mrsi" / "mrsi_config.json").read_text())
    assert injected["styles"] == dict(recipe.mrsi.styles) and injected["records"] == 24


def test_cpu_training_runs_in_fp32_without_activation_checkpointing(sft_run):
    """TRL's configs default to bf16 and activation checkpointing; the tiny recipe sets neither,
    and on a CPU MCR trains in fp32 without recomputing activations."""
    tmp, recipe, _ = sft_run
    assert not {"bf16", "gradient_checkpointing", "activation_checkpointing"} & set(recipe.sft)
    args = torch.load(tmp / "sft" / "training_args.bin", weights_only=False)
    assert args.bf16 is False and args.activation_checkpointing is False


def test_sft_loss_is_on_the_completion_only(sft_run, tiny_model_dir):
    """TRL masks the prompt of prompt/completion data: the labels cover the assistant turn alone."""
    import datasets
    from trl.trainer.sft_trainer import DataCollatorForVisionLanguageModeling

    from mcr.models import load_processor

    tmp, _, _ = sft_run
    row = datasets.load_from_disk(str(tmp / "mrsi" / "data"))["sft"][0]
    processor = load_processor(str(tiny_model_dir), min_pixels=3136, max_pixels=50176)
    collator = DataCollatorForVisionLanguageModeling(processor, completion_only_loss=True)
    batch = collator([{"prompt": row["prompt"], "completion": row["completion"], "images": [row["image"]]}])
    labelled = batch["labels"][0][batch["labels"][0] != -100]
    text = processor.tokenizer.decode(labelled)
    assert text.startswith("<think>") and "</answer>" in text
    assert "Find the named entities" not in text and "<|image_pad|>" not in text


@pytest.mark.parametrize("merge", [True, False])
def test_grpo_starts_from_the_sft_adapter(sft_run, tiny_model_dir, merge):
    import train_grpo

    tmp, _, _ = sft_run
    out = tmp / f"grpo-{merge}"
    recipe = load_recipe(
        [
            *_overrides(tmp, tiny_model_dir),
            f"grpo.output_dir={out}",
            f"model.init_adapter={tmp / 'sft'}",
            f"model.merge_init_adapter={merge}",
        ]
    )
    train_grpo.main(recipe)
    assert (out / "adapter_model.safetensors").is_file()
    args = torch.load(out / "training_args.bin", weights_only=False)
    assert args.bf16 is False and args.activation_checkpointing is False  # fp32 on the CPU
    sft = load_file(tmp / "sft" / "adapter_model.safetensors")
    grpo = load_file(out / "adapter_model.safetensors")
    if merge:
        # a fresh adapter on the merged weights, with the chain recorded for loading
        assert (out / LINEAGE_FILE).is_file()
        assert adapter_chain(out)[1] == [str((tmp / "sft").resolve()), str(out)]
    else:
        # the SFT adapter itself kept training
        assert not (out / LINEAGE_FILE).exists()
        assert set(sft) == set(grpo)


def test_checkpoint_loading_and_export(sft_run, tiny_model_dir, tmp_path):
    tmp, _, _ = sft_run
    base = load_checkpoint(None, str(tiny_model_dir))
    tuned = load_checkpoint(str(tmp / "sft"), str(tiny_model_dir))
    name = "model.language_model.layers.0.self_attn.q_proj.weight"
    assert not torch.equal(base.state_dict()[name], tuned.state_dict()[name])
    exported = export_merged(str(tmp / "sft"), str(tiny_model_dir), tmp_path / "full")
    again = load_checkpoint(str(exported), str(tiny_model_dir))
    from mcr.cli import main as mcr_main

    mcr_main(
        [
            "export",
            "--checkpoint",
            str(tmp / "sft"),
            "--base",
            str(tiny_model_dir),
            "--out",
            str(tmp_path / "cli"),
        ]
    )
    assert (tmp_path / "cli" / "model.safetensors").is_file() and (
        tmp_path / "cli" / "processor_config.json"
    ).is_file()
    assert torch.equal(again.state_dict()[name], tuned.state_dict()[name])


def test_evaluation_compares_checkpoints_and_logs_to_wandb(sft_run, tiny_model_dir):
    from mcr.eval.evaluate import main as evaluate

    tmp, _, _ = sft_run
    recipe = load_recipe(
        [*_overrides(tmp, tiny_model_dir), "eval.report_to=[wandb]", f"checkpoints=[base,{tmp / 'sft'}]"]
    )
    results = evaluate(recipe)
    assert set(results) == {"gmner"} and set(results["gmner"]) == {"untrained", "sft"}
    for label in results["gmner"]:
        metrics = json.loads((tmp / "eval" / "gmner" / label / "metrics.json").read_text())
        assert {"gmner", "mner", "eeg", "bias", "format_rate", "mean_reward", "rewards"} <= set(metrics)
        lines = (tmp / "eval" / "gmner" / label / "predictions.jsonl").read_text().splitlines()
        assert len(lines) == 3 and {"id", "prediction", "gold", "reward", "rewards"} <= set(
            json.loads(lines[0])
        )
    (run,) = (tmp / "eval" / "wandb").glob("offline-run-*")
    record = next(run.glob("run-*.wandb")).read_bytes()  # the offline run's log, to sync later
    for key in (
        "eval/gmner/sft/gmner_f1",
        "eval/gmner/untrained/format_rate",
        "eval/gmner/sft/rewards/consistency",
    ):
        assert key.encode() in record
    (table_file,) = run.glob("files/media/table/eval/samples_*.table.json")
    table = json.loads(table_file.read_text())
    assert table["columns"][:8] == [
        "benchmark",
        "checkpoint",
        "id",
        "image_index",
        "image",
        "input",
        "gold",
        "prediction",
    ]
    assert len(table["data"]) == 2 * 3  # every sample of both checkpoints


def test_mate_evaluation_end_to_end(tmp_path, tiny_model_dir):
    """The tiny model on synthetic MATE: files per checkpoint, MATE's breakdowns, W&B offline."""
    from mcr.benchmarks.mate.synthetic import write_synthetic_mate
    from mcr.eval.evaluate import main as evaluate

    root = write_synthetic_mate(tmp_path / "mate", n=30, seed=0, progress=False)
    recipe = load_recipe(
        [
            "recipe=tiny_mate",
            f"model.name_or_path={tiny_model_dir}",
            "model.build_tiny=false",
            f"data.root={root}",
            f"data.images={root}",
            f"eval.output_dir={tmp_path / 'eval'}",
            "eval.max_new_tokens=8",
            "eval.batch_size=4",
            "eval.report_to=[wandb]",
        ]
    )
    results = evaluate(recipe)
    metrics = json.loads((tmp_path / "eval" / "mate" / "untrained" / "metrics.json").read_text())
    assert metrics == json.loads(json.dumps(results["mate"]["untrained"]))
    assert {"accuracy", "by_task", "by_object_count", "by_pair", "format_rate", "mean_reward"} <= set(metrics)
    assert metrics["counts"] == {"instances": 3, "missing_predictions": 0}
    (run,) = (tmp_path / "eval" / "wandb").glob("offline-run-*")
    assert b"eval/mate/untrained/accuracy" in next(run.glob("run-*.wandb")).read_bytes()
