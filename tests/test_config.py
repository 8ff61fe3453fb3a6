"""Recipes: names, dotted overrides, and errors that list the valid keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mcr.config import RecipeError, available_recipes, load_recipe

from helpers.runs import REPO


def test_shipped_recipes():
    assert {"tiny", "mcr_qwen", "mcr_mimo"} <= set(available_recipes())
    for name in ("accelerate/ddp", "accelerate/zero2", "accelerate/zero3"):
        assert (REPO / "recipes" / f"{name}.yaml").is_file()


def test_default_recipe_is_tiny():
    recipe = load_recipe([])
    assert recipe.name == "tiny" and not recipe.model.build_tiny and recipe.data.synth.n > 0
    assert recipe.model.name_or_path.endswith("tiny-base")  # mcr:tiny-base, the shipped base
    # at least 300 held-out posts, and each data seed its own folder
    assert round(recipe.data.synth.n * recipe.data.synth.splits[2]) >= 300
    assert load_recipe(["data.synth.seed=2"]).data.images == "outputs/data/tiny-gmner-grid-2/images"
    scratch = load_recipe(["recipe=tiny_scratch"])
    assert scratch.model.build_tiny and scratch.model.name_or_path == "outputs/tiny-qwen2.5-vl"
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


def test_a_recipe_extends_another(tmp_path):
    """mcr_mimo is mcr_qwen with its own model, outputs and lengths; a chain resolves in order."""
    qwen = load_recipe(["recipe=mcr_qwen", "data.root=/d", "data.images=/i"])
    mimo = load_recipe(["recipe=mcr_mimo", "data.root=/d", "data.images=/i"])
    assert (mimo.name, mimo.base, mimo.model.name_or_path) == (
        "mcr_mimo",
        "mcr_qwen",
        "XiaomiMiMo/MiMo-VL-7B-RL",
    )
    assert mimo.grpo["max_completion_length"] == 1024 and mimo.eval.max_new_tokens == 1536
    assert mimo.grpo["output_dir"] == "outputs/mcr_mimo-grpo" and mimo.sft["run_name"] == "mcr_mimo-sft"
    different = {"name", "base", "model", "grpo", "sft", "eval"}
    assert {k: v for k, v in vars(mimo).items() if k not in different} == {
        k: v for k, v in vars(qwen).items() if k not in different
    }
    assert (
        mimo.model.dtype == qwen.model.dtype and mimo.grpo["num_generations"] == qwen.grpo["num_generations"]
    )
    # a recipe file of one's own on top of a shipped one, and on top of that one
    (tmp_path / "mine.yaml").write_text("base: tiny\nlora:\n  r: 8\n")
    (tmp_path / "mine2.yaml").write_text(f"base: {tmp_path / 'mine.yaml'}\nseed: 3\n")
    mine = load_recipe([f"recipe={tmp_path / 'mine2.yaml'}"])
    tiny = load_recipe(["recipe=tiny"])
    assert (mine.name, mine.seed, mine.lora.r, mine.rewards) == ("mine2", 3, 8, tiny.rewards)
    (tmp_path / "loop.yaml").write_text(f"base: {tmp_path / 'loop.yaml'}\n")
    with pytest.raises(RecipeError, match=r"recipes extend each other in a cycle"):
        load_recipe([f"recipe={tmp_path / 'loop.yaml'}"])
    (tmp_path / "typo.yaml").write_text("base: tiny\nloar:\n  r: 8\n")
    with pytest.raises(RecipeError, match=r"unknown key 'loar' in .*typo\.yaml.*did you mean 'lora'"):
        load_recipe([f"recipe={tmp_path / 'typo.yaml'}"])


def test_the_data_layout_follows_the_task():
    with pytest.raises(RecipeError, match=r"unknown key 'data.format'"):
        load_recipe(["recipe=tiny", "data.format=twitter-gmner"])
    from mcr.benchmarks import get_task

    with pytest.raises(
        ValueError, match=r"task 'mmra' is evaluated only; a recipe trains on one of \['gmner', 'mate'\]"
    ):
        get_task("mmra")


@pytest.mark.parametrize(
    "command",
    [
        ["-m", "mcr.cli", "recipe", "--help"],
        ["-m", "mcr.cli", "recipe", "recipe=mcr_qwen", "--help"],
        ["train_grpo.py", "--help"],
        ["train_sft.py", "--help"],
        ["eval/evaluate.py", "--help"],
        ["-m", "mcr.cli", "sft", "recipe=mcr_qwen", "--help"],  # the stages, from an install
        ["-m", "mcr.cli", "evaluate", "--help"],
        ["-m", "mcr.pipeline", "--help"],
    ],
)
def test_help_prints_every_section_with_its_help_text(command):
    proc = subprocess.run([sys.executable, *command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for key, help_text in [
        ("model.max_pixels", "Largest image area after resizing"),
        ("data.synth.n", "Examples to synthesize into data.root"),
        ("rewards.params", "Parameters of one reward"),
        ("mrsi.sft_fraction", "Share of the training split that goes to D1"),
        ("eval.checkpoints", "Checkpoints to evaluate"),
        ("grpo", "Any field of trl.GRPOConfig"),
        ("base", "A recipe this one extends"),
        ("families.modules", "Model-family modules of your own"),
    ]:
        assert f"  {key} = " in out and help_text in out, key
    if "recipe=mcr_qwen" in command:  # the recipe's own values beside the keys
        assert "model.name_or_path = 'Qwen/Qwen2.5-VL-7B-Instruct'" in out and "learning_rate" in out


def test_a_recipe_cannot_train_with_another_tasks_rewards():
    assert load_recipe(["recipe=tiny_mate"]).rewards.funcs.keys() <= {"format", "mate"}
    with pytest.raises(
        RecipeError, match=r"reward\(s\) \['span'\] score gmner rows only, none of the mate task's"
    ):
        load_recipe(["recipe=tiny_mate", "rewards.funcs.span=1.0"])
    with pytest.raises(RecipeError, match=r"reward\(s\) \['mate'\] score mate rows only"):
        load_recipe(["recipe=tiny", "rewards.funcs.mate=1.0"])
    with pytest.raises(
        RecipeError, match=r"task 'mmra' is not a training task; expected one of \['gmner', 'mate'\]"
    ):
        load_recipe(["recipe=tiny", "task=mmra"])


def test_synthetic_splits_must_be_three_shares_summing_to_one():
    with pytest.raises(RecipeError, match=r"data.synth.splits must be three shares .* not \[0.5, 0.5\]"):
        load_recipe(["data.synth.splits=[0.5,0.5]"])
    with pytest.raises(
        RecipeError, match=r"data.synth.colour_look_alikes is a chance, between 0 and 1, not 1\.5"
    ):
        load_recipe(["data.synth.colour_look_alikes=1.5"])
