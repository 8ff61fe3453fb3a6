"""Recipes: names, dotted overrides, and errors that list the valid keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mcr.config import RecipeError, available_recipes, load_recipe

from tests_helpers import REPO


def test_shipped_recipes():
    assert {"tiny", "mcr_qwen", "mcr_mimo"} <= set(available_recipes())
    for name in ("accelerate/ddp", "accelerate/zero2", "accelerate/zero3"):
        assert (REPO / "recipes" / f"{name}.yaml").is_file()


def test_default_recipe_is_tiny():
    recipe = load_recipe([])
    assert recipe.name == "tiny" and recipe.model.build_tiny and recipe.data.synth.n > 0
    assert recipe.rewards.funcs["format"] == 1.0 and recipe.rewards.funcs["span"] == 1.0
    assert recipe.rewards.funcs["textual_shortcut"] < 0 and recipe.rewards.funcs["visual_shortcut"] < 0


def test_dotted_overrides_apply_with_types():
    recipe = load_recipe(
        [
            "recipe=tiny",
            "grpo.learning_rate=1e-6",
            "lora.r=8",
            "model.max_pixels=12544",
            "rewards.funcs.format=0.5",
            "data.max_train_samples=10",
        ]
    )
    assert recipe.grpo["learning_rate"] == 1e-6
    assert recipe.lora.r == 8 and isinstance(recipe.lora.r, int)
    assert recipe.model.max_pixels == 12544
    assert recipe.rewards.funcs["format"] == 0.5
    assert recipe.data.max_train_samples == 10


def test_unknown_key_lists_valid_keys_nearby():
    with pytest.raises(RecipeError) as info:
        load_recipe(["recipe=tiny", "lora.alpah=8"])
    message = str(info.value)
    assert "unknown key 'lora.alpah' in the command line" in message and "did you mean 'alpha'" in message
    assert "valid keys under 'lora': alpha, dropout, enabled, modules_to_save, r, target_modules" in message


def test_unknown_grpo_key_is_checked_against_trl():
    with pytest.raises(RecipeError, match=r"unknown key 'grpo.learnin_rate'.*did you mean 'learning_rate'"):
        load_recipe(["recipe=tiny", "grpo.learnin_rate=1e-6"])


def test_unknown_top_level_key():
    with pytest.raises(RecipeError, match=r"unknown key 'modle'.*did you mean 'model'"):
        load_recipe(["modle.dtype=bfloat16"])


def test_wrong_type_is_an_error():
    with pytest.raises(RecipeError, match=r"could not be converted to Integer\n    full_key: lora\.r"):
        load_recipe(["lora.r=many"])


def test_unknown_recipe_lists_available():
    with pytest.raises(RecipeError, match=r"unknown recipe 'nope'; available: \[.*'tiny'"):
        load_recipe(["recipe=nope"])


def test_argument_without_equals():
    with pytest.raises(RecipeError, match="expected key=value"):
        load_recipe(["tiny"])


@pytest.mark.parametrize("name", ["mcr_qwen", "mcr_mimo"])
def test_real_recipes_need_the_data_paths(name):
    with pytest.raises(
        RecipeError, match=r"data.images, data.root are required; pass data.images=... data.root=..."
    ):
        load_recipe([f"recipe={name}"])
    recipe = load_recipe([f"recipe={name}", "data.root=/d/Twitter10000_v2.0", "data.images=/d/images"])
    assert recipe.model.dtype == "bfloat16" and recipe.lora.enabled and not recipe.model.build_tiny
    assert recipe.grpo["bf16"] is True and recipe.grpo["num_generations"] == 8
    assert recipe.images_dir == "/d/images"


def test_recipe_from_a_path(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("seed: 7\nrewards:\n  funcs: {format: 1.0}\ngrpo:\n  max_steps: 3\n")
    recipe = load_recipe([f"recipe={path}"])
    assert recipe.name == "mine" and recipe.seed == 7 and recipe.grpo == {"max_steps": 3}
    assert recipe.rewards.funcs == {"format": 1.0}  # exactly the recipe's list, no defaults mixed in
    recipe = load_recipe([f"recipe={path}", "rewards.funcs.span=0.5"])
    assert recipe.rewards.funcs == {"format": 1.0, "span": 0.5}


def test_a_recipe_needs_rewards(tmp_path):
    path = tmp_path / "bare.yaml"
    path.write_text("seed: 7\n")
    with pytest.raises(RecipeError, match=r"rewards\.funcs names no reward"):
        load_recipe([f"recipe={path}"])


def test_entry_point_reports_recipe_errors_cleanly():
    proc = subprocess.run(
        [sys.executable, "train_grpo.py", "recipe=tiny", "grpo.nope=1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "error: unknown key 'grpo.nope'" in proc.stderr and "Traceback" not in proc.stderr


def test_yaml_words_keep_their_meaning_per_field():
    recipe = load_recipe(["grpo.save_strategy=no", "grpo.bf16=no", "grpo.use_cpu=on", "lora.enabled=off"])
    assert recipe.grpo["save_strategy"] == "no"
    assert recipe.grpo["bf16"] is False and recipe.grpo["use_cpu"] is True
    assert recipe.lora.enabled is False


def test_unquoted_no_in_a_recipe_file_is_explained(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("rewards:\n  funcs: {format: 1.0}\ngrpo:\n  save_strategy: no\n")
    with pytest.raises(RecipeError, match=r"grpo.save_strategy got the boolean False .*quote the word"):
        load_recipe([f"recipe={path}"])
