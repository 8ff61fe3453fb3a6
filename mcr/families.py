"""The model families MCR trains, each declared once: as data (classes, resize factor, box
convention, LoRA targets) plus two hooks (how its images are resized, how its tiny config is
built). Nothing outside this module branches on a family's name.

The families disagree on what a box means. Qwen2.5-VL, and MiMo-VL built on it, write absolute
pixels of the image as the model sees it after resizing; Qwen2-VL and Qwen3-VL write
coordinates normalised to 0-1000 of the image's width and height. Gold boxes, the prompt's
wording, the MRSI reasoning and the scorers' rescaling all follow the family through
``mcr.image_space.ImageSpace``; nothing else needs to know families exist.

Sources of each convention:

* Qwen2.5-VL: "absolute coordinates for the resized image" (QwenLM/Qwen3-VL,
  ``qwen-vl-finetune/tools/process_bbox.ipynb``; the Qwen2.5-VL README);
* MiMo-VL: its grounding example rescales boxes from the resized image (``examples/
  grounding.ipynb``);
* Qwen2-VL: "relative coordinates with range 0-1000" (the same notebook);
* Qwen3-VL: "changed from the absolute coordinates used in Qwen2.5-VL to relative coordinates
  ranging from 0 to 1000" (QwenLM/Qwen3-VL ``cookbooks/2d_grounding.ipynb``);
* Qwen3.5: not documented by its model or processor code. It reuses Qwen3-VL's processor and
  vision encoder, and Qwen's maintainers answer that its coordinates are relative, 0-1000; that
  is the default here, and ``model.box_convention`` overrides it.

The tiny-config hooks live here, beside the rest of each family, so that adding a family is one
declaration in one file; they import transformers only when called. A family of your own is
declared the same way in your own module, which calls ``register_family``; a recipe names that
module in ``families.modules`` (``mcr build-tiny --family-module``), then the family in
``model.family``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol

from mcr.user_modules import import_user_module

PIXELS = "pixels"  # absolute pixels of the resized image
NORM_1000 = "norm1000"  # 0-1000 of the image's width and height
BOX_CONVENTIONS = (PIXELS, NORM_1000)

# LoRA targets, as PEFT full-match regexes over module names
_LM_ATTENTION = r"self_attn\.(q_proj|k_proj|v_proj|o_proj)"
_LM_MLP = r"mlp\.(gate_proj|up_proj|down_proj)"
_LM = rf".*language_model\.layers\.\d+\.({_LM_ATTENTION}|{_LM_MLP})"
# Qwen3.5's linear-attention layers; in_proj_a/b (one value per head) and the conv stay frozen
_LINEAR_ATTENTION = r"linear_attn\.(in_proj_qkv|in_proj_z|out_proj)"
_LM_LINEAR = rf".*language_model\.layers\.\d+\.({_LM_ATTENTION}|{_LINEAR_ATTENTION}|{_LM_MLP})"

# (height, width, min_pixels, max_pixels) -> (height, width) of the image the model sees
Resize = Callable[[int, int, int, int], tuple[int, int]]


@dataclass(frozen=True)
class SmartResize:
    """qwen-vl-utils ``smart_resize`` at one factor: both sides multiples of ``factor``, the area
    within ``[min_pixels, max_pixels]``. A value (equal for equal factors), called as a
    ``Resize``."""

    factor: int

    def __call__(self, height: int, width: int, min_pixels: int, max_pixels: int) -> tuple[int, int]:
        from qwen_vl_utils import smart_resize  # imports torch and torchvision: only when resizing

        return smart_resize(height, width, self.factor, min_pixels=min_pixels, max_pixels=max_pixels)


class TinySizes(Protocol):
    """The sizes a config is built from: a tiny model's (``mcr.tiny_model.TinySpec``), or a published
    model's (``bench/gpu_checkpoints.py``'s Qwen2.5-VL-7B and -3B), which also carries the
    attributes of ``SHAPE_DEFAULTS`` where its config differs from the tiny one."""

    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vision_depth: int
    vision_hidden_size: int
    vision_intermediate_size: int
    vision_heads: int
    rope_theta: float
    rotary_frequencies: tuple[float, ...] | None
    vision_full_attention: bool


# What a config takes beyond ``TinySizes``: sizes without one of these attributes (a ``TinySpec``)
# get its value here, the tiny model's (None: transformers' default is left).
SHAPE_DEFAULTS: dict[str, Any] = {
    "tie_word_embeddings": True,
    "max_position_embeddings": 4096,
    "max_window_layers": None,
    "rms_norm_eps": None,
    # Qwen2.5-VL's vision blocks attending to the whole image; None: the last one (every one with
    # ``vision_full_attention``)
    "fullatt_block_indexes": None,
    "tokens_per_second": None,  # Qwen2.5-VL: video frames' temporal positions
}


def _shape(sizes: TinySizes, key: str) -> Any:
    """One of ``SHAPE_DEFAULTS`` for these sizes: theirs if they carry it, else the tiny model's."""
    return getattr(sizes, key, SHAPE_DEFAULTS[key])


def _given(sizes: TinySizes, *keys: str) -> dict[str, Any]:
    """The ``SHAPE_DEFAULTS`` among ``keys`` that these sizes set (the others keep transformers' defaults)."""
    return {key: _shape(sizes, key) for key in keys if _shape(sizes, key) is not None}


# (family, sizes, special-token ids by token, tokenizer length) -> the transformers config
TinyConfigBuilder = Callable[["Family", TinySizes, Mapping[str, int], int], Any]


@dataclass(frozen=True)
class Family:
    name: str
    model_types: tuple[str, ...]  # config.json's model_type
    # classes in transformers
    model_class: str
    config_class: str
    processor_class: str
    tokenizer_class: str
    image_processor_class: str
    video_processor_class: str
    resize_factor: int  # image sides are multiples of this (patch size x spatial merge)
    box_convention: str
    lora_language: str  # regex of the language model's projections
    lora_vision: str  # regex of the vision tower's (and its merger's) projections
    tiny_config_builder: TinyConfigBuilder  # the tiny model's config (mcr.tiny_model)
    # how the family resizes images; left out, smart_resize at ``resize_factor`` (set on creation)
    resize: Resize | None = None

    def __post_init__(self) -> None:
        if self.resize is None:
            object.__setattr__(self, "resize", SmartResize(self.resize_factor))

    @property
    def patch_size(self) -> int:
        return self.resize_factor // 2

    def tiny_config(self, sizes: TinySizes, ids: Mapping[str, int], vocab_size: int):
        """A small config of this family: ``sizes`` (a ``TinySpec``), the special tokens' ids
        (``mcr.tiny_model.SPECIAL_TOKENS``) and the tokenizer's length."""
        return self.tiny_config_builder(self, sizes, ids, vocab_size)


# ---------------------------------------------------------------------------------------------
# Tiny configs: what the families share, then each family's own
# ---------------------------------------------------------------------------------------------
def _mrope(half: int, interleaved: bool) -> list[int]:
    """(temporal, height, width) rotary sections summing to ``half``: Qwen2.5-VL's 16/24/24 and
    Qwen3-VL's 24/20/20 proportions of 64."""
    if interleaved:
        height = half * 20 // 64
        return [half - 2 * height, height, height]
    height = half * 3 // 8
    return [half - 2 * height, height, height]


def _per_pair_rope(frequencies: tuple[float, ...], theta: float, head_dim: int) -> dict:
    """``longrope`` parameters whose inverse frequencies are exactly ``frequencies``: transformers
    computes pair i's as 1 / (factor_i * theta ** (2 i / head_dim)); with the original context
    equal to the model's, the attention scale stays 1 and the long factors are never used."""
    if len(frequencies) != head_dim // 2:
        raise ValueError(
            f"rotary_frequencies has {len(frequencies)} values; a head of {head_dim} needs {head_dim // 2}"
        )
    factors = [1.0 / (f * theta ** (2 * i / head_dim)) for i, f in enumerate(frequencies)]
    return {
        "rope_type": "longrope",
        "short_factor": factors,
        "long_factor": factors,
        "factor": 1.0,
        "original_max_position_embeddings": 4096,
    }


def _head_dim(sizes: TinySizes) -> int:
    return sizes.hidden_size // sizes.num_attention_heads


def _rope(sizes: TinySizes) -> dict:
    """RoPE at ``rope_theta``, or per-pair frequencies; each family adds its mrope sections."""
    rope = {"rope_type": "default", "rope_theta": sizes.rope_theta}
    if sizes.rotary_frequencies is not None:
        rope.update(_per_pair_rope(sizes.rotary_frequencies, sizes.rope_theta, _head_dim(sizes)))
    return rope


def _text(sizes: TinySizes, ids: Mapping[str, int], vocab_size: int, rope: dict) -> dict:
    return {
        "vocab_size": vocab_size,
        "hidden_size": sizes.hidden_size,
        "intermediate_size": sizes.intermediate_size,
        "num_hidden_layers": sizes.num_hidden_layers,
        "num_attention_heads": sizes.num_attention_heads,
        "num_key_value_heads": sizes.num_key_value_heads,
        "max_position_embeddings": _shape(sizes, "max_position_embeddings"),
        "rope_parameters": rope,
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "tie_word_embeddings": _shape(sizes, "tie_word_embeddings"),
        **_given(sizes, "max_window_layers", "rms_norm_eps"),
    }


def _vision(family: Family, sizes: TinySizes) -> dict:
    return {
        "depth": sizes.vision_depth,
        "num_heads": sizes.vision_heads,
        "spatial_merge_size": 2,
        "patch_size": family.patch_size,
        "temporal_patch_size": 2,
    }


def _config(family: Family, text: dict, vision: dict, ids: Mapping[str, int]):
    import transformers

    return getattr(transformers, family.config_class)(
        text_config=text,
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=text["tie_word_embeddings"],
    )


def _qwen2_rope(sizes: TinySizes) -> dict:
    """Qwen2-VL's and Qwen2.5-VL's: mrope sections (temporal, height, width) in blocks, summing to
    the rotary half-dimension."""
    return {**_rope(sizes), "mrope_section": _mrope(_head_dim(sizes) // 2, False)}


def _qwen2_vl_tiny_config(family: Family, sizes: TinySizes, ids: Mapping[str, int], vocab_size: int):
    vision = {
        **_vision(family, sizes),
        "embed_dim": sizes.vision_hidden_size,
        "hidden_size": sizes.hidden_size,
        "mlp_ratio": 2,
    }
    return _config(family, _text(sizes, ids, vocab_size, _qwen2_rope(sizes)), vision, ids)


def _qwen2_5_vl_tiny_config(family: Family, sizes: TinySizes, ids: Mapping[str, int], vocab_size: int):
    vision = {
        **_vision(family, sizes),
        "hidden_size": sizes.vision_hidden_size,
        "intermediate_size": sizes.vision_intermediate_size,
        "out_hidden_size": sizes.hidden_size,
        "window_size": 112,
        "fullatt_block_indexes": list(_shape(sizes, "fullatt_block_indexes") or ())
        or (list(range(sizes.vision_depth)) if sizes.vision_full_attention else [sizes.vision_depth - 1]),
        **_given(sizes, "tokens_per_second"),
    }
    return _config(family, _text(sizes, ids, vocab_size, _qwen2_rope(sizes)), vision, ids)


def _qwen3_text(sizes: TinySizes, ids: Mapping[str, int], vocab_size: int, rope: dict) -> dict:
    return {**_text(sizes, ids, vocab_size, rope), "head_dim": _head_dim(sizes)}


def _qwen3_vision(family: Family, sizes: TinySizes) -> dict:
    return {
        **_vision(family, sizes),
        "hidden_size": sizes.vision_hidden_size,
        "intermediate_size": sizes.vision_intermediate_size,
        "out_hidden_size": sizes.hidden_size,
        "num_position_embeddings": 64,  # an 8x8 grid of learned positions, interpolated
    }


def _qwen3_vl_tiny_config(family: Family, sizes: TinySizes, ids: Mapping[str, int], vocab_size: int):
    rope = {**_rope(sizes), "mrope_section": _mrope(_head_dim(sizes) // 2, True), "mrope_interleaved": True}
    vision = {**_qwen3_vision(family, sizes), "deepstack_visual_indexes": [0]}
    return _config(family, _qwen3_text(sizes, ids, vocab_size, rope), vision, ids)


def _qwen3_5_tiny_config(family: Family, sizes: TinySizes, ids: Mapping[str, int], vocab_size: int):
    head_dim = _head_dim(sizes)
    rope = {  # rotary on a quarter of each head, as Qwen3.5 does
        **_rope(sizes),
        "partial_rotary_factor": 0.25,
        "mrope_section": _mrope(head_dim // 8, True),
        "mrope_interleaved": True,
    }
    text = {  # linear attention (Gated DeltaNet) with a full-attention layer every other
        **_qwen3_text(sizes, ids, vocab_size, rope),
        "linear_conv_kernel_dim": 4,
        "linear_key_head_dim": head_dim // 2,
        "linear_value_head_dim": head_dim // 2,
        "linear_num_key_heads": sizes.num_key_value_heads,
        "linear_num_value_heads": sizes.num_attention_heads,
        "layer_types": ["linear_attention", "full_attention"] * (sizes.num_hidden_layers // 2)
        + ["full_attention"] * (sizes.num_hidden_layers % 2),
    }
    return _config(family, text, _qwen3_vision(family, sizes), ids)


# ---------------------------------------------------------------------------------------------
# The families
# ---------------------------------------------------------------------------------------------
FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="qwen2_vl",
            model_types=("qwen2_vl",),
            model_class="Qwen2VLForConditionalGeneration",
            config_class="Qwen2VLConfig",
            processor_class="Qwen2VLProcessor",
            tokenizer_class="Qwen2Tokenizer",
            image_processor_class="Qwen2VLImageProcessor",
            video_processor_class="Qwen2VLVideoProcessor",
            resize_factor=28,
            box_convention=NORM_1000,
            lora_language=_LM,
            lora_vision=r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))|merger\.mlp\.(0|2))",
            tiny_config_builder=_qwen2_vl_tiny_config,
        ),
        Family(
            name="qwen2_5_vl",
            model_types=("qwen2_5_vl",),
            model_class="Qwen2_5_VLForConditionalGeneration",
            config_class="Qwen2_5_VLConfig",
            processor_class="Qwen2_5_VLProcessor",
            tokenizer_class="Qwen2Tokenizer",
            image_processor_class="Qwen2VLImageProcessor",
            video_processor_class="Qwen2VLVideoProcessor",
            resize_factor=28,
            box_convention=PIXELS,
            lora_language=_LM,
            lora_vision=r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(gate_proj|up_proj|down_proj))"
            r"|merger\.mlp\.(0|2))",
            tiny_config_builder=_qwen2_5_vl_tiny_config,
        ),
        Family(
            name="qwen3_vl",
            model_types=("qwen3_vl",),
            model_class="Qwen3VLForConditionalGeneration",
            config_class="Qwen3VLConfig",
            processor_class="Qwen3VLProcessor",
            tokenizer_class="Qwen2Tokenizer",
            image_processor_class="Qwen2VLImageProcessor",
            video_processor_class="Qwen3VLVideoProcessor",
            resize_factor=32,
            box_convention=NORM_1000,
            lora_language=_LM,
            lora_vision=r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(linear_fc1|linear_fc2))"
            r"|merger\.(linear_fc1|linear_fc2)|deepstack_merger_list\.\d+\.(linear_fc1|linear_fc2))",
            tiny_config_builder=_qwen3_vl_tiny_config,
        ),
        Family(
            name="qwen3_5",
            model_types=("qwen3_5",),
            model_class="Qwen3_5ForConditionalGeneration",
            config_class="Qwen3_5Config",
            processor_class="Qwen3VLProcessor",
            tokenizer_class="Qwen3_5Tokenizer",
            image_processor_class="Qwen2VLImageProcessor",
            video_processor_class="Qwen3VLVideoProcessor",
            resize_factor=32,
            box_convention=NORM_1000,
            lora_language=_LM_LINEAR,
            lora_vision=r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(linear_fc1|linear_fc2))"
            r"|merger\.(linear_fc1|linear_fc2))",
            tiny_config_builder=_qwen3_5_tiny_config,
        ),
    )
}
ALIASES = {"mimo_vl": "qwen2_5_vl"}  # MiMo-VL is a Qwen2.5-VL checkpoint (model_type qwen2_5_vl)


_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_family(family: Family) -> Family:
    """Add a family of your own to ``FAMILIES``, under its name, for ``model.family`` and
    ``mcr build-tiny --family``; its module is named in a recipe's ``families.modules``.

    Registering the same object again is a no-op; another family under a name taken (by a family
    or an alias) is an error. A family may share a ``model_type`` with a built-in one (a variant
    on the same transformers classes): ``model.family: auto`` reads the built-in, so a recipe names
    the variant."""
    if not isinstance(family, Family):
        raise TypeError(f"register_family takes a mcr.families.Family, not {type(family).__name__}")
    if not _NAME.fullmatch(family.name):
        raise ValueError(
            f"a model family's name is lower case letters, digits and underscores, not {family.name!r}"
        )
    if family.box_convention not in BOX_CONVENTIONS:
        raise ValueError(
            f"model family {family.name!r}: box_convention must be one of {list(BOX_CONVENTIONS)}, "
            f"not {family.box_convention!r}"
        )
    known = FAMILIES.get(family.name)
    if known is family:
        return family
    if known is not None or family.name in ALIASES:
        taken = "an alias of " + repr(ALIASES[family.name]) if known is None else "another family's name"
        raise ValueError(
            f"model family {family.name!r} is already registered ({taken}): choose another name (or, "
            "for the same module, name it one way only: by its file or by its dotted name)"
        )
    FAMILIES[family.name] = family
    return family


def load_family_modules(entries: Iterable[str], setting: str = "families.modules") -> list[ModuleType]:
    """Import every entry (a dotted module or a ``.py`` file, each once), registering the families
    it declares; ``setting`` names where the entries come from, for errors."""
    return [import_user_module(entry, setting) for entry in entries]


def family_names() -> list[str]:
    """Every name ``get_family`` accepts: the families, then their aliases."""
    return sorted(FAMILIES) + sorted(ALIASES)


def get_family(name: str) -> Family:
    key = ALIASES.get(name, name)
    if key not in FAMILIES:
        raise ValueError(f"unknown model family {name!r}; known: {family_names()}")
    return FAMILIES[key]


def family_of_model_type(model_type: str) -> Family:
    """The family of a checkpoint, from its config.json ``model_type``."""
    for family in FAMILIES.values():
        if model_type in family.model_types:
            return family
    raise ValueError(
        f"model_type {model_type!r} is not a family MCR knows ({sorted(FAMILIES)}); set model.family"
    )


def box_wording(convention: str) -> str:
    """How a prompt states the box format, in the convention's terms."""
    if convention == PIXELS:
        return "[x1, y1, x2, y2] in the image's pixels"
    if convention == NORM_1000:
        return "[x1, y1, x2, y2] as coordinates from 0 to 1000 of the image's width and height"
    raise ValueError(f"unknown box convention {convention!r}; expected one of {BOX_CONVENTIONS}")
