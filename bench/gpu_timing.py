"""What runs inside a GPU bench measurement (a process of its own): TRL patched for timing, one
GRPO run or one evaluation, and what the recipe's rewards cost.

GRPO's seconds per optimizer step split into generation (TRL's ``transformers.generate`` span,
plus ``merge_lora`` and ``restore_lora`` where ``grpo_generation.merge_lora`` merges), the
rewards (``_calculate_rewards``), MCR's callbacks, TRL's other preparation (tokenising, image
processing, log-probabilities, advantages: the rest of ``_prepare_inputs``) and the rest of the
step (forward, backward, optimizer), from TRL's own profiling spans, each timed with a device
synchronisation at its edges.
"""

from __future__ import annotations

import importlib.util
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reward_timing import median_pass

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30
H100_80GB_GIB = 81559 / 1024  # the H100 80GB's memory as the driver reports it (81,559 MiB)
# TRL's profiling spans of generation (mcr.generation adds the merge and the restore)
GENERATION_SPANS = ("transformers.generate", "merge_lora", "restore_lora")


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def load_entry(relative: str, name: str):
    """An entry-point script as a module of its own (its ``main`` is what ``python <script>`` runs)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses in the script look their module up
    spec.loader.exec_module(module)
    return module


def cap_memory(cap_gib: float | None) -> float | None:
    """Cap this process's GPU allocator at ``cap_gib`` when the GPU has more; the cap or None."""
    import torch

    if not torch.cuda.is_available() or cap_gib is None:
        return None
    total = torch.cuda.get_device_properties(0).total_memory / GIB
    if total <= cap_gib:
        return None
    torch.cuda.set_per_process_memory_fraction(cap_gib / total, 0)
    return cap_gib


@dataclass
class StepProbe:
    """Per optimizer step: wall time, TRL's profiling spans, MCR's callbacks, token counts."""

    spans: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    wall: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    peak: dict = field(default_factory=dict)

    def install(self, stage) -> None:
        """Patch TRL's profiling spans, its generation, MCR's callbacks, and ``stage`` (the GRPO
        stage's module, ``mcr.train_grpo``) so that its trainer times each step."""
        from transformers import TrainerCallback
        from trl import GRPOTrainer
        from trl.extras.profiling import ProfilingContext

        import mcr.callbacks

        probe = self
        enter, leave = ProfilingContext.__enter__, ProfilingContext.__exit__

        def timed_enter(ctx):
            sync()
            ctx.probe_started = time.perf_counter()
            return enter(ctx)

        def timed_exit(ctx, *exc):
            sync()
            probe.spans[ctx.step][ctx.name.split(".", 1)[1]] += time.perf_counter() - ctx.probe_started
            return leave(ctx, *exc)

        ProfilingContext.__enter__, ProfilingContext.__exit__ = timed_enter, timed_exit

        generate_and_score = GRPOTrainer._generate_and_score_completions

        def counted(trainer, inputs):
            out = generate_and_score(trainer, inputs)
            counts = probe.tokens[trainer.state.global_step]
            lengths = out["completion_mask"].sum(dim=1)
            counts["completions"] += len(lengths)
            counts["generated"] += int(lengths.sum())
            counts["total"] += int(out["prompt_mask"].sum()) + int(lengths.sum())
            counts["min_length"] = int(lengths.min())
            counts["max_length"] = int(lengths.max())
            return out

        GRPOTrainer._generate_and_score_completions = counted

        for cls in (
            mcr.callbacks.CompleteCheckpointCallback,
            mcr.callbacks.SigtermCallback,
            mcr.callbacks.RankReportCallback,
        ):
            for name, method in list(vars(cls).items()):
                if name.startswith("on_"):
                    setattr(cls, name, probe._timed_callback(method))

        class StepTimer(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                probe.reset_peak()

            def on_step_begin(self, args, state, control, **kwargs):
                sync()
                self.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                sync()
                probe.wall[state.global_step - 1] = time.perf_counter() - self.started
                probe.read_peak()

        train_and_save = stage.train_and_save

        def with_timer(trainer, *args, **kwargs):
            trainer.add_callback(StepTimer())
            return train_and_save(trainer, *args, **kwargs)

        stage.train_and_save = with_timer

    def _timed_callback(self, method):
        probe = self

        def timed(callback, args, state, control, **kwargs):
            started = time.perf_counter()
            try:
                return method(callback, args, state, control, **kwargs)
            finally:
                probe.spans[state.global_step]["mcr_callbacks"] += time.perf_counter() - started

        return timed

    def reset_peak(self) -> None:
        import torch

        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()

    def read_peak(self) -> None:
        import torch

        if torch.cuda.is_available():
            self.peak = {
                "allocated_gib": torch.cuda.max_memory_allocated() / GIB,
                "reserved_gib": torch.cuda.max_memory_reserved() / GIB,
            }

    def steps(self) -> list[dict]:
        rows = []
        for step in sorted(self.wall):
            spans = self.spans.get(step, {})
            # callbacks of the step run after global_step has moved on (on_step_end and saves)
            callbacks = spans.get("mcr_callbacks", 0.0) + self.spans.get(step + 1, {}).get(
                "mcr_callbacks", 0.0
            )
            rows.append(
                {
                    "step": step + 1,
                    "wall_s": self.wall[step],
                    "prepare_s": spans.get("_prepare_inputs", 0.0),
                    "generation_s": sum(spans.get(name, 0.0) for name in GENERATION_SPANS),
                    "merge_s": spans.get("merge_lora", 0.0) + spans.get("restore_lora", 0.0),
                    "rewards_s": spans.get("_calculate_rewards", 0.0),
                    "mcr_callbacks_s": callbacks,
                    **{k: v for k, v in self.tokens.get(step, {}).items()},
                }
            )
        return rows


def child_grpo(job: dict) -> dict:
    """One GRPO run of ``job["recipe_args"]``, its steps timed."""
    import torch

    import mcr.train_grpo
    from mcr.config import load_recipe

    cap = cap_memory(job["memory_cap_gib"])
    probe = StepProbe()
    probe.install(mcr.train_grpo)
    recipe = load_recipe(job["recipe_args"])
    result: dict[str, Any] = {"memory_cap_gib": cap}
    try:
        mcr.train_grpo.main(recipe)
    except torch.OutOfMemoryError as err:
        result["oom"] = str(err).splitlines()[0][:300]
    probe.read_peak()
    result.update(steps=probe.steps(), peak=probe.peak)
    return result


def child_eval(job: dict) -> dict:
    """One run of ``eval/evaluate.py`` on ``job["recipe_args"]``, its generation timed."""
    import torch
    from transformers.generation.utils import GenerationMixin

    from mcr.config import load_recipe
    from mcr.lengths import sequence_lengths

    cap = cap_memory(job["memory_cap_gib"])
    entry = load_entry("eval/evaluate.py", "mcr_evaluate")
    calls: list[dict] = []
    model_generate = GenerationMixin.generate

    def counted_generate(model, *args, **kwargs):
        out = model_generate(model, *args, **kwargs)
        prompt = kwargs["input_ids"]
        new = out[:, prompt.shape[1] :]
        calls.append({"sequences": int(new.shape[0]), "generated": int(new.numel())})
        return out

    GenerationMixin.generate = counted_generate
    generate = entry.generate
    timings: list[dict] = []

    def timed_generate(model, processor, rows, **kwargs):
        prompt_tokens = sum(
            p for p, _, _ in sequence_lengths(processor, rows, recipe.image_space)
        )  # rows carry their input sizes
        sync()
        started = time.perf_counter()
        texts = generate(model, processor, rows, **kwargs)
        sync()
        timings.append(
            {"samples": len(rows), "seconds": time.perf_counter() - started, "prompt_tokens": prompt_tokens}
        )
        return texts

    entry.generate = timed_generate
    recipe = load_recipe(job["recipe_args"])
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    entry.main(recipe)
    (timing,) = timings
    generated = sum(c["generated"] for c in calls)
    return {
        "memory_cap_gib": cap,
        "samples": timing["samples"],
        "seconds": timing["seconds"],
        "prompt_tokens": timing["prompt_tokens"],
        "generated": generated,
        "generate_calls": len(calls),
        "peak": {"allocated_gib": torch.cuda.max_memory_allocated() / GIB}
        if torch.cuda.is_available()
        else {},
    }


def reward_cost(data: Path, n: int, repeats: int = 20) -> dict:
    """Seconds the recipe's rewards take on ``n`` well-formed completions (MRSI renderings of the
    gold: every reward parses and matches, the costliest case), timed as ``bench/rewards.py``
    times them (``reward_timing``); median of ``repeats``."""
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.rows import sft_example
    from mcr.config import load_recipe
    from mcr.prompts import available_styles
    from mcr.rewards import reward_set

    recipe = load_recipe(
        ["recipe=mcr_qwen", "model.family=qwen2_5_vl", f"data.root={data}", f"data.images={data / 'images'}"]
    )
    records = load_twitter_gmner(data, "train", images=data / "images")[:n]
    styles = available_styles("gmner")
    rows = [sft_example(r, styles[i % len(styles)], recipe.image_space) for i, r in enumerate(records)]
    funcs, _ = reward_set(recipe.rewards)
    columns = {key: [r[key] for r in rows] for key in ("gold", "text", "task")}
    completions = [r["completion"] for r in rows]
    seconds = median_pass(funcs, [(completions, columns)], repeats)
    return {"completions": len(rows), "rewards": len(funcs), "seconds": seconds}
