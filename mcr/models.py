"""Models and processors as a run loads them: the tiny model built on first use, LoRA,
attention, resizing bounds, and the policy GRPO starts from (an SFT adapter merged or kept)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from mcr.config import Recipe

logger = logging.getLogger(__name__)


def ensure_model(recipe: Recipe) -> str:
    """The model path; builds the offline tiny model there first when the recipe asks for it."""
    path = recipe.model.name_or_path
    if recipe.model.build_tiny and not (Path(path) / "config.json").is_file():
        from mcr.tiny_model import TinySpec, build_tiny_model

        family = recipe.family.name
        logger.info("building the tiny %s at %s", family, path)
        spec = TinySpec(family=family, min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels)
        build_tiny_model(path, seed=recipe.model.tiny_seed, spec=spec)
    return path


def lora_config(recipe: Recipe):
    """LoRA on the family's language-model projections (and vision tower with ``lora.vision``),
    or on ``lora.target_modules`` when the recipe names its own."""
    from peft import LoraConfig

    if not recipe.lora.enabled:
        return None
    targets = recipe.lora.target_modules
    if targets is None:
        family = recipe.family
        targets = (
            f"({family.lora_language})|({family.lora_vision})" if recipe.lora.vision else family.lora_language
        )
    return LoraConfig(
        r=recipe.lora.r,
        lora_alpha=recipe.lora.alpha,
        lora_dropout=recipe.lora.dropout,
        target_modules=targets,
        modules_to_save=recipe.lora.modules_to_save,
        task_type="CAUSAL_LM",
    )


def attention_implementation(requested: str | None) -> str | None:
    """``auto``: Flash-Attention 2 when flash-attn is installed and a GPU is there, else SDPA."""
    if requested != "auto":
        return requested
    import importlib.util

    import torch

    if importlib.util.find_spec("flash_attn") is not None and torch.cuda.is_available():
        return "flash_attention_2"
    return "sdpa"


def model_init_kwargs(recipe: Recipe) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"dtype": recipe.model.dtype}
    attention = attention_implementation(recipe.model.attn_implementation)
    if attention:
        kwargs["attn_implementation"] = attention
    return kwargs


def load_processor(path: str, *, min_pixels: int, max_pixels: int):
    """The model's processor, left-padded, resizing images exactly as the gold boxes assume."""
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(path, padding_side="left", truncation_side="left")
    processor.image_processor.size = {"shortest_edge": min_pixels, "longest_edge": max_pixels}
    for attr in ("min_pixels", "max_pixels"):  # older processors also keep these
        if hasattr(processor.image_processor, attr):
            setattr(processor.image_processor, attr, min_pixels if attr == "min_pixels" else max_pixels)
    return processor


def load_policy(recipe: Recipe, model_path: str):
    """The model GRPO starts from and the LoRA config to train, honouring ``model.init_adapter``.

    Without an init adapter: the path (TRL loads it) and a fresh LoRA. With one: its whole
    adapter chain merged into the base weights with a fresh LoRA on top (``merge_init_adapter``),
    or the adapter itself kept trainable on its merged predecessors.
    """
    if not recipe.model.init_adapter:
        return model_path, lora_config(recipe)
    from peft import PeftModel

    from mcr.checkpoints import adapter_chain, load_checkpoint

    if recipe.model.merge_init_adapter:
        return load_checkpoint(
            recipe.model.init_adapter, model_path, **model_init_kwargs(recipe)
        ), lora_config(recipe)
    recorded_base, chain = adapter_chain(recipe.model.init_adapter)
    base = load_checkpoint(None, recorded_base or model_path, **model_init_kwargs(recipe))
    for adapter in chain[:-1]:
        base = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    return PeftModel.from_pretrained(base, chain[-1], is_trainable=True), None
