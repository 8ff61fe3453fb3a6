"""The model families MCR trains, each declared once, with its box convention.

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
"""

from __future__ import annotations

from dataclasses import dataclass

PIXELS = "pixels"  # absolute pixels of the resized image
NORM_1000 = "norm1000"  # 0-1000 of the image's width and height
BOX_CONVENTIONS = (PIXELS, NORM_1000)
IMAGE_PLACEHOLDER = "<|vision_start|><|image_pad|><|vision_end|>"

# LoRA targets, as PEFT full-match regexes over module names
_LM_ATTENTION = r"self_attn\.(q_proj|k_proj|v_proj|o_proj)"
_LM_MLP = r"mlp\.(gate_proj|up_proj|down_proj)"
_LM = rf".*language_model\.layers\.\d+\.({_LM_ATTENTION}|{_LM_MLP})"
# Qwen3.5's linear-attention layers; in_proj_a/b (one value per head) and the conv stay frozen
_LINEAR_ATTENTION = r"linear_attn\.(in_proj_qkv|in_proj_z|out_proj)"
_LM_LINEAR = rf".*language_model\.layers\.\d+\.({_LM_ATTENTION}|{_LINEAR_ATTENTION}|{_LM_MLP})"


@dataclass(frozen=True)
class Family:
    name: str
    model_types: tuple[str, ...]  # config.json's model_type
    model_class: str  # in transformers
    processor_class: str
    tokenizer_class: str
    resize_factor: int  # image sides are multiples of this (patch size x spatial merge)
    box_convention: str
    lora_language: str  # regex of the language model's projections
    lora_vision: str  # regex of the vision tower's (and its merger's) projections
    image_placeholder: str = IMAGE_PLACEHOLDER

    @property
    def patch_size(self) -> int:
        return self.resize_factor // 2


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "qwen2_vl",
            ("qwen2_vl",),
            "Qwen2VLForConditionalGeneration",
            "Qwen2VLProcessor",
            "Qwen2Tokenizer",
            28,
            NORM_1000,
            _LM,
            r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(fc1|fc2))|merger\.mlp\.(0|2))",
        ),
        Family(
            "qwen2_5_vl",
            ("qwen2_5_vl",),
            "Qwen2_5_VLForConditionalGeneration",
            "Qwen2_5_VLProcessor",
            "Qwen2Tokenizer",
            28,
            PIXELS,
            _LM,
            r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(gate_proj|up_proj|down_proj))|merger\.mlp\.(0|2))",
        ),
        Family(
            "qwen3_vl",
            ("qwen3_vl",),
            "Qwen3VLForConditionalGeneration",
            "Qwen3VLProcessor",
            "Qwen2Tokenizer",
            32,
            NORM_1000,
            _LM,
            r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(linear_fc1|linear_fc2))"
            r"|merger\.(linear_fc1|linear_fc2)|deepstack_merger_list\.\d+\.(linear_fc1|linear_fc2))",
        ),
        Family(
            "qwen3_5",
            ("qwen3_5",),
            "Qwen3_5ForConditionalGeneration",
            "Qwen3VLProcessor",
            "Qwen3_5Tokenizer",
            32,
            NORM_1000,
            _LM_LINEAR,
            r".*visual\.(blocks\.\d+\.(attn\.(qkv|proj)|mlp\.(linear_fc1|linear_fc2))|merger\.(linear_fc1|linear_fc2))",
        ),
    )
}
ALIASES = {"mimo_vl": "qwen2_5_vl"}  # MiMo-VL is a Qwen2.5-VL checkpoint (model_type qwen2_5_vl)


def get_family(name: str) -> Family:
    key = ALIASES.get(name, name)
    if key not in FAMILIES:
        raise ValueError(f"unknown model family {name!r}; known: {sorted(FAMILIES) + sorted(ALIASES)}")
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
