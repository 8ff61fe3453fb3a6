"""Peak resident memory of the tiny default run's stages, and of a two-process ZeRO-2 GRPO run.

Each job runs as its own process tree; RSS is sampled over the whole tree (launcher and every
rank) every 0.1 s, and the report gives the peak of that sum and the largest single process.
Steps are cut short (memory peaks within the first steps); the recipe is otherwise the default.

    python bench/memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import yaml

REPO = Path(__file__).resolve().parents[1]


def peak_rss(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak of the tree's summed RSS, peak of one process's RSS), in MiB."""
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    root = psutil.Process(proc.pid)
    tree_peak = single_peak = 0
    while proc.poll() is None:
        try:
            members = [root, *root.children(recursive=True)]
            sizes = [p.memory_info().rss for p in members]
        except psutil.Error:
            continue
        tree_peak = max(tree_peak, sum(sizes))
        single_peak = max(single_peak, max(sizes))
        time.sleep(0.1)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read()[-3000:]}")
    return tree_peak / 2**20, single_peak / 2**20


def main() -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        common = [
            "recipe=tiny",
            f"model.name_or_path={work / 'model'}",
            f"data.root={work / 'data'}",
            f"data.images={work / 'data' / 'images'}",
            f"mrsi.output_dir={work / 'mrsi'}",
            f"sft.output_dir={work / 'sft'}",
            f"grpo.output_dir={work / 'grpo'}",
            f"eval.output_dir={work / 'eval'}",
            "sft.report_to=none",
            "grpo.report_to=none",
            "eval.report_to=[]",
        ]
        zero2 = yaml.safe_load((REPO / "recipes" / "accelerate" / "zero2.yaml").read_text())
        zero2.update(use_cpu=True, num_processes=2, mixed_precision="no")
        (work / "zero2-cpu.yaml").write_text(yaml.safe_dump(zero2))
        launch = [sys.executable, "-m", "accelerate.commands.launch"]
        jobs = [
            (
                "SFT, 1 process",
                [
                    *launch,
                    "--config_file",
                    "recipes/accelerate/cpu.yaml",
                    "train_sft.py",
                    *common,
                    "sft.max_steps=20",
                ],
            ),
            (
                "GRPO, 1 process",
                [
                    *launch,
                    "--config_file",
                    "recipes/accelerate/cpu.yaml",
                    "train_grpo.py",
                    *common,
                    f"model.init_adapter={work / 'sft'}",
                    "grpo.max_steps=5",
                ],
            ),
            (
                "evaluation, 3 checkpoints",
                [
                    *launch,
                    "--config_file",
                    "recipes/accelerate/cpu.yaml",
                    "eval/evaluate.py",
                    *common,
                    f"checkpoints=[base,{work / 'sft'},{work / 'grpo'}]",
                ],
            ),
            (
                "GRPO, 2 processes ZeRO-2",
                [
                    *launch,
                    "--config_file",
                    str(work / "zero2-cpu.yaml"),
                    "train_grpo.py",
                    *common,
                    f"grpo.output_dir={work / 'grpo2'}",
                    "grpo.max_steps=5",
                    "grpo.per_device_train_batch_size=4",
                ],
            ),
        ]
        print(f"{'job':<28}{'peak RSS, all processes':>26}{'largest process':>18}")
        for name, cmd in jobs:
            total, single = peak_rss(cmd, env)
            print(f"{name:<28}{total:>22.0f} MiB{single:>14.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
