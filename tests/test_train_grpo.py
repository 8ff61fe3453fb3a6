"""GRPO end to end on the tiny model: real steps with LoRA, saved adapter, metrics, W&B offline."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from mcr.config import load_recipe

from helpers.runs import REPO, tiny_run_args

DENSE_REWARD = REPO / "tests" / "helpers" / "dense_reward.py"  # registers test_distinct_chars


def _overrides(tmp_path, model_dir, out):
    return [
        *tiny_run_args(tmp_path, model_dir, posts=20),
        f"grpo.output_dir={out}",
        "grpo.max_steps=2",
        "grpo.save_steps=1",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=16",
        "grpo.learning_rate=0.01",
        "grpo.run_name=pytest",
    ]


@pytest.mark.slow
def test_two_grpo_steps_change_the_lora_adapter(tmp_path, tiny_model_dir):
    import train_grpo

    out = tmp_path / "run"
    recipe = load_recipe(
        [
            *_overrides(tmp_path, tiny_model_dir, out),
            f"rewards.modules=[{DENSE_REWARD}]",
            "rewards.funcs.test_distinct_chars=1.0",
            "grpo.report_to=[wandb]",
        ]
    )
    metrics = train_grpo.main(recipe)

    first = load_file(out / "checkpoint-1" / "adapter_model.safetensors")
    final = load_file(out / "adapter_model.safetensors")
    lora_b = [k for k in final if "lora_B" in k]
    assert lora_b and any("language_model" in k for k in final)
    assert any(final[k].abs().sum() > 0 for k in lora_b)  # B starts at zero: training moved it
    assert any(not torch.equal(first[k], final[k]) for k in final)

    saved = json.loads((out / "metrics.json").read_text())
    assert saved["train"]["train_runtime"] > 0 and saved == json.loads(json.dumps(metrics, default=str))
    steps = [h for h in saved["log_history"] if "reward" in h]
    assert [h["step"] for h in steps] == [1, 2]
    logged = {f"rewards/{name}/mean" for name in (*recipe.rewards.funcs, "test_distinct_chars")}
    assert len(logged) == 10 and logged <= set(steps[0])  # TRL logs each reward function's mean
    assert list((out / "wandb").glob("offline-run-*"))  # no login here: W&B logged offline
    assert (out / "adapter_config.json").is_file() and (out / "processor_config.json").is_file()


@pytest.mark.slow
def test_accelerate_launch_runs_the_entry_point(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        "recipes/accelerate/cpu.yaml",
        "train_grpo.py",
        *_overrides(tmp_path, tiny_model_dir, out),
        "grpo.max_steps=1",
        "grpo.report_to=none",
    ]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "== MCR GRPO run 'tiny' done" in proc.stdout
    assert (out / "adapter_model.safetensors").is_file()
    assert json.loads((out / "metrics.json").read_text())["train"]["epoch"] > 0


def test_missing_images_fail_before_training(tmp_path, tiny_model_dir):
    import train_grpo
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner
    from mcr.data.errors import DataFormatError

    root = write_synthetic_gmner(tmp_path / "data", n=10, seed=0, progress=False)
    (root / "images" / "S_3.jpg").unlink()
    recipe = load_recipe([*_overrides(tmp_path, tiny_model_dir, tmp_path / "run"), "grpo.report_to=none"])
    with pytest.raises(DataFormatError, match=r"1 of 8 images are missing .*S_3 \(.*train\.txt:"):
        train_grpo.main(recipe)
    assert not (tmp_path / "run" / "adapter_model.safetensors").exists()
