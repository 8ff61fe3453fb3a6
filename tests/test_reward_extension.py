"""The README's example of adding a reward: register it, name it in a recipe, test it."""

from __future__ import annotations

from mcr.config import load_recipe
from mcr.contract.parse import completion_text
from mcr.rewards import REGISTRY, register, reward_set

if "brevity" not in REGISTRY:

    @register("brevity")
    def brevity(completions, **kwargs):
        """1.0 for answers of at most 400 characters, falling to 0.0 at 800."""
        return [min(1.0, max(0.0, (800 - len(completion_text(c))) / 400)) for c in completions]


def test_brevity():
    assert REGISTRY["brevity"](["x" * 100, "x" * 600, "x" * 1000]) == [1.0, 0.5, 0.0]


def test_a_recipe_names_the_new_reward():
    recipe = load_recipe(["recipe=tiny", "rewards.funcs.brevity=0.2"])
    funcs, weights = reward_set(recipe.rewards)
    assert funcs[-1].__name__ == "brevity" and weights[-1] == 0.2
    assert funcs[-1]([[{"role": "assistant", "content": "short"}]], gold=["[]"], text=[""]) == [1.0]


def test_the_rewards_folder_imported_by_its_path_says_to_use_mcr_rewards():
    """From the repository root ``import rewards`` would run the package a second time (and
    register every reward twice): it fails with an error that names the right import."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", "from rewards.gmner import assess"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "ImportError: the rewards package is mcr.rewards" in done.stderr
    ok = subprocess.run(
        [sys.executable, "-c", "from mcr.rewards.gmner import assess"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0, ok.stderr
