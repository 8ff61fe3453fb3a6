"""GRPO's generation with transformers, as the recipe's ``grpo_generation`` section sets it:
LoRA merged into the weights while generating, and the decoding step compiled.

What TRL 1.16's ``GRPOTrainer`` does without vLLM: ``model.generate`` on the PEFT model it
trains, adapters unmerged, so every adapted projection runs three matmuls (the base weight, A,
then B) at each decoding position; it merges adapters only to send weights to vLLM
(``use_vllm``). It builds its ``GenerationConfig`` with ``disable_compile=True``, so transformers
never compiles generate, whatever ``cache_implementation`` says.

What this module adds (``GRPOTrainer``, TRL's with the section's settings):

* ``merge_lora``: around each transformers generation, the adapters are merged into their base
  weights in place (peft's ``merge``), and afterwards unmerged and the base weights copied back
  from a copy taken before merging. Unmerging alone subtracts the delta again, which in bf16 does
  not give the weights back (each merge would move them by a rounding); the copy makes the
  weights the update sees the very bits it would have seen without merging. The weights stay the
  same tensors at the same addresses, which CUDA graphs of a compiled step rely on. Generation
  then samples without LoRA dropout (a merged layer has no adapter path to drop).
* ``compile``: the trainer's generation config lets transformers compile (``compile_config``,
  by default inductor in mode ``reduce-overhead``: CUDA graphs) over a static cache; the cache
  is sized once for the run, the longest training prompt plus ``max_completion_length``, so that
  a longer prompt later does not grow it and compile again.

The merge and the restore are timed as TRL's profiling spans ``merge_lora`` and ``restore_lora``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import trl
from trl.extras.profiling import profiling_context

from mcr.config.schema import STATIC_CACHES, GrpoGenerationArgs


def merge_lora(model: Any) -> Callable[[], None]:
    """Merge the active adapters of every unmerged LoRA layer of ``model`` into its base layer, in
    place; returns the function that unmerges them and gives the base layers' parameters back the
    bits they held before (from a copy taken here), in the same tensors."""
    import torch
    from peft.tuners.tuners_utils import BaseTunerLayer

    layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer) and not m.merged]
    with torch.no_grad():
        saved = [
            (parameter, parameter.detach().clone())
            for layer in layers
            for parameter in layer.get_base_layer().parameters(recurse=False)
        ]
        for layer in layers:
            layer.merge()

    def restore() -> None:
        with torch.no_grad():
            for layer in layers:
                layer.unmerge()
            for parameter, copy in saved:
                parameter.copy_(copy)

    return restore


@contextmanager
def merged_lora(model: Any) -> Iterator[None]:
    """``model``'s LoRA adapters merged into its weights inside the block (``merge_lora``), the
    weights exactly as before after it."""
    restore = merge_lora(model)
    try:
        yield
    finally:
        restore()


class GRPOTrainer(trl.GRPOTrainer):
    """TRL's ``GRPOTrainer`` generating as ``grpo_generation`` says.

    ``generation`` is the recipe's section; ``longest_prompt`` the longest training prompt in
    tokens, image tokens included (``mcr.lengths.check_grpo_lengths``), which sizes a static
    cache once for the run.
    """

    def __init__(
        self,
        *args: Any,
        generation: GrpoGenerationArgs | None = None,
        longest_prompt: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.generation_settings = settings = generation or GrpoGenerationArgs()
        if (settings.merge_lora or settings.compile) and self.use_vllm:
            raise ValueError("grpo_generation sets how transformers generates, but vLLM generates here")
        if settings.merge_lora:
            self._check_merge_lora()
        if self.use_vllm:
            return
        config = self.generation_config
        sized = getattr(config, "max_cache_len", None) is not None  # by generation_kwargs
        if config.cache_implementation in STATIC_CACHES and longest_prompt and not sized:
            config.max_cache_len = longest_prompt + self.max_completion_length
        if settings.compile:
            from transformers import CompileConfig

            config.disable_compile = False
            config.compile_config = CompileConfig(**settings.compile_config)

    def _check_merge_lora(self) -> None:
        from accelerate.utils import is_peft_model

        if not is_peft_model(self.model):
            raise ValueError("grpo_generation.merge_lora: the model GRPO trains has no LoRA adapters")
        if self.is_fsdp_enabled or (self.is_deepspeed_enabled and self._dist.is_zero3):
            raise ValueError(
                "grpo_generation.merge_lora merges adapters into whole weights: it cannot run on weights "
                "sharded by DeepSpeed ZeRO-3 or FSDP (use ZeRO-2 or DDP, or leave merge_lora off)"
            )

    def _generate_single_turn(self, *args: Any, **kwargs: Any):
        if not self.generation_settings.merge_lora:
            return super()._generate_single_turn(*args, **kwargs)
        with profiling_context(self, "merge_lora"):
            restore = merge_lora(self.accelerator.unwrap_model(self.model))
        try:
            return super()._generate_single_turn(*args, **kwargs)
        finally:
            with profiling_context(self, "restore_lora"):
                restore()
