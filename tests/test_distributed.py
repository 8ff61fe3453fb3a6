"""Two processes on the CPU through accelerate + DeepSpeed, with the shipped ZeRO configs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml
from safetensors.torch import load_file

from tests_helpers import REPO, tiny_run_args

pytestmark = pytest.mark.slow


def cpu_config(tmp_path, name: str):
    """The shipped accelerate config, on two CPU processes (gloo) instead of GPUs."""
    config = yaml.safe_load((REPO / "recipes" / "accelerate" / f"{name}.yaml").read_text())
    config.update(use_cpu=True, num_processes=2, mixed_precision="no")
    path = tmp_path / f"{name}-cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def launch(tmp_path, model_dir, config: str, script: str, *extra: str):
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--config_file",
        str(cpu_config(tmp_path, config)),
        script,
        *tiny_run_args(tmp_path, model_dir, posts=40),
        f"grpo.output_dir={out}",
        f"sft.output_dir={out}",
        *extra,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    return out


def assert_both_ranks_trained(out, steps: int, zero_stage: int) -> None:
    reports = sorted(
        (json.loads(p.read_text()) for p in (out / "ranks").glob("rank*.json")), key=lambda r: r["rank"]
    )
    assert [r["rank"] for r in reports] == [0, 1]
    assert all(r["world_size"] == 2 and r["steps_this_run"] == steps for r in reports)
    assert all(r["distributed_type"] == "DEEPSPEED" and r["zero_stage"] == zero_stage for r in reports)
    adapter = load_file(out / "adapter_model.safetensors")
    lora_b = [k for k in adapter if "lora_B" in k]
    assert lora_b and any(adapter[k].abs().sum() > 0 for k in lora_b)  # moved from its zero start


GRPO_ARGS = (
    "grpo.max_steps=2",
    "grpo.per_device_train_batch_size=2",
    "grpo.num_generations=2",
    "grpo.max_completion_length=16",
    "grpo.report_to=none",
    "grpo.learning_rate=0.01",
    "rewards.funcs.test_distinct_chars=1.0",
)


@pytest.mark.parametrize("config", ["zero2", "zero3"])
def test_grpo_two_processes(tmp_path, tiny_model_dir, config):
    # a dense reward registered in the launched process, so two steps carry a gradient
    out = launch(tmp_path, tiny_model_dir, config, "tests/grpo_with_test_reward.py", *GRPO_ARGS)
    assert_both_ranks_trained(out, steps=2, zero_stage=int(config[-1]))
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    model = PeftModel.from_pretrained(AutoModelForImageTextToText.from_pretrained(tiny_model_dir), out)
    assert model.peft_config["default"].r == 64


def test_sft_two_processes_zero2(tmp_path, tiny_model_dir):
    out = launch(
        tmp_path,
        tiny_model_dir,
        "zero2",
        "train_sft.py",
        "sft.max_steps=2",
        "sft.per_device_train_batch_size=2",
        "sft.report_to=none",
    )
    assert_both_ranks_trained(out, steps=2, zero_stage=2)
