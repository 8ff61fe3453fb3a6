"""The generation paths the GPU bench measures side by side: each a set of recipe overrides on
``recipe=mcr_qwen`` (docs/generation.md says what each key does and when to use it).

A path runs where it can: ``needs_gpu`` says why one cannot on a CPU, ``needs_package`` names
what it must find installed, ``refused`` why none can run today (it stays listed so that the
report says so). The tests (tests/test_generation_paths.py) run the same paths on the tiny
model: same greedy completions, the same rewards' inputs, two training steps each.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


@dataclass(frozen=True)
class GenerationPath:
    name: str
    what: str  # one line for the report
    overrides: tuple[str, ...] = ()  # recipe overrides, key=value
    generation_every: int = 1  # optimizer steps per generation (grpo.steps_per_generation / accumulation)
    needs_gpu: str | None = None  # why it cannot run on a CPU
    needs_package: str | None = None  # a module it needs installed
    refused: str | None = None  # why it cannot run at all

    def skipped(self, device: str) -> str | None:
        """Why this path is not measured on ``device`` (None: it is)."""
        if self.refused:
            return self.refused
        if self.needs_gpu and device != "cuda":
            return f"no GPU: {self.needs_gpu}"
        if self.needs_package and importlib.util.find_spec(self.needs_package) is None:
            return f"{self.needs_package} is not installed"
        return None


# mcr_qwen accumulates 2 micro-batches of 8 completions: TRL generates the 16 of an optimizer step in
# one call; steps_per_generation=4 generates two optimizer steps' 32 together
BIG_BATCH = "grpo.steps_per_generation=4"
COMPILED = (
    "grpo.cache_implementation=static",
    "grpo_generation.compile=true",
    "grpo_generation.merge_lora=true",
)
CUDA_GRAPHS = "transformers compiles generate only on an accelerator, and CUDA graphs need a GPU"

PATHS = (
    GenerationPath("default", "the recipe as written: transformers generate, dynamic cache, LoRA unmerged"),
    GenerationPath(
        "merged_lora",
        "LoRA merged into the weights while generating, restored bit for bit after",
        ("grpo_generation.merge_lora=true",),
    ),
    GenerationPath("static_cache", "a static KV cache, not compiled", ("grpo.cache_implementation=static",)),
    GenerationPath(
        "compiled",
        "static cache, decoding step compiled (torch.compile, CUDA graphs), LoRA merged",
        COMPILED,
        needs_gpu=CUDA_GRAPHS,
    ),
    GenerationPath(
        "big_batch",
        "two optimizer steps' completions (32) generated in one call",
        (BIG_BATCH,),
        generation_every=2,
    ),
    GenerationPath(
        "compiled_big_batch",
        "compiled and merged as `compiled`, 32 completions a call as `big_batch`",
        (*COMPILED, BIG_BATCH),
        generation_every=2,
        needs_gpu=CUDA_GRAPHS,
    ),
    GenerationPath(
        "flash_attention_2",
        "Flash-Attention 2 instead of SDPA",
        ("model.attn_implementation=flash_attention_2",),
        needs_gpu="Flash-Attention runs on a GPU only",
        needs_package="flash_attn",
    ),
    GenerationPath(
        "continuous_batching",
        "transformers continuous batching (grpo.use_transformers_continuous_batching)",
        ("grpo.use_transformers_continuous_batching=true",),
        refused="TRL 1.16's GRPOTrainer refuses continuous batching for multimodal models (the images never "
        "reach generate_batch)",
    ),
)
BY_NAME = {path.name: path for path in PATHS}


def steps_for(path: GenerationPath, steps: int) -> int:
    """Optimizer steps to run so that, after the warm-up step, whole generation cycles are measured:
    ``steps`` for a path generating every step, 1 + a cycle's steps (or more) for one that does not."""
    measured = max(1, steps - 1)
    cycles = -(-measured // path.generation_every)
    return 1 + cycles * path.generation_every
