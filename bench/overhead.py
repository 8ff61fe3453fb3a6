"""Overhead of ``train_grpo.py`` over a bare GRPOTrainer script, measured side by side.

Both run the same GRPO steps (tiny model, same synthetic prompts, same rewards, same LoRA and
GRPOConfig) as separate processes, alternating A/B so that machine noise hits both alike.
The bare script gets its rows pre-built (untimed), so everything ``train_grpo.py`` adds
(recipe loading and checking, reading the release's txt/xml, box conversion, W&B set-up,
metrics) counts as overhead. Target: ratio <= 1.05.

    python bench/overhead.py [--steps 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

BARE_SCRIPT = textwrap.dedent("""
    import json, sys
    import datasets
    from peft import LoraConfig
    from transformers import AutoProcessor
    from trl import GRPOConfig, GRPOTrainer
    from mcr.rewards import REGISTRY

    model, rows, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    dataset = datasets.Dataset.from_list([json.loads(line) for line in open(rows)])
    dataset = dataset.cast_column("image", datasets.Image())
    processor = AutoProcessor.from_pretrained(model, padding_side="left")
    processor.image_processor.size = {"shortest_edge": 3136, "longest_edge": 50176}
    args = GRPOConfig(output_dir=out, max_steps=steps, per_device_train_batch_size=8, num_generations=4,
                      learning_rate=5e-4, lr_scheduler_type="constant", max_completion_length=64, beta=0.0,
                      logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=42,
                      reward_weights=[1.0, 1.0], model_init_kwargs={"dtype": "float32"})
    lora = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0, task_type="CAUSAL_LM",
                      target_modules=r".*language_model.*\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)")
    trainer = GRPOTrainer(model=model, reward_funcs=[REGISTRY["format"], REGISTRY["gmner_f1"]], args=args,
                          train_dataset=dataset, processing_class=processor, peft_config=lora)
    trainer.train()
    trainer.save_model(out)
""")


# The same run as BARE_SCRIPT, as a recipe: GRPO on the whole training split (no MRSI stage).
RECIPE = """
model: {{name_or_path: {model}, build_tiny: false, min_pixels: 3136, max_pixels: 50176}}
lora: {{r: 16, alpha: 32, dropout: 0.0}}
data: {{root: {data}, images: {data}/images}}
rewards: {{funcs: {{format: 1.0, gmner_f1: 1.0}}}}
grpo:
  output_dir: {out}
  max_steps: {steps}
  per_device_train_batch_size: 8
  num_generations: 4
  learning_rate: 5.0e-4
  lr_scheduler_type: constant
  max_completion_length: 64
  beta: 0.0
  logging_steps: 1
  save_strategy: "no"
  report_to: none
  use_cpu: true
"""


def prepare(work: Path) -> tuple[Path, Path, Path]:
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.rows import rows as gmner_rows
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner
    from mcr.image_space import ImageSpace
    from mcr.tiny_model import build_tiny_model

    model = build_tiny_model(work / "model", seed=0)
    data = write_synthetic_gmner(work / "data", n=200, seed=0, progress=False)
    records = load_twitter_gmner(data, "train", images=data / "images")
    rows = work / "rows.jsonl"
    with open(rows, "w") as f:
        for row in gmner_rows(records, ImageSpace(3136, 50176)):
            f.write(json.dumps(row) + "\n")
    return model, data, rows


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WANDB_MODE": "disabled", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, data, rows = prepare(work)
        bare_script = work / "bare_grpo.py"
        bare_script.write_text(BARE_SCRIPT)
        recipe = work / "bench.yaml"
        recipe.write_text(RECIPE.format(model=model, data=data, steps=args.steps, out=work / "ours"))
        ours_cmd = [sys.executable, "train_grpo.py", f"recipe={recipe}"]
        bare_cmd = [
            sys.executable,
            str(bare_script),
            str(model),
            str(rows),
            str(work / "bare"),
            str(args.steps),
        ]
        times: dict[str, list[float]] = {"train_grpo.py": [], "bare GRPOTrainer": []}
        for i in range(args.repeats):
            pair = [("train_grpo.py", ours_cmd), ("bare GRPOTrainer", bare_cmd)]
            for name, cmd in pair if i % 2 == 0 else reversed(pair):
                times[name].append(timed(cmd, env))
                print(f"  run {i + 1}/{args.repeats} {name:<18} {times[name][-1]:6.1f}s", flush=True)

    ours, bare = (statistics.median(times[k]) for k in ("train_grpo.py", "bare GRPOTrainer"))
    print(f"\n{args.steps} GRPO steps, tiny model, median of {args.repeats} (wall seconds, whole process):")
    print(f"  train_grpo.py      {ours:6.1f}s")
    print(f"  bare GRPOTrainer   {bare:6.1f}s")
    print(f"  ratio              {ours / bare:6.3f}   (target <= 1.05)")


if __name__ == "__main__":
    main()
