"""A killed run resumes from its last complete checkpoint: no step repeated, none skipped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcr.callbacks import COMPLETE_MARKER, complete_checkpoints
from mcr.config import load_recipe
from mcr.training import resume_checkpoint

from helpers.runs import REPO, tiny_run_args

pytestmark = pytest.mark.slow
MAX_STEPS = 10


def _command(tmp_path: Path, model_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "train_grpo.py",
        *tiny_run_args(tmp_path, model_dir, posts=40),
        f"grpo.output_dir={tmp_path / 'run'}",
        f"grpo.max_steps={MAX_STEPS}",
        "grpo.save_steps=2",
        "grpo.save_total_limit=null",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=16",
        "grpo.report_to=none",
        "grpo.logging_steps=1",
        *extra,
    ]


def _run_until(cmd: list[str], checkpoint: Path, sig: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + 300
    while not (checkpoint / COMPLETE_MARKER).is_file():
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.time() < deadline, "no checkpoint in time"
        time.sleep(0.2)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(cmd, proc.returncode, out)


def _finish(cmd: list[str]) -> None:
    proc = subprocess.run(
        [*cmd, "resume=auto"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resuming from" in proc.stdout


def _logged_steps(run: Path) -> list[int]:
    state = json.loads((run / "trainer_state.json").read_text())
    assert state["global_step"] == MAX_STEPS
    return [h["step"] for h in state["log_history"] if "loss" in h]


def test_sigkill_then_resume(tmp_path, tiny_model_dir):
    cmd = _command(tmp_path, tiny_model_dir)
    killed = _run_until(cmd, tmp_path / "run" / "checkpoint-4", signal.SIGKILL)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "run" / "adapter_model.safetensors").exists()
    _finish(cmd)
    assert _logged_steps(tmp_path / "run") == list(range(1, MAX_STEPS + 1))
    assert (tmp_path / "run" / "adapter_model.safetensors").is_file()


def test_sigterm_saves_then_resume(tmp_path, tiny_model_dir):
    cmd = _command(tmp_path, tiny_model_dir)
    stopped = _run_until(cmd, tmp_path / "run" / "checkpoint-2", signal.SIGTERM)
    assert stopped.returncode == 143, stopped.stdout[-3000:]
    assert "stopped by SIGTERM" in stopped.stdout
    last = complete_checkpoints(tmp_path / "run")[-1]
    state = json.loads((last / "trainer_state.json").read_text())
    assert state["global_step"] >= 2 and (last / "optimizer.pt").is_file()
    assert not (tmp_path / "run" / "adapter_model.safetensors").exists()  # stopped, not finished
    _finish(cmd)
    assert _logged_steps(tmp_path / "run") == list(range(1, MAX_STEPS + 1))


def test_half_written_checkpoint_is_passed_over(tmp_path):
    run = tmp_path / "run"
    for step, complete in ((2, True), (4, True), (6, False)):
        (run / f"checkpoint-{step}").mkdir(parents=True)
        if complete:
            (run / f"checkpoint-{step}" / COMPLETE_MARKER).write_text("{}")
    recipe = load_recipe(["recipe=tiny", "resume=auto"])
    assert resume_checkpoint(recipe, str(run)) == str(run / "checkpoint-4")
    assert resume_checkpoint(recipe, str(tmp_path / "nothing")) is None
