"""Real sizes on one GPU: GRPO of ``recipe=mcr_qwen`` on Qwen2.5-VL-7B and -3B shapes, and evaluation.

    python bench/gpu.py                         # a GPU: 7B and 3B, report in docs/performance.md
    python bench/gpu.py --wheels DIR ...        # first install the wheels in DIR (machines without TRL...)
    python bench/gpu.py --tiny --work DIR       # the same script at tiny sizes on the CPU (the tests run it)

The models have the shapes of the public ``config.json`` of Qwen2.5-VL-3B/7B-Instruct (written
in ``SHAPES`` below) and random weights, made directly on the GPU in bf16, saved to a folder and
loaded from it by ``train_grpo.py recipe=mcr_qwen`` exactly as a user's checkpoint is. The
tokenizer is the tiny model's, its vocabulary filled to Qwen's 151,643 regular tokens so that
the special tokens sit at Qwen's ids and every sampled id decodes. The data are synthetic GMNER
posts with 640x480 images (391 visual tokens each under the recipe's ``max_pixels``; no image
gets more than 512).

The recipe runs as written except: the model path, the data, ``max_steps``, ``report_to=none``,
gradient checkpointing on or off, the per-device batch and the completion length, which is
forced (``min_new_tokens``: random weights would stop at random) so that numbers compare.
Each measurement runs in a process of its own, and on a GPU larger than 80 GB the allocator is
capped so that every figure holds for an 80 GB card. Measured in this order while
``--budget-s`` lasts (each finished item is written at once):

1. GRPO, 7B, gradient checkpointing;  2. GRPO, 3B, gradient checkpointing;
3. evaluation throughput (``eval/evaluate.py``, batch 32), 7B;
4. GRPO without gradient checkpointing, 7B then 3B;
5. the largest per-device batch (completions) of 7B GRPO that fits 80 GB;
6. the recipe's largest images: 1280x960 posts resized down to ``max_pixels`` (494 visual tokens).

Seconds per optimizer step split into generation (``transformers.generate``), the recipe's
rewards (TRL's ``_calculate_rewards``, i.e. every reward function), MCR's callbacks, TRL's other
preparation (tokenising, image processing, log-probabilities, advantages) and the rest of the
step (forward, backward and the optimizer), from TRL's own profiling spans, timed with a device
synchronisation at each edge. The first step (warm-up) is left out of every mean.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GIB = 2**30
H100_80GB_GIB = 81559 / 1024  # the H100 80GB's memory as the driver reports it (81,559 MiB)


@dataclass(frozen=True)
class Shape:
    """A Qwen2.5-VL text and vision configuration (public ``config.json`` values)."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    tie_word_embeddings: bool
    max_window_layers: int
    vision_depth: int = 32
    vision_hidden_size: int = 1280
    vision_intermediate_size: int = 3420
    vision_heads: int = 16
    fullatt_block_indexes: tuple[int, ...] = (7, 15, 23, 31)
    rope_theta: float = 1_000_000.0
    mrope_section: tuple[int, int, int] = (16, 24, 24)
    max_position_embeddings: int = 128_000
    regular_tokens: int = 151_643  # Qwen2's regular vocabulary; special tokens follow


SHAPES = {
    # Qwen/Qwen2.5-VL-7B-Instruct config.json
    "7b": Shape(3584, 18944, 28, 28, 4, 152_064, False, 28),
    # Qwen/Qwen2.5-VL-3B-Instruct config.json
    "3b": Shape(2048, 11008, 36, 16, 2, 151_936, True, 70),
    # the same script on a CPU in seconds: every code path, tiny widths
    "tiny": Shape(
        64, 128, 2, 4, 2, 2_048, True, 2, 2, 32, 64, 2, (1,), 10_000.0, (2, 3, 3), 4_096, regular_tokens=2_034
    ),
}

ANCHORS = {
    "EasyR1": "EasyR1: 8xH100, vLLM, tensor parallel 2, 5 generations, 2,048-token responses: "
    "1,800 tokens/s/GPU (3B), 1,600-2,000 (7B)",
    "VLM-R1": "VLM-R1: 8xA100, HF generation, 3B, 7 generations: 25-30 s per step",
}


# --------------------------------------------------------------------------------------------
# Building the real-size checkpoint
# --------------------------------------------------------------------------------------------
def qwen25vl_config(shape: Shape, tokenizer: Any):
    from transformers import Qwen2_5_VLConfig

    from mcr.tiny_model import SPECIAL_TOKENS

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    text_config = {
        "vocab_size": shape.vocab_size,
        "hidden_size": shape.hidden_size,
        "intermediate_size": shape.intermediate_size,
        "num_hidden_layers": shape.num_hidden_layers,
        "num_attention_heads": shape.num_attention_heads,
        "num_key_value_heads": shape.num_key_value_heads,
        "max_position_embeddings": shape.max_position_embeddings,
        "max_window_layers": shape.max_window_layers,
        "hidden_act": "silu",
        "rms_norm_eps": 1e-6,
        "use_sliding_window": False,
        "rope_parameters": {
            "rope_type": "default",
            "rope_theta": shape.rope_theta,
            "mrope_section": list(shape.mrope_section),
        },
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "tie_word_embeddings": shape.tie_word_embeddings,
    }
    vision_config = {
        "depth": shape.vision_depth,
        "hidden_size": shape.vision_hidden_size,
        "intermediate_size": shape.vision_intermediate_size,
        "num_heads": shape.vision_heads,
        "hidden_act": "silu",
        "out_hidden_size": shape.hidden_size,
        "in_chans": 3,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": list(shape.fullatt_block_indexes),
        "tokens_per_second": 2,
    }
    return Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=shape.tie_word_embeddings,
    )


def build_checkpoint(shape: Shape, folder: Path, *, device: str, completion_length: int) -> dict:
    """Random weights in the model's dtype, made on ``device``, saved with the processor."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from mcr.config import load_recipe
    from mcr.tiny_model import SPECIAL_TOKENS, TinySpec, build_processor, build_tokenizer, generation_config

    recipe = load_recipe(
        ["recipe=mcr_qwen", "model.family=qwen2_5_vl", "data.root=unused", "data.images=unused"]
    )
    spec = TinySpec(
        vocab_size=min(4_096, shape.regular_tokens + len(SPECIAL_TOKENS)),
        tokenizer_corpus_size=400,
        min_pixels=recipe.model.min_pixels,
        max_pixels=recipe.model.max_pixels,
    )
    started = time.perf_counter()
    tokenizer = build_tokenizer(spec, seed=0, fill_to=shape.regular_tokens)
    config = qwen25vl_config(shape, tokenizer)
    with torch.device(device):
        model = Qwen2_5_VLForConditionalGeneration._from_config(
            config, dtype=getattr(torch, recipe.model.dtype)
        )
    # random weights rarely sample an end token; min_new_tokens makes sure no completion stops early
    model.generation_config = generation_config(config, min_new_tokens=completion_length)
    built = time.perf_counter()
    model.save_pretrained(folder)
    build_processor(tokenizer, spec).save_pretrained(folder)
    parameters = sum(p.numel() for p in model.parameters())
    del model
    if device == "cuda":
        torch.cuda.empty_cache()
    return {
        "parameters": parameters,
        "build_s": round(built - started, 1),
        "save_s": round(time.perf_counter() - built, 1),
    }


# --------------------------------------------------------------------------------------------
# Child processes: one measurement each, instrumented
# --------------------------------------------------------------------------------------------
def load_entry(relative: str, name: str):
    """An entry-point script as a module (its ``main`` is what ``python <script>`` runs)."""
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

    sync: Any
    spans: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(float)))
    wall: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    peak: dict = field(default_factory=dict)

    def install(self, entry_module) -> None:
        from transformers import TrainerCallback
        from trl import GRPOTrainer
        from trl.extras.profiling import ProfilingContext

        import mcr.callbacks

        probe = self
        enter, leave = ProfilingContext.__enter__, ProfilingContext.__exit__

        def timed_enter(ctx):
            probe.sync()
            ctx.probe_started = time.perf_counter()
            return enter(ctx)

        def timed_exit(ctx, *exc):
            probe.sync()
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
                probe.sync()
                self.started = time.perf_counter()

            def on_step_end(self, args, state, control, **kwargs):
                probe.sync()
                probe.wall[state.global_step - 1] = time.perf_counter() - self.started
                probe.read_peak()

        train_and_save = entry_module.train_and_save

        def with_timer(trainer, *args, **kwargs):
            trainer.add_callback(StepTimer())
            return train_and_save(trainer, *args, **kwargs)

        entry_module.train_and_save = with_timer

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
                    "generation_s": spans.get("transformers.generate", 0.0),
                    "rewards_s": spans.get("_calculate_rewards", 0.0),
                    "mcr_callbacks_s": callbacks,
                    **{k: v for k, v in self.tokens.get(step, {}).items()},
                }
            )
        return rows


def _sync():
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def child_grpo(job: dict) -> dict:
    import torch

    from mcr.config import load_recipe

    cap = cap_memory(job["memory_cap_gib"])
    entry = load_entry("train_grpo.py", "train_grpo")
    probe = StepProbe(_sync)
    probe.install(entry)
    recipe = load_recipe(job["recipe_args"])
    result: dict[str, Any] = {"memory_cap_gib": cap}
    try:
        entry.main(recipe)
    except torch.OutOfMemoryError as err:
        result["oom"] = str(err).splitlines()[0][:300]
    probe.read_peak()
    result.update(steps=probe.steps(), peak=probe.peak)
    return result


def child_eval(job: dict) -> dict:
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
        _sync()
        started = time.perf_counter()
        texts = generate(model, processor, rows, **kwargs)
        _sync()
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


# --------------------------------------------------------------------------------------------
# The parent: build, run each measurement in its own process, report
# --------------------------------------------------------------------------------------------
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
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            kind,
            str(job_file),
            str(out_file),
        ]
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
        self, size: str, *, gc: bool, batch: int, steps: int, image_size=(640, 480), label: str = ""
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
            f"grpo.generation_kwargs={{min_new_tokens:{length}}}",
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

    def plan(self) -> list[tuple[str, Any]]:
        """(what, how) in the order of measurement."""
        a = self.args
        big = a.sizes[0]
        plan: list[tuple[str, Any]] = [
            (f"grpo {s} gc", lambda s=s: self.grpo(s, gc=True, batch=a.batch, steps=a.steps)) for s in a.sizes
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
        broken = None
        for what, measure in self.plan():
            if self.args.only and what not in self.args.only:
                continue
            if self.left_s <= 0:
                log(f"time budget spent: {what} and what follows are left out")
                break
            if broken and what.startswith(("grpo", "capacity")):
                log(f"{what}: skipped, GRPO failed before ({broken})")
                continue
            result = measure()
            if result.get("kind") == "grpo" and "error" in result:
                broken = result["error"]
            self.results.append(result)
            if result.get("kind") == "grpo" and "reward_cost" not in self.env:
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


def visual_tokens(image_size: tuple[int, int]) -> int:
    """Tokens an image of ``image_size`` becomes under the recipe's resizing (28x28 pixels each)."""
    from mcr.config import load_recipe

    space = load_recipe(
        ["recipe=mcr_qwen", "model.family=qwen2_5_vl", "data.root=unused", "data.images=unused"]
    ).image_space
    return space.visual_tokens(space.input_size(*image_size))


def reward_cost(data: Path, n: int, repeats: int = 20) -> dict:
    """Seconds the recipe's rewards take on ``n`` well-formed completions (MRSI renderings of the
    gold: every reward parses and matches, the costliest case), caches emptied each time as a
    new step's completions would find them; median of ``repeats``."""
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.rows import sft_example
    from mcr.config import load_recipe
    from mcr.prompts import available_styles
    from mcr.rewards import clear_caches, reward_set

    recipe = load_recipe(
        ["recipe=mcr_qwen", "model.family=qwen2_5_vl", f"data.root={data}", f"data.images={data / 'images'}"]
    )
    records = load_twitter_gmner(data, "train", images=data / "images")[:n]
    styles = available_styles("gmner")
    rows = [sft_example(r, styles[i % len(styles)], recipe.image_space) for i, r in enumerate(records)]
    funcs, _ = reward_set(recipe.rewards)
    columns = {key: [r[key] for r in rows] for key in ("gold", "text", "task")}
    completions = [r["completion"] for r in rows]
    times = []
    for _ in range(repeats):
        clear_caches()
        started = time.perf_counter()
        for fn in funcs:
            fn(completions, **columns)
        times.append(time.perf_counter() - started)
    clear_caches()
    return {"completions": len(rows), "rewards": len(funcs), "seconds": statistics.median(times)}


def preflight() -> None:
    """Fail in seconds, before any model is built, when a package or entry point cannot load."""
    import datasets  # noqa: F401
    import omegaconf  # noqa: F401
    import peft  # noqa: F401
    import qwen_vl_utils  # noqa: F401
    from trl import GRPOTrainer  # noqa: F401

    load_entry("train_grpo.py", "train_grpo")
    load_entry("eval/evaluate.py", "mcr_evaluate")


def environment() -> dict:
    import importlib.metadata as md

    import torch

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "absent"

    device = "cuda" if torch.cuda.is_available() else "cpu"
    env = {
        "date": datetime.date.today().isoformat(),
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / GIB, 1)
        if device == "cuda"
        else None,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cuda": torch.version.cuda,
        **{
            name: version(name)
            for name in (
                "torch",
                "transformers",
                "trl",
                "peft",
                "accelerate",
                "datasets",
                "vllm",
                "flash-attn",
            )
        },
    }
    return env


# --------------------------------------------------------------------------------------------
# The report
# --------------------------------------------------------------------------------------------
def summarize_grpo(result: dict) -> dict | None:
    steps = result.get("steps") or []
    measured = steps[1:] or steps  # the first step warms up kernels and caches
    if not measured:
        return None

    def mean(key: str) -> float:
        return statistics.fmean(s.get(key, 0.0) for s in measured)

    step, generation, rewards = mean("wall_s"), mean("generation_s"), mean("rewards_s")
    prepare, callbacks = mean("prepare_s"), mean("mcr_callbacks_s")
    return {
        "step_s": step,
        "generation_s": generation,
        "rewards_s": rewards,
        "mcr_callbacks_s": callbacks,
        "other_prepare_s": max(0.0, prepare - generation - rewards),
        "forward_backward_s": max(0.0, step - prepare - callbacks),
        "rewards_glue_pct": 100 * (rewards + callbacks) / step,
        "completions": mean("completions"),
        "generated_tokens_per_s": mean("generated") / step,
        "generation_tokens_per_s": mean("generated") / generation if generation else 0.0,
        "total_tokens_per_s": mean("total") / step,
        "completion_lengths": sorted(
            {s.get("min_length") for s in steps} | {s.get("max_length") for s in steps}
        ),
        "steps_measured": len(measured),
    }


def _gib(peak: dict | None, key: str = "allocated_gib") -> str:
    return f"{peak[key]:.1f}" if peak and key in peak else "n/a"


def render_report(report: dict) -> str:
    env, settings, results = report["env"], report["settings"], report["results"]
    where = (
        f"{env['gpu']} ({env['gpu_memory_gib']} GiB)" if env["gpu"] else f"CPU ({env['cpu']}), tiny shapes"
    )
    versions = ", ".join(
        f"{k} {env[k]}"
        for k in (
            "python",
            "torch",
            "cuda",
            "transformers",
            "trl",
            "peft",
            "accelerate",
            "datasets",
            "vllm",
            "flash-attn",
        )
    )
    cap = settings["memory_cap_gib"]
    first_tokens = next((r["visual_tokens"] for r in results if r.get("image_size") == [640, 480]), "n/a")
    lines = [
        "# Performance on one GPU: real-size GRPO and evaluation",
        "",
        f"Measured {env['date']} on {where} by "
        + "; ".join(f"`python bench/gpu.py {' '.join(run['argv'])}`" for run in report.get("runs", []))
        + ".",
        f"Software: {versions}. Attention: SDPA unless flash-attn is installed; vLLM "
        f"{'absent: generation is transformers `generate`' if env['vllm'] == 'absent' else env['vllm']}.",
        f"Setting: `recipe=mcr_qwen` as written (LoRA r=64 on the language model, bf16, groups of "
        f"{8}, gradient accumulation 2, beta 0) with random weights of the published shapes; "
        f"{settings['completion_length']}-token completions (forced); synthetic GMNER posts with 640x480 "
        f"images ({first_tokens} visual tokens). GPU memory capped at {cap:.1f} GiB, an H100 80GB's, "
        "where the GPU has more. One optimizer step = per-device batch x 2 completions; the first step "
        "is left out.",
        "",
        "## GRPO: seconds per optimizer step",
        "",
        "| model | grad. ckpt | completions / step | steps measured | step s | generation s | "
        "forward+backward+optimizer s | other TRL s | rewards + MCR glue s (%) | generated tok/s | "
        "total tok/s | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for r in results:
        if r.get("kind") != "grpo" or "-capacity" in r.get("name", "") or "1280x960" in r.get("name", ""):
            continue
        s = summarize_grpo(r)
        label = f"{r['size'].upper()} | {'on' if r['gradient_checkpointing'] else 'off'}"
        if s is None:
            lines.append(
                f"| {label} | {r['batch'] * 2} | failed: {r.get('oom') or r.get('error')} ||||||||| "
            )
            if r.get("log_tail"):
                notes.append(f"{r['name']} log tail:\n\n```\n{r['log_tail'][-1500:]}\n```")
            continue
        lines.append(
            f"| {label} | {s['completions']:.0f} | {s['steps_measured']} | {s['step_s']:.2f} | "
            f"{s['generation_s']:.2f} | "
            f"{s['forward_backward_s']:.2f} | {s['other_prepare_s']:.2f} | "
            f"{s['rewards_s'] + s['mcr_callbacks_s']:.3f} ({s['rewards_glue_pct']:.2f}%) | "
            f"{s['generated_tokens_per_s']:.0f} | {s['total_tokens_per_s']:.0f} | {_gib(r.get('peak'))} |"
        )
    lines += [
        "",
        "Generated tok/s: completion tokens per second of the whole step, per GPU; total tok/s: prompt "
        "(image tokens included) plus completion tokens per second of the step, per GPU. Anchors: "
        f"{ANCHORS['EasyR1']} (vLLM and 2,048-token responses amortise the prompt and batch generation far "
        f"better than transformers `generate`); {ANCHORS['VLM-R1']} (8 GPUs share a step there; "
        "here one GPU does all of it).",
    ]
    cost = env.get("reward_cost")
    first = next((summarize_grpo(r) for r in results if r.get("kind") == "grpo" and summarize_grpo(r)), None)
    if cost and first:
        lines += [
            "",
            f"The recipe's {cost['rewards']} rewards on {cost['completions']} well-formed completions (MRSI "
            "renderings of the gold, so every reward parses and matches: the costliest case; random weights "
            f"write unparsable text) take {1000 * cost['seconds']:.1f} ms, "
            f"{100 * cost['seconds'] / first['step_s']:.3f}% of the first row's step.",
        ]
    for r in results:
        if r.get("kind") == "grpo" and "1280x960" in r.get("name", ""):
            s = summarize_grpo(r)
            lines += ["", "## The recipe's largest images", ""]
            if s:
                lines.append(
                    f"{r['size'].upper()}, 1280x960 images resized to the recipe's max_pixels "
                    f"({r['visual_tokens']} visual tokens each), batch {r['batch']}: "
                    f"{len(r['steps'])} steps without error, "
                    f"{s['step_s']:.2f} s a step, peak {_gib(r.get('peak'))} GiB."
                )
            else:
                lines.append(
                    f"{r['size'].upper()}, 1280x960 images: failed: {r.get('oom') or r.get('error')}"
                )
    for r in results:
        if r.get("kind") == "capacity":
            lines += ["", "## Memory: the largest per-device batch", ""]
            if "skipped" in r:
                lines.append(f"Skipped: {r['skipped']}.")
                continue
            tried = "; ".join(
                f"{t['batch']} completions: {'fits' if t['fits'] else 'does not fit'}"
                + (f" (peak {_gib(t['peak'])} GiB)" if t["fits"] else "")
                for t in r["tried"]
            )
            lines.append(
                f"{r['size'].upper()} GRPO with gradient checkpointing under the {cap:.1f} GiB cap: "
                f"{tried}. Largest that fits: {r['largest_fitting'] or 'none tried'} completions per device "
                f"(one step = 2 x that many completions, generated together)"
                + (
                    f"; {settings['max_batch']} was the search's ceiling (--max-batch), not the memory's."
                    if r["largest_fitting"] == settings["max_batch"]
                    else "."
                )
            )
    for r in results:
        if r.get("kind") == "eval":
            lines += ["", "## Evaluation throughput (`eval/evaluate.py`)", ""]
            if "error" in r:
                lines.append(f"{r['size'].upper()}: failed: {r['error']}")
                continue
            samples_s = r["samples"] / r["seconds"]
            tokens_s = (r["prompt_tokens"] + r["generated"]) / r["seconds"]
            lines.append(
                f"{r['size'].upper()}, batch {r['batch']}, greedy, "
                f"{settings['completion_length']} new tokens, "
                f"{r['samples']} posts: {samples_s:.2f} samples/s, {r['generated'] / r['seconds']:.0f} "
                f"generated tok/s, {tokens_s:.0f} total tok/s, peak {_gib(r.get('peak'))} GiB "
                f"({r['seconds']:.1f} s for {r['generate_calls']} batches; transformers `generate`, no vLLM)."
            )
    lines += ["", "## Models", ""]
    for size, info in report["models"].items():
        lines.append(
            f"- {size.upper()}: {info['parameters'] / 1e9:.2f}B parameters, built on {env['device']} in "
            f"{info['build_s']} s, saved in {info['save_s']} s."
        )
    done = {r.get("name") or r.get("kind") for r in results}
    lines += ["", f"Measurements finished: {len(results)} ({', '.join(sorted(map(str, done)))})."]
    if notes:
        lines += ["", "## Failures", "", *notes]
    return "\n".join(lines) + "\n"


def log(message: str) -> None:
    print(f"[bench/gpu] {message}", file=sys.stderr, flush=True)


def install_wheels(folder: Path, target: Path) -> None:
    """Install every wheel of ``folder`` into ``target`` (no index, no dependencies resolved)."""
    wheels = sorted(str(p) for p in folder.glob("*.whl"))
    if not wheels:
        sys.exit(f"error: no wheels in {folder}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-compile",
            "--upgrade",
            "--target",
            str(target),
            *wheels,
        ],
        check=True,
    )


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
        "--only",
        type=lambda v: [x.strip() for x in v.split(",")],
        default=None,
        help="measure only these, comma-separated: 'grpo 7b gc', 'eval 7b', 'capacity 7b', "
        "'grpo 7b 1280x960', 'grpo 3b no gc', ...",
    )
    parser.add_argument("--verbose", action="store_true", help="show each measurement's own output")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "JOB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.sizes = ["tiny"] if args.tiny else ["7b", "3b"]
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if args.child:
        kind, job_file, out_file = args.child
        job = json.loads(Path(job_file).read_text())
        result = {"grpo": child_grpo, "eval": child_eval}[kind](job)
        Path(out_file).write_text(json.dumps(result, default=str))
        return
    work = Path(args.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    if args.wheels:
        site = work / "site"
        install_wheels(Path(args.wheels), site)
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
        rest = [a for i, a in enumerate(sys.argv[1:]) if a != "--wheels" and sys.argv[i] != "--wheels"]
        os.execv(sys.executable, [sys.executable, str(Path(__file__).resolve()), *rest])
    bench = Bench(args, work, argv=sys.argv[1:] if argv is None else list(argv))
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
