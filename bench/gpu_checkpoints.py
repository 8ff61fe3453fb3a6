"""The GPU bench's models: random weights in the published Qwen2.5-VL-7B and -3B shapes, saved
as a user's checkpoint is, and the tokens an image becomes under the recipe's resizing.

The config is built by the family's own builder (``mcr.families``, the one that builds the tiny
model), given the published sizes (``SHAPES``: each Qwen2.5-VL-*-Instruct ``config.json``). The
tokenizer is the tiny model's, its vocabulary filled to Qwen's 151,643 regular tokens so that the
special tokens sit at Qwen's ids and every sampled id decodes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcr.families import get_family

FAMILY = "qwen2_5_vl"
# the recipe the bench runs, with what a real run gives on the command line
RECIPE_ARGS = ["recipe=mcr_qwen", f"model.family={FAMILY}", "data.root=unused", "data.images=unused"]


@dataclass(frozen=True)
class Shape:
    """A Qwen2.5-VL's sizes as ``mcr.families.TinySizes`` (plus the ``SHAPE_DEFAULTS`` a published
    config sets), its vocabulary and its regular tokens."""

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
    rope_theta: float = 1_000_000.0  # the mrope sections follow from the head size: 16, 24, 24 of 64
    max_position_embeddings: int = 128_000
    rms_norm_eps: float = 1e-6
    tokens_per_second: int = 2
    regular_tokens: int = 151_643  # Qwen2's regular vocabulary; special tokens follow
    rotary_frequencies: tuple[float, ...] | None = None
    vision_full_attention: bool = False


SHAPES = {
    # Qwen/Qwen2.5-VL-7B-Instruct config.json
    "7b": Shape(3584, 18944, 28, 28, 4, 152_064, False, 28),
    # Qwen/Qwen2.5-VL-3B-Instruct config.json
    "3b": Shape(2048, 11008, 36, 16, 2, 151_936, True, 70),
    # the same bench on a CPU in seconds: every code path, tiny widths
    "tiny": Shape(
        64,
        128,
        2,
        4,
        2,
        2_048,
        True,
        2,
        vision_depth=2,
        vision_hidden_size=32,
        vision_intermediate_size=64,
        vision_heads=2,
        fullatt_block_indexes=(1,),
        rope_theta=10_000.0,
        max_position_embeddings=4_096,
        regular_tokens=2_034,
    ),
}


def qwen25vl_config(shape: Shape, tokenizer: Any):
    """The Qwen2.5-VL config of ``shape``, from the family's config builder, with the tokenizer's
    special-token ids."""
    from mcr.tiny_model import SPECIAL_TOKENS

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    return get_family(FAMILY).tiny_config(shape, ids, shape.vocab_size)


def build_checkpoint(shape: Shape, folder: Path, *, device: str, completion_length: int) -> dict:
    """Random weights in the recipe's dtype, made on ``device``, saved with the processor."""
    import torch
    from transformers import Qwen2_5_VLForConditionalGeneration

    from mcr.config import load_recipe
    from mcr.tiny_model import SPECIAL_TOKENS, TinySpec, build_processor, build_tokenizer, generation_config

    recipe = load_recipe(RECIPE_ARGS)
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


def visual_tokens(image_size: tuple[int, int]) -> int:
    """Tokens an image of ``image_size`` becomes under the recipe's resizing (28x28 pixels each)."""
    from mcr.config import load_recipe

    space = load_recipe(RECIPE_ARGS).image_space
    return space.visual_tokens(space.input_size(*image_size))
