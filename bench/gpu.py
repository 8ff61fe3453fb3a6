"""Real sizes on one GPU: GRPO of ``recipe=mcr_qwen`` on Qwen2.5-VL-7B and -3B shapes, each
generation path side by side, and evaluation.

    python bench/gpu.py                         # a GPU: 7B and 3B, report in docs/performance.md
    python bench/gpu.py --wheels DIR ...        # first install the wheels in DIR (machines without TRL...)
    python bench/gpu.py --tiny --work DIR       # the same bench at tiny sizes on the CPU (the tests run it)

The models have the shapes of the public ``config.json`` of Qwen2.5-VL-3B/7B-Instruct and random
weights, made directly on the GPU in bf16, saved to a folder and loaded from it by the GRPO stage
with ``recipe=mcr_qwen`` exactly as a user's checkpoint is. The data are synthetic GMNER posts
with 640x480 images (391 visual tokens each under the recipe's ``max_pixels``; no image gets more
than 512).

The recipe runs as written except: the model path, the data, ``max_steps``, ``report_to=none``,
gradient checkpointing on or off, the per-device batch and the completion length, which is
forced (``min_new_tokens``: random weights would stop at random) so that numbers compare; a
generation path adds its own overrides. Each measurement runs in a process of its own, and on a
GPU larger than 80 GB the allocator is capped so that every figure holds for an 80 GB card.
Measured in this order while ``--budget-s`` lasts (each finished item is written at once):

1. GRPO with gradient checkpointing on each generation path of ``--paths`` (``bench/gpu_paths.py``:
   the recipe as written, LoRA merged for generation, a static cache, the decoding step compiled,
   larger generation batches...), path by path on 7B then 3B; a path that cannot run here is
   reported as skipped, with why;
2. evaluation throughput (``eval/evaluate.py``, batch 32), 7B;
3. the largest per-device batch (completions) of 7B GRPO that fits 80 GB;
4. the recipe's largest images: 1280x960 posts resized down to ``max_pixels`` (494 visual tokens);
5. GRPO without gradient checkpointing, 7B then 3B.

The first step of every GRPO run (warm-up: kernels, caches, compiled graphs) is left out of its
means. The bench's parts, one job each:

| file | its job |
|---|---|
| ``bench/gpu.py`` | the command line |
| ``bench/gpu_run.py`` | the plan, the budget, one process per measurement, the results file |
| ``bench/gpu_paths.py`` | the generation paths: recipe overrides, and where each cannot run |
| ``bench/gpu_checkpoints.py`` | random-weight checkpoints of the published shapes |
| ``bench/gpu_timing.py`` | inside a measurement: TRL patched for timing, GRPO or evaluation, reward cost |
| ``bench/gpu_report.py`` | the machine, the summaries, the Markdown report |
| ``bench/gpu_wheels.py`` | the wheels of a machine without TRL |
| ``bench/reward_timing.py`` | reward timing, shared with ``bench/rewards.py`` |
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the bench's parts, bench/gpu_*.py, beside this file
    sys.path.append(str(HERE))

from gpu_paths import BY_NAME, PATHS  # noqa: E402
from gpu_timing import H100_80GB_GIB  # noqa: E402

ROOT = HERE.parent


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tiny", action="store_true", help="tiny shapes (the CPU test); default 7b and 3b")
    parser.add_argument("--work", default="outputs/bench-gpu", help="models, data, runs, gpu_bench.json")
    parser.add_argument(
        "--out", default=None, help="the Markdown report (default docs/performance.md on a GPU)"
    )
    parser.add_argument("--wheels", default=None, help="install these wheels first (into <work>/site)")
    parser.add_argument("--budget-s", type=float, default=300.0, help="start no measurement after this")
    parser.add_argument(
        "--grace-s", type=float, default=60.0, help="a running measurement may overrun by this"
    )
    parser.add_argument("--batch", type=int, default=8, help="per-device batch in completions (a group of 8)")
    parser.add_argument("--max-batch", type=int, default=64, help="largest batch the capacity search tries")
    parser.add_argument(
        "--steps", type=int, default=3, help="GRPO steps per measurement (the first warms up)"
    )
    parser.add_argument("--completion-length", type=int, default=256)
    parser.add_argument(
        "--posts", type=int, default=96, help="synthetic posts (D2 must fill the largest batch)"
    )
    parser.add_argument("--eval-samples", type=int, default=64)
    parser.add_argument("--eval-batch", type=int, default=32)
    parser.add_argument(
        "--memory-cap-gib",
        type=float,
        default=H100_80GB_GIB - 1.0,
        help="allocator cap on larger GPUs (default: an H100 80GB less 1 GiB of CUDA context)",
    )
    parser.add_argument(
        "--paths",
        type=lambda v: [x.strip() for x in v.split(",")],
        default=[p.name for p in PATHS],
        help=f"generation paths to measure, comma-separated (bench/gpu_paths.py): {', '.join(BY_NAME)}",
    )
    parser.add_argument(
        "--only",
        type=lambda v: [x.strip() for x in v.split(",")],
        default=None,
        help="measure only these plan items, comma-separated, by name or first words: 'grpo 7b gc default', "
        "'grpo 7b gc' (every path on 7B), 'eval 7b', 'capacity 7b', 'grpo 7b 1280x960', 'grpo 3b no gc', ...",
    )
    parser.add_argument("--verbose", action="store_true", help="show each measurement's own output")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "JOB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [p for p in args.paths if p not in BY_NAME]
    if unknown:
        parser.error(f"--paths: unknown {unknown}; the paths: {', '.join(BY_NAME)}")
    args.sizes = ["tiny"] if args.tiny else ["7b", "3b"]
    return args


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.child:
        from gpu_timing import child_eval, child_grpo

        kind, job_file, out_file = args.child
        job = json.loads(Path(job_file).read_text())
        result = {"grpo": child_grpo, "eval": child_eval}[kind](job)
        Path(out_file).write_text(json.dumps(result, default=str))
        return
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.wheels:
        from gpu_wheels import rerun_with_wheels

        rerun_with_wheels(Path(__file__).resolve(), argv, Path(args.wheels), work)
    from gpu_report import environment
    from gpu_run import Bench, log, preflight

    bench = Bench(args, work, argv=argv)
    bench.env = environment()
    if bench.env["device"] != "cuda" and not args.tiny:
        sys.exit("error: no GPU here; the real sizes need one (run --tiny for the CPU version)")
    if args.out is None and not args.tiny:
        args.out = str(ROOT / "docs" / "performance.md")
    log(json.dumps(bench.env))
    preflight()
    bench.run()


if __name__ == "__main__":
    main()
