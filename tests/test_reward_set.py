"""A recipe's rewards as callables: parameters per reward, one function for training and
evaluation, and callables that pickle (TRL's asynchronous reward workers send them)."""

from __future__ import annotations

import json
import pickle

import pytest

from mcr.config import RecipeError, load_recipe
from mcr.rewards import REGISTRY, Reward, get_reward_funcs, reward_parameters, reward_set

GOLD = json.dumps([{"entity": "Kevin Durant", "type": "PER", "bbox": [[0, 0, 100, 100]]}])
# IoU with the gold box: 60 x 100 / (100 x 100) = 0.6
ANSWER = (
    "<think>Kevin Durant PER shown</think>"
    '<answer>[{"entity": "Kevin Durant", "type": "PER", "bbox": [0, 0, 60, 100]}]</answer>'
)


def test_parameters_are_what_a_reward_names():
    assert reward_parameters("grounding") == ["iou_threshold"]
    assert reward_parameters("span") == [] and reward_parameters("gmner_f1") == []


def test_sigma_and_per_reward_parameters():
    (lenient,), _ = get_reward_funcs({"grounding": 1.0}, iou_threshold=0.5)
    (strict,), _ = get_reward_funcs(
        {"grounding": 1.0}, iou_threshold=0.5, params={"grounding": {"iou_threshold": 0.7}}
    )
    assert lenient([ANSWER], gold=[GOLD]) == [1.0] and strict([ANSWER], gold=[GOLD]) == [0.0]
    # σ goes only to the rewards that take it
    funcs, weights = get_reward_funcs({"grounding": 2.0, "span": 1.0}, iou_threshold=0.9)
    assert [f.params for f in funcs] == [{"iou_threshold": 0.9}, {}] and weights == [2.0, 1.0]
    with pytest.raises(
        ValueError, match=r"reward 'span' takes no parameter 'iou_threshold'; its parameters: none"
    ):
        get_reward_funcs({"span": 1.0}, params={"span": {"iou_threshold": 0.7}})
    with pytest.raises(
        ValueError, match=r"rewards.params names \['count'\], which rewards.funcs does not use"
    ):
        get_reward_funcs({"span": 1.0}, params={"count": {}})


def test_a_recipe_sets_reward_parameters():
    recipe = load_recipe(["recipe=tiny", "rewards.params.grounding.iou_threshold=0.7"])
    funcs, _ = reward_set(recipe.rewards)
    grounding = funcs[list(recipe.rewards.funcs).index("grounding")]
    assert grounding.params == {"iou_threshold": 0.7} and grounding([ANSWER], gold=[GOLD]) == [0.0]
    with pytest.raises(RecipeError, match=r"unknown key 'rewards.param'.*did you mean 'params'"):
        load_recipe(["recipe=tiny", "rewards.param.grounding.iou_threshold=0.7"])


def test_every_reward_pickles_and_scores_the_same_after():
    recipe = load_recipe(["recipe=tiny", "rewards.params.grounding.iou_threshold=0.7"])
    funcs, _ = reward_set(recipe.rewards)
    funcs += [Reward(name) for name in REGISTRY if name not in recipe.rewards.funcs]
    columns = {"gold": [GOLD], "text": ["Kevin Durant"], "task": ["gmner"]}
    for fn in funcs:
        copy = pickle.loads(pickle.dumps(fn))
        assert copy.__name__ == fn.__name__ and copy.params == fn.params
        assert copy([ANSWER], **columns) == fn([ANSWER], **columns), fn.__name__


def test_training_and_evaluation_use_the_same_rewards(monkeypatch):
    """The evaluation computes rewards through reward_set, as train_grpo.py does."""
    import mcr.eval.scoring as scoring

    recipe = load_recipe(["recipe=tiny", "rewards.params.grounding.iou_threshold=0.7"])
    seen = []
    monkeypatch.setattr(scoring, "reward_set", lambda section: seen.append(section) or reward_set(section))
    rows = [{"id": "1", "prompt": [], "gold": GOLD, "text": "Kevin Durant", "task": "gmner"}]
    scores = scoring.reward_scores(recipe, [ANSWER], rows)
    assert seen == [recipe.rewards] and scores["grounding"] == [0.0] and scores["span"] == [1.0]
