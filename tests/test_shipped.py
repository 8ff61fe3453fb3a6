"""Models shipped with MCR: ``mcr:NAME`` resolves to ``assets/NAME``, and the shipped tiny base is
a small pretrained Qwen2.5-VL checkpoint whose card says how it was made."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import torch
from transformers import AutoModelForImageTextToText
from trl import SFTConfig

from mcr.config import RecipeError, load_recipe
from mcr.lengths import check_sft_lengths
from mcr.models import ensure_model, load_processor
from mcr.mrsi import prepare_mrsi
from mcr.pretrain.run import BASE_SPEC, ROTARY_FREQUENCIES
from mcr.shipped import resolve_model_path, shipped_model
from mcr.task_data import ensure_data, load_split


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


@pytest.mark.parametrize("name", ["tiny", "tiny_mate"])
def test_the_tiny_recipes_sft_data_fits_their_max_length(name, tmp_path):
    """The recipes' own data, tokenized by the shipped base, within sft.max_length (TRL's 1,024
    when the recipe sets none): the SFT stage refuses longer examples before training."""
    recipe = load_recipe(
        [f"recipe={name}", f"data.root={tmp_path / 'data'}", f"mrsi.output_dir={tmp_path / 'mrsi'}"]
    )
    ensure_data(recipe)
    d1 = prepare_mrsi(recipe, load_split(recipe, recipe.data.train_split))["sft"]
    processor = load_processor(
        ensure_model(recipe), min_pixels=recipe.model.min_pixels, max_pixels=recipe.model.max_pixels
    )
    trl_default = SFTConfig.__dataclass_fields__["max_length"].default
    args = SimpleNamespace(max_length=recipe.sft.get("max_length", trl_default))  # what the check reads
    assert len(d1) == round(recipe.data.synth.n * recipe.data.synth.splits[0] * recipe.mrsi.sft_fraction)
    check_sft_lengths(processor, d1, args, recipe)
