"""launch.sh builds the accelerate command for one GPU, N GPUs and several nodes, and prints it;
its pipeline is the plan ``mcr pipeline`` runs in one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from helpers.runs import REPO


def launch(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "MASTER_", "NODE_RANK", "NNODES"))
    }
    return subprocess.run(
        ["bash", "launch.sh", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**clean, "MCR_DRY_RUN": "1", "MCR_VENV": sys.prefix, **env},
    )


def commands(proc: subprocess.CompletedProcess) -> list[str]:
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line.split("running: ", 1)[1] for line in proc.stderr.splitlines() if "running: " in line]


def test_multi_node_from_arguments():
    (cmd,) = commands(
        launch(
            "train",
            "--config",
            "recipes/accelerate/zero2.yaml",
            "--nproc",
            "2",
            "--nnodes",
            "2",
            "--node-rank",
            "1",
            "--master-addr",
            "node001",
            "--master-port",
            "1234",
            "recipe=mcr_qwen",
            "data.root=/d",
            "data.images=/i",
        )
    )
    assert cmd.endswith(
        "launch --config_file recipes/accelerate/zero2.yaml --num_processes 4 --num_machines 2 "
        "--machine_rank 1 --main_process_ip node001 --main_process_port 1234 "
        "train_grpo.py recipe=mcr_qwen data.root=/d data.images=/i"
    )


def test_multi_node_from_slurm_variables():
    (cmd,) = commands(
        launch(
            "train",
            "--nproc",
            "8",
            "--entry",
            "train_sft.py",
            "recipe=tiny",
            SLURM_NNODES="2",
            SLURM_NODEID="1",
            MASTER_ADDR="n7",
            MASTER_PORT="2900",
        )
    )
    assert (
        "--num_processes 16 --num_machines 2 --machine_rank 1 --main_process_ip n7 --main_process_port 2900"
        in cmd
    )
    # no GPU here: several processes are plain data parallel (cpu.yaml would start only one)
    assert "--config_file recipes/accelerate/ddp.yaml --mixed_precision no --num_processes 16" in cmd
    assert cmd.endswith("train_sft.py recipe=tiny")


def test_one_process_and_the_pipeline():
    proc = launch("recipe=tiny", "sft.max_steps=1")
    sft, grpo, evaluate = commands(proc)
    # each stage's time, then the whole pipeline's with all three
    assert [
        line.split("] ")[1].split(" done in")[0] for line in proc.stderr.splitlines() if " done in " in line
    ] == [
        "sft",
        "grpo",
        "evaluation",
        "pipeline",
    ]
    assert re.search(r"pipeline done in \d+s \(sft \d+s, grpo \d+s, evaluation \d+s\)", proc.stderr)
    assert sft.endswith("--config_file recipes/accelerate/cpu.yaml train_sft.py recipe=tiny sft.max_steps=1")
    assert grpo.endswith("train_grpo.py recipe=tiny sft.max_steps=1 model.init_adapter=outputs/tiny-sft")
    assert evaluate.endswith(
        "eval/evaluate.py recipe=tiny sft.max_steps=1 checkpoints=[base,outputs/tiny-sft,outputs/tiny-grpo]"
    )


def test_several_nodes_need_a_master_address():
    proc = launch("train", "--nnodes", "2", "recipe=tiny")
    assert proc.returncode == 2 and "--nnodes 2 needs --master-addr" in proc.stderr


def test_mcr_pipeline_runs_the_plan_in_one_process(monkeypatch, tmp_path, capsys):
    """`mcr pipeline` runs the stages of `mcr pipeline plan` (launch.sh's) in order, each with its
    hand-off, every recipe checked before the first stage runs."""
    from mcr import pipeline
    from mcr.cli import main as mcr

    entries = pipeline.stage_entries()
    ran = []
    monkeypatch.setattr(
        pipeline,
        "stage_entries",
        lambda: {
            module: (lambda recipe, module=module: ran.append((module, recipe)), check)
            for module, (_, check) in entries.items()
        },
    )
    args = ["recipe=tiny", f"sft.output_dir={tmp_path / 'sft'}", f"grpo.output_dir={tmp_path / 'grpo'}"]
    capsys.readouterr()  # what importing the trainers printed
    mcr(["pipeline", "plan", *args])
    plan = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    mcr(["pipeline", *args])
    assert [module for module, _ in ran] == ["mcr.train_sft", "mcr.train_grpo", "mcr.eval.evaluate"]
    assert [recipe.name for _, recipe in ran] == ["tiny"] * 3
    sft, grpo, evaluation = (recipe for _, recipe in ran)
    assert sft.model.init_adapter is None and grpo.model.init_adapter == str(tmp_path / "sft")
    assert evaluation.eval.checkpoints == ["base", str(tmp_path / "sft"), str(tmp_path / "grpo")]
    assert plan == [
        ["sft", "train_sft.py", *args],
        ["grpo", "train_grpo.py", *args, f"model.init_adapter={tmp_path / 'sft'}"],
        [
            "evaluation",
            "eval/evaluate.py",
            *args,
            f"checkpoints=[base,{tmp_path / 'sft'},{tmp_path / 'grpo'}]",
        ],
    ]
    # a mistake in the evaluation's arguments stops the pipeline before SFT
    ran.clear()
    with pytest.raises(SystemExit, match=r"benchmark 'mate' needs its data"):
        mcr(["pipeline", *args, "benchmarks=[mate]"])
    assert ran == []
