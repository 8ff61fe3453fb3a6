"""The default pipeline over seeds and numerical paths: its comparison table as mean and spread.

    python bench/seeds.py                          # seeds 0 1 2 x paths default, avx2 (six runs)
    python bench/seeds.py --seeds 0 --paths default -- grpo.max_steps=30
    python bench/seeds.py --seeds 0 --paths generic          # the seventh run: no vector kernels
    python bench/seeds.py --table                  # the summary of the runs already done

Each run is ``bash launch.sh pipeline recipe=tiny`` with ``seed``, ``data.synth.seed`` and
``mrsi.seed`` set to the run's seed (new data, a new D1/D2 split, new training randomness) under
one numerical path: ``default`` (what the CPU offers), ``avx2`` (``ATEN_CPU_CAPABILITY=avx2
MKL_CBWR=AVX2``: the kernels of an AVX2-only machine) or ``generic`` (``ATEN_CPU_CAPABILITY=default``:
no vector kernels; the default run's seventh run, at seed 0). Runs go to ``outputs/seeds/<path>-s<seed>``
and a finished run is not run again. The summary, ``outputs/seeds/summary.{md,json}``, gives each
checkpoint's figures as mean and min-max over the runs, each run's pipeline time, and whether
each target holds in every run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2"},
    "generic": {"ATEN_CPU_CAPABILITY": "default"},  # no vector kernels: a third path on any CPU
}
STAGES = ("base", "sft", "grpo")
COLUMNS = {  # column: (reader of a checkpoint's metrics, format)
    "format": (lambda m: m["format_rate"], "{:.2f}"),
    "GMNER F1": (lambda m: m["gmner"]["f1"], "{:.1f}"),
    "MNER F1": (lambda m: m["mner"]["f1"], "{:.1f}"),
    "EEG F1": (lambda m: m["eeg"]["f1"], "{:.1f}"),
    # the shown entities found with a right box: the part of GMNER F1 that a null cannot earn
    "grounded": (lambda m: m["grounding"]["recall"], "{:.1f}"),
    "reward": (lambda m: m["mean_reward"], "{:.3f}"),
    "N-rate": (lambda m: m["bias"]["n_rate"], "{:.1f}"),
    "textual shortcut": (lambda m: m["rewards"]["textual_shortcut"], "{:.3f}"),
}


def run_dir(out: Path, path: str, seed: int) -> Path:
    return out / f"{path}-s{seed}"


def run_pipeline(out: Path, path: str, seed: int, recipe: str, extra: list[str]) -> None:
    folder = run_dir(out, path, seed)
    if (folder / "run.json").is_file():
        print(f"[seeds] {folder.name}: done before, kept", file=sys.stderr)
        return
    args = [
        f"recipe={recipe}",
        f"seed={seed}",
        f"data.synth.seed={seed}",
        f"mrsi.seed={seed}",
        f"mrsi.output_dir={folder / 'mrsi'}",
        f"sft.output_dir={folder / 'sft'}",
        f"grpo.output_dir={folder / 'grpo'}",
        f"eval.output_dir={folder / 'eval'}",
        f"sft.run_name={folder.name}-sft",
        f"grpo.run_name={folder.name}-grpo",
        *extra,
    ]
    env = {**os.environ, **PATHS[path]}
    began = time.perf_counter()
    subprocess.run(["bash", str(ROOT / "launch.sh"), "pipeline", *args], cwd=ROOT, env=env, check=True)
    seconds = time.perf_counter() - began
    (folder / "run.json").write_text(
        json.dumps({"seed": seed, "path": path, "args": args, "seconds": seconds})
    )


def read_run(folder: Path, task: str = "gmner") -> dict:
    """A run's metrics by stage (base, sft, grpo), in the order the pipeline evaluated them."""
    results = json.loads((folder / "eval" / "comparison.json").read_text())[task]
    if len(results) != len(STAGES):
        raise ValueError(f"{folder}/eval/comparison.json: {len(results)} checkpoints, expected {STAGES}")
    return {
        **dict(zip(STAGES, results.values(), strict=True)),
        "seconds": json.loads((folder / "run.json").read_text())["seconds"],
    }


def summarize(runs: dict[str, dict]) -> dict:
    """Mean, min and max of every column by stage, and the targets checked run by run."""
    figures = {
        stage: {column: [read(run[stage]) for run in runs.values()] for column, (read, _) in COLUMNS.items()}
        for stage in STAGES
    }
    stats = {
        stage: {c: {"mean": statistics.mean(v), "min": min(v), "max": max(v)} for c, v in cols.items()}
        for stage, cols in figures.items()
    }
    sft, grpo = figures["sft"], figures["grpo"]
    gains = [g - s for g, s in zip(grpo["GMNER F1"], sft["GMNER F1"], strict=True)]
    targets = {
        "SFT format >= 0.95": all(v >= 0.95 for v in sft["format"]),
        "SFT MNER F1 >= 60": all(v >= 60 for v in sft["MNER F1"]),
        "SFT GMNER F1 >= 40": all(v >= 40 for v in sft["GMNER F1"]),
        "SFT grounded >= 30": all(v >= 30 for v in sft["grounded"]),
        "GRPO GMNER F1 > SFT's in every run": all(g > 0 for g in gains),
        "GRPO's mean gain > the spread of SFT's GMNER F1": statistics.mean(gains)
        > max(sft["GMNER F1"]) - min(sft["GMNER F1"]),
        "GRPO GMNER F1 >= 50 (aim)": all(v >= 50 for v in grpo["GMNER F1"]),
        "GRPO mean reward > SFT's": statistics.mean(grpo["reward"]) > statistics.mean(sft["reward"]),
        "GRPO N-rate <= SFT's in every run": all(
            g <= s for g, s in zip(grpo["N-rate"], sft["N-rate"], strict=True)
        ),
        "GRPO textual shortcut <= SFT's in every run": all(
            g <= s for g, s in zip(grpo["textual shortcut"], sft["textual shortcut"], strict=True)
        ),
    }
    seconds = [run["seconds"] for run in runs.values()]
    return {"runs": sorted(runs), "stats": stats, "gmner_gain": gains, "targets": targets, "seconds": seconds}


def markdown(summary: dict) -> str:
    names = list(COLUMNS)
    lines = [
        f"Mean (min-max) over {len(summary['runs'])} runs: {', '.join(summary['runs'])}.",
        "",
        "| checkpoint | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for stage in STAGES:
        cells = []
        for name in names:
            s, fmt = summary["stats"][stage][name], COLUMNS[name][1]
            cells.append(f"{fmt.format(s['mean'])} ({fmt.format(s['min'])}-{fmt.format(s['max'])})")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    seconds = summary["seconds"]
    lines += [
        "",
        f"Pipeline time, install excluded: {min(seconds) / 60:.1f}-{max(seconds) / 60:.1f} min.",
        "",
        *(f"- {'met' if ok else 'NOT met'}: {name}" for name, ok in summary["targets"].items()),
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--paths", nargs="+", choices=sorted(PATHS), default=["default", "avx2"])
    parser.add_argument("--recipe", default="tiny")
    parser.add_argument("--out", type=Path, default=ROOT / "outputs" / "seeds")
    parser.add_argument("--table", action="store_true", help="summarize the finished runs only")
    parser.add_argument("extra", nargs="*", help="recipe overrides for every run (after --)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.table:
        for path in args.paths:
            for seed in args.seeds:
                run_pipeline(args.out, path, seed, args.recipe, args.extra)
    runs = {
        folder.name: read_run(folder)
        for folder in sorted(args.out.iterdir())
        if (folder / "run.json").is_file()
    }
    if not runs:
        parser.error(f"no finished run in {args.out}")
    summary = summarize(runs)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    (args.out / "summary.md").write_text(markdown(summary))
    print(markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
