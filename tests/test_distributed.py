"""Two processes on the CPU through accelerate + DeepSpeed, with the shipped ZeRO configs."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml
from safetensors.torch import load_file

from helpers.runs import REPO, tiny_run_args

pytestmark = pytest.mark.slow


def cpu_config(tmp_path, name: str):
    """The shipped accelerate config, on two CPU processes (gloo) instead of GPUs."""
    config = yaml.safe_load((REPO / "recipes" / "accelerate" / f"{name}.yaml").read_text())
    config.update(use_cpu=True, num_processes=2, mixed_precision="no")
    path = tmp_path / f"{name}-cpu.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def accelerate_launch(*args: str) -> subprocess.CompletedProcess:
    """``accelerate launch ARGS`` from the repository root, one thread per process; must succeed.
    Each launch gets a free port: back-to-back launches on the default one can find it taken."""
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--main_process_port", str(free_port()), *args]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-4000:])
    return proc


def launch(tmp_path, model_dir, config: str, script: str, *extra: str):
    out = tmp_path / "run"
    accelerate_launch(
        "--config_file",
        str(cpu_config(tmp_path, config)),
        script,
        *tiny_run_args(tmp_path, model_dir, posts=40),
        f"grpo.output_dir={out}",
        f"sft.output_dir={out}",
        *extra,
    )
    return out


def assert_both_ranks_trained(out, steps: int, zero_stage: int | None, kind: str = "DEEPSPEED") -> None:
    reports = sorted(
        (json.loads(p.read_text()) for p in (out / "ranks").glob("rank*.json")), key=lambda r: r["rank"]
    )
    assert [r["rank"] for r in reports] == [0, 1]
    assert all(r["world_size"] == 2 and r["steps_this_run"] == steps for r in reports)
    assert all(r["distributed_type"] == kind and r["zero_stage"] == zero_stage for r in reports)
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
    # a dense reward from a module of the tests, so that two steps carry a gradient
    "rewards.modules=[tests/helpers/dense_reward.py]",
    "rewards.funcs.test_distinct_chars=1.0",
)


@pytest.mark.parametrize("config", ["zero2", "zero3"])
def test_grpo_two_processes(tmp_path, tiny_model_dir, config):
    out = launch(tmp_path, tiny_model_dir, config, "train_grpo.py", *GRPO_ARGS)
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


def test_grpo_two_cpu_processes_plain_data_parallel(tmp_path, tiny_model_dir):
    # ddp.yaml on a machine without a GPU, as launch.sh --nproc 2 picks it: one gloo process group
    out = launch(tmp_path, tiny_model_dir, "ddp", "train_grpo.py", *GRPO_ARGS)
    assert_both_ranks_trained(out, steps=2, zero_stage=None, kind="MULTI_CPU")


def test_evaluation_two_processes_matches_one(tmp_path, tiny_model_dir):
    """Data-parallel generation: two processes share the examples (an odd number, so the shares
    differ) and write exactly what one process writes, on a one-image and a two-image benchmark."""
    from helpers.benchmark_fixtures import write_mmra_export

    mmra = write_mmra_export(tmp_path / "MMRA")
    args = (
        "eval.benchmarks=[gmner,mmra]",
        f"eval.data.mmra.root={mmra}",
        "eval.max_samples=5",
        "eval.batch_size=1",  # no padding, so both runs compute the very same sums
        "eval.max_new_tokens=6",
        "eval.report_to=[]",
    )
    outputs = {}
    for processes in (1, 2):
        # one: the CPU config; two: plain data parallel, as launch.sh --nproc 2 runs it without a GPU
        config = ["--config_file", "recipes/accelerate/cpu.yaml"]
        if processes == 2:
            config = ["--config_file", "recipes/accelerate/ddp.yaml", "--mixed_precision", "no"]
        folder = tmp_path / f"eval-{processes}"
        proc = accelerate_launch(
            *config,
            "--num_processes",
            str(processes),
            "eval/evaluate.py",
            *tiny_run_args(tmp_path, tiny_model_dir, posts=60),
            f"eval.output_dir={folder}",
            *args,
        )
        assert f"({processes} process" in proc.stdout  # a real process group of that size
        assert proc.stdout.count("== MCR evaluation") == 2  # the tables print once, on the main process
        outputs[processes] = {
            name: (folder / name / "untrained" / "predictions.jsonl").read_text()
            for name in ("gmner", "mmra")
        }
    for name in ("gmner", "mmra"):
        lines = [json.loads(x) for x in outputs[2][name].splitlines()]
        assert len(lines) == (5 if name == "gmner" else 2) and len({x["id"] for x in lines}) == len(lines)
        assert outputs[2][name] == outputs[1][name]
