"""The parser, the format reward and the GMNER-F1 correctness reward."""

from __future__ import annotations

import json

import pytest

from mcr.contract.matching import iou
from mcr.contract.parse import parse_completion
from mcr.rewards import REGISTRY, get_reward_funcs

GOLD = json.dumps(
    [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [[10, 10, 50, 50], [100, 100, 140, 140]]},
        {"entity": "Oakland", "type": "LOC", "bbox": []},
    ]
)


def answer(items, think="Kevin Durant: PER, shown. Oakland: LOC, not shown."):
    return f"<think>{think}</think><answer>{json.dumps(items)}</answer>"


PERFECT = answer(
    [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [101, 99, 141, 140]},
        {"entity": "Oakland", "type": "LOC", "bbox": None},
    ]
)


def score(name, completion, gold=GOLD):
    return REGISTRY[name]([completion], gold=[gold])[0]


def test_perfect_completion():
    assert score("format", PERFECT) == 1.0
    assert score("gmner_f1", PERFECT) == 1.0


@pytest.mark.parametrize(
    "completion",
    [
        "no tags at all",
        "<think>x</think>",
        "<think>x</think><answer>[{'entity': 'a'}]</answer>",  # single quotes are not JSON
        '<think>x</think><answer>[{"entity": "a", "type": "PER", "bbox": null},]</answer>',  # trailing comma
        # a box given as a string
        '<think>x</think><answer>[{"entity": "a", "type": "PER", "bbox": "[1, 2, 3, 4]"}]</answer>',
        '<think>x</think><answer>[{"entity": "a", "type": "MISC", "bbox": null}]</answer>',  # unknown type
        '<think>x</think><answer>[{"entity": "a", "type": "PER", "bbox": [1, 2, 3]}]</answer>',
        '<think>x</think><answer>[{"entity": "a", "type": "PER", "bbox": [1, 2, 3, NaN]}]</answer>',
        '<think>x</think><answer>[{"entity": "a", "type": "PER", "bbox": [true, 2, 3, 4]}]</answer>',
    ],
)
def test_malformed_answers_score_zero(completion):
    assert score("format", completion) == 0.0
    assert score("gmner_f1", completion) == 0.0


def test_text_around_the_contract_is_read_but_not_well_formed():
    chatty = "Sure! " + PERFECT + " Hope this helps."
    assert score("format", chatty) == 0.0
    assert score("gmner_f1", chatty) == 1.0


def test_code_fence_inside_answer_is_tolerated():
    fenced = PERFECT.replace("<answer>", "<answer>```json\n").replace("</answer>", "\n```</answer>")
    assert parse_completion(fenced).well_formed and score("format", fenced) == 1.0


def test_last_complete_answer_is_read():
    twice = answer([]) + answer([{"entity": "Oakland", "type": "LOC", "bbox": None}])
    parsed = parse_completion(twice)
    assert [e.entity for e in parsed.entities] == ["Oakland"] and not parsed.well_formed
    unterminated = PERFECT + "<answer>[{"
    assert parse_completion(unterminated).entities == parse_completion(PERFECT).entities


def test_gmner_f1_partial_and_repeated_credit():
    wrong_box = answer(
        [
            {"entity": "Kevin Durant", "type": "PER", "bbox": [200, 200, 240, 240]},
            {"entity": "Oakland", "type": "LOC", "bbox": None},
        ]
    )
    assert score("gmner_f1", wrong_box) == pytest.approx(0.5)
    repeated = answer([{"entity": "Oakland", "type": "LOC", "bbox": None}] * 2)
    assert score("gmner_f1", repeated) == pytest.approx(2 * 0.5 * 0.5 / (0.5 + 0.5))  # P=1/2, R=1/2
    ungrounded = answer([{"entity": "Oakland", "type": "LOC", "bbox": [0, 0, 10, 10]}])
    assert score("gmner_f1", ungrounded) == 0.0
    assert score("gmner_f1", answer([]), gold="[]") == 1.0
    assert score("gmner_f1", answer([]), gold=GOLD) == 0.0


def test_iou_rule():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0
    assert iou((10, 0, 0, 10), (0, 0, 10, 10)) == 0.0  # x2 < x1: degenerate
    assert iou((0, 0, float("nan"), 10), (0, 0, 10, 10)) == 0.0


def test_conversational_completions_and_bound_knobs():
    funcs, weights = get_reward_funcs({"grounding": 2.0, "gmner_f1": 1.0}, iou_threshold=0.99)
    assert [f.__name__ for f in funcs] == ["grounding", "gmner_f1"] and weights == [2.0, 1.0]
    convo = [{"role": "assistant", "content": PERFECT}]
    # IoU of the predicted box is about 0.93: below σ = 0.99 bound from the recipe for grounding,
    # while gmner_f1 keeps the evaluation's fixed IoU > 0.5
    assert funcs[0]([convo], gold=[GOLD]) == [0.0]
    assert funcs[1]([convo], gold=[GOLD]) == [1.0]
    with pytest.raises(ValueError, match=r"unknown reward\(s\) \['nope'\]"):
        get_reward_funcs({"nope": 1.0})
