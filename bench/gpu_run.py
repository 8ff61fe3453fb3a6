"""The GPU bench's run: what is measured in which order while the time budget lasts, each
measurement in a process of its own (``python bench/gpu.py --child ...``), each result written
at once (``<work>/gpu_bench.json`` and the report).

The order (``Bench.plan``): the generation paths (``bench/gpu_paths.py``) on every size, path by
path, the recipe as written first; then evaluation throughput, the largest per-device batch, the
recipe's largest images, and GRPO without gradient checkpointing. Plan items are named
``grpo <size> gc <path>``, ``eval <size>``, ``capacity <size>``, ``grpo <size> 1280x960`` and
``grpo <size> no gc``; ``--only`` takes names or their first words (``grpo 7b`` is every 7B GRPO
item).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gpu_checkpoints import SHAPES, build_checkpoint, visual_tokens
from gpu_paths import BY_NAME, GenerationPath, steps_for
from gpu_report import render_report
from gpu_timing import reward_cost

SCRIPT = Path(__file__).resolve().with_name("gpu.py")


def log(message: str) -> None:
    print(f"[bench/gpu] {message}", file=sys.stderr, flush=True)


def preflight() -> None:
    """Fail in seconds, before any model is built, when a package or a stage cannot load."""
    import datasets  # noqa: F401
    import omegaconf  # noqa: F401
    import peft  # noqa: F401
    import qwen_vl_utils  # noqa: F401
    from trl import GRPOTrainer  # noqa: F401

    import mcr.train_grpo  # noqa: F401

    from gpu_timing import load_entry

    load_entry("eval/evaluate.py", "mcr_evaluate")


def selected(what: str, only: list[str] | None) -> bool:
    """``what`` is a plan item ``--only`` names: by its name or its first words."""
    return only is None or any(what == o or what.startswith(o + " ") for o in only)


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    started: float = field(default_factory=time.perf_counter)
    results: list[dict] = field(default_factory=list)
    models: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    argv: list[str] = field(default_factory=list)

    @property
    def left_s(self) -> float:
        return self.args.budget_s - (time.perf_counter() - self.started)

    def data(self, image_size: tuple[int, int]) -> Path:
        from mcr.benchmarks.gmner.synthetic import Layout, write_synthetic_gmner

        root = self.work / f"data-{image_size[0]}x{image_size[1]}"
        if not (root / "txt").is_dir():
            write_synthetic_gmner(
                root, self.args.posts, seed=0, layout=Layout("free", (image_size,)), progress=False
            )
        return root

    def model(self, size: str) -> Path:
        folder = self.work / f"qwen2.5-vl-{size}-random"
        if size not in self.models:
            info = build_checkpoint(
                SHAPES[size], folder, device=self.env["device"], completion_length=self.args.completion_length
            )
            self.models[size] = info
            log(
                f"built {size}: {info['parameters'] / 1e9:.2f}B parameters in {info['build_s']} s, "
                f"saved in {info['save_s']} s"
            )
        return folder

    def run_child(self, kind: str, name: str, recipe_args: list[str]) -> dict:
        job = {"recipe_args": recipe_args, "memory_cap_gib": self.args.memory_cap_gib}
        job_file, out_file = self.work / f"{name}.job.json", self.work / f"{name}.result.json"
        job_file.write_text(json.dumps(job))
        out_file.unlink(missing_ok=True)
        log(f"{name}: {' '.join(recipe_args)}")
        command = [sys.executable, str(SCRIPT), "--child", kind, str(job_file), str(out_file)]
        started = time.perf_counter()
        try:
            proc = subprocess.run(
                command,
                cwd=self.work,
                timeout=max(30.0, self.left_s + self.args.grace_s),
                check=False,
                stdout=None if self.args.verbose else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        except subprocess.TimeoutExpired:
            return {"error": f"stopped after {time.perf_counter() - started:.0f} s: the time budget ran out"}
        if proc.returncode != 0 or not out_file.is_file():
            tail = (proc.stdout or "")[-3000:]
            return {"error": f"exit status {proc.returncode}", "log_tail": tail}
        result = json.loads(out_file.read_text())
        result["process_s"] = time.perf_counter() - started
        return result

    def grpo(
        self,
        size: str,
        *,
        gc: bool,
        batch: int,
        steps: int,
        image_size: tuple[int, int] = (640, 480),
        label: str = "",
        overrides: tuple[str, ...] = (),
    ) -> dict:
        model, data = self.model(size), self.data(image_size)
        name = f"grpo-{size}-{'gc' if gc else 'nogc'}-b{batch}{label}"
        length = self.args.completion_length
        recipe_args = [
            "recipe=mcr_qwen",
            f"model.name_or_path={model}",
            f"data.root={data}",
            f"data.images={data / 'images'}",
            f"mrsi.output_dir={data}-mrsi",
            f"grpo.output_dir={self.work / 'runs' / name}",
            f"grpo.max_steps={steps}",
            "grpo.report_to=none",
            f"grpo.gradient_checkpointing={str(gc).lower()}",
            f"grpo.per_device_train_batch_size={batch}",
            f"grpo.max_completion_length={length}",
            f"grpo.generation_kwargs={{min_new_tokens: {length}}}",  # YAML: a space after the colon
            *overrides,
        ]
        if self.env["device"] == "cpu":  # the recipe's bf16 runs on a CPU only when told so
            recipe_args.append("grpo.use_cpu=true")
        result = self.run_child("grpo", name, recipe_args)
        result["visual_tokens"] = visual_tokens(image_size)
        result.update(
            kind="grpo",
            size=size,
            gradient_checkpointing=gc,
            batch=batch,
            image_size=list(image_size),
            name=name,
            recipe_args=recipe_args,
        )
        return result

    def path(self, size: str, path: GenerationPath) -> dict:
        """GRPO with gradient checkpointing on one generation path (``bench/gpu_paths.py``)."""
        label = "" if path.name == "default" else f"-{path.name}"
        skipped = path.skipped(self.env["device"])
        if skipped:
            name = f"grpo-{size}-gc-b{self.args.batch}{label}"
            return {"kind": "grpo", "size": size, "path": path.name, "name": name, "skipped": skipped}
        steps = steps_for(path, self.args.steps)
        result = self.grpo(
            size, gc=True, batch=self.args.batch, steps=steps, label=label, overrides=path.overrides
        )
        return {**result, "path": path.name}

    def evaluation(self, size: str) -> dict:
        model, data = self.model(size), self.data((640, 480))
        name = f"eval-{size}"
        recipe_args = [
            "recipe=mcr_qwen",
            f"model.name_or_path={model}",
            f"data.root={data}",
            f"data.images={data / 'images'}",
            "eval.checkpoints=[base]",
            "eval.split=train",
            f"eval.max_samples={self.args.eval_samples}",
            f"eval.batch_size={self.args.eval_batch}",
            f"eval.max_new_tokens={self.args.completion_length}",
            "eval.report_to=[]",
            f"eval.output_dir={self.work / 'runs' / name}",
        ]
        result = self.run_child("eval", name, recipe_args)
        result.update(kind="eval", size=size, batch=self.args.eval_batch, name=name, recipe_args=recipe_args)
        return result

    def plan(self) -> list[tuple[str, Callable[[], dict]]]:
        """(what, how) in the order of measurement."""
        a = self.args
        big = a.sizes[0]
        plan: list[tuple[str, Callable[[], dict]]] = [
            (f"grpo {s} gc {p}", lambda s=s, p=p: self.path(s, BY_NAME[p])) for p in a.paths for s in a.sizes
        ]
        plan.append((f"eval {big}", lambda: self.evaluation(big)))
        plan.append((f"capacity {big}", lambda: self.capacity(big)))
        plan.append(
            (
                f"grpo {big} 1280x960",
                lambda: self.grpo(
                    big, gc=True, batch=a.batch, steps=2, image_size=(1280, 960), label="-1280x960"
                ),
            )
        )
        plan += [
            (f"grpo {s} no gc", lambda s=s: self.grpo(s, gc=False, batch=a.batch, steps=a.steps))
            for s in a.sizes
        ]
        return plan

    def capacity(self, size: str) -> dict:
        """The largest per-device batch (completions) whose GRPO step fits the cap: 4x --batch first,
        then doubling while it fits, or halving until it does."""
        if self.env["device"] != "cuda":
            return {
                "kind": "capacity",
                "size": size,
                "skipped": "no GPU: memory capacity is measured on a GPU",
            }
        tried: dict[int, dict] = {}
        batch = self.args.batch * 4
        while self.args.batch < batch <= self.args.max_batch and batch not in tried and self.left_s > 0:
            result = self.grpo(size, gc=True, batch=batch, steps=1, label="-capacity")
            fits = "oom" not in result and "error" not in result
            tried[batch] = {
                "batch": batch,
                "fits": fits,
                "peak": result.get("peak"),
                "error": result.get("oom") or result.get("error"),
            }
            if "error" in result:
                break
            batch = batch * 2 if fits else batch // 2
        fitting = [b for b, t in tried.items() if t["fits"]]
        return {
            "kind": "capacity",
            "size": size,
            "tried": sorted(tried.values(), key=lambda t: t["batch"]),
            "largest_fitting": max(fitting, default=None),
        }

    def run(self) -> None:
        broken = None  # the recipe as written failed: every GRPO item after it would too
        for what, measure in self.plan():
            if not selected(what, self.args.only):
                continue
            if self.left_s <= 0:
                log(f"time budget spent: {what} and what follows are left out")
                break
            if broken and what.startswith(("grpo", "capacity")):
                log(f"{what}: skipped, GRPO failed before ({broken})")
                continue
            result = measure()
            if (
                result.get("kind") == "grpo"
                and "error" in result
                and result.get("path", "default") == "default"
            ):
                broken = result["error"]
            self.results.append(result)
            if result.get("kind") == "grpo" and "steps" in result and "reward_cost" not in self.env:
                self.env["reward_cost"] = reward_cost(self.data((640, 480)), 2 * self.args.batch)
            self.write()

    def write(self) -> None:
        report = {
            "env": self.env,
            "models": self.models,
            "settings": vars(self.args),
            "runs": [{"argv": self.argv}],
            "results": self.results,
        }
        (self.work / "gpu_bench.json").write_text(json.dumps(report, indent=2, default=str))
        text = render_report(report)
        if self.args.out:
            Path(self.args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(self.args.out).write_text(text)
        print(text, flush=True)
