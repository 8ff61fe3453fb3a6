"""Models shipped with MCR: ``mcr:NAME`` resolves to ``assets/NAME``, and the shipped tiny base is
a small pretrained Qwen2.5-VL checkpoint whose card says how it was made."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import AutoModelForImageTextToText

from mcr.config import RecipeError, load_recipe
from mcr.pretrain.run import BASE_SPEC, ROTARY_FREQUENCIES
from mcr.shipped import resolve_model_path, shipped_model


def test_recipes_name_shipped_models_and_other_paths_pass_through(tmp_path):
    base = shipped_model("tiny-base")
    assert resolve_model_path("mcr:tiny-base") == str(base)
    assert resolve_model_path("Qwen/Qwen2.5-VL-7B-Instruct") == "Qwen/Qwen2.5-VL-7B-Instruct"
    assert load_recipe(["recipe=tiny"]).model.name_or_path == str(base)
    with pytest.raises(RecipeError, match=r"no shipped model mcr:tiny-bsae .*shipped: \['tiny-base'\]"):
        load_recipe(["recipe=tiny", "model.name_or_path=mcr:tiny-bsae"])


def test_the_tiny_base_is_small_pretrained_and_documented():
    base = shipped_model("tiny-base")
    assert sum(f.stat().st_size for f in base.iterdir()) <= 30 * 2**20
    model = AutoModelForImageTextToText.from_pretrained(base)
    assert model.config.model_type == "qwen2_5_vl"
    assert torch.allclose(model.model.language_model.rotary_emb.inv_freq, torch.tensor(ROTARY_FREQUENCIES))
    assert model.config.vision_config.depth == BASE_SPEC.vision_depth
    card = json.loads((base / "model_card.json").read_text())
    assert card["command"].startswith("mcr pretrain-tiny") and card["seconds"] > 0
    final = list(card["stages"].values())[-1]["probes"]
    assert all(final[skill] > card["untrained"][skill] for skill in ("copy", "colour_shape", "box_iou50"))
    assert "## Skill probes" in (base / "README.md").read_text()
