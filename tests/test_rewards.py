"""The CVO reward set: invariants of each constraint reward and of the shortcut penalties."""

from __future__ import annotations

import json
from typing import ClassVar

import pytest

from mcr.benchmarks.mate.scorer import answer_objects, extract_answer
from mcr.contract.parse import parse_completion
from mcr.rewards import REGISTRY, clear_caches
from mcr.rewards.consistency import consistency_score

TEXT = "RT @nba : Kevin Durant wearing red met Oakland under blue lights and the Warriors"
GOLD_ITEMS = [
    {"entity": "Kevin Durant", "type": "PER", "bbox": [[10, 10, 50, 50], [100, 100, 140, 140]]},
    {"entity": "Oakland", "type": "LOC", "bbox": []},
    {"entity": "Warriors", "type": "ORG", "bbox": [[60, 0, 90, 30]]},
]
GOLD = json.dumps(GOLD_ITEMS)
CONTENT = ["count", "span", "type", "entailment", "grounding", "consistency", "gmner_f1"]
PENALTIES = ["textual_shortcut", "visual_shortcut"]


def reasoning(items) -> str:
    lines = []
    for item in items:
        shown = "shown" if item["bbox"] is not None else "not shown"
        lines.append(f"{item['entity']}: type {item['type']}, {shown}.")
    return "\n".join(lines)


def render(items, think=None) -> str:
    think = reasoning(items) if think is None else think
    return f"<think>\n{think}\n</think>\n<answer>{json.dumps(items)}</answer>"


def render_gold(gold_items, which=0) -> str:
    """The completion that states the gold exactly (box: the ``which``-th gold box)."""
    return render(
        [
            {
                "entity": g["entity"],
                "type": g["type"],
                "bbox": g["bbox"][min(which, len(g["bbox"]) - 1)] if g["bbox"] else None,
            }
            for g in gold_items
        ]
    )


GMNER_REWARDS = ["format", *CONTENT, *PENALTIES]


def scores(completion, gold=GOLD, text=TEXT, **knobs):
    """Every GMNER reward's value for one completion (not the whole registry: other tests register more)."""
    return {
        name: REGISTRY[name]([completion], gold=[gold], text=[text], **knobs)[0] for name in GMNER_REWARDS
    }


def test_registry_names():
    assert {
        "format",
        "count",
        "span",
        "type",
        "entailment",
        "grounding",
        "consistency",
        "textual_shortcut",
        "visual_shortcut",
        "mate",
        "gmner_f1",
    } <= set(REGISTRY)


@pytest.mark.parametrize("which", [0, 1])
def test_the_gold_rendered_exactly_is_perfect(which):
    s = scores(render_gold(GOLD_ITEMS, which))
    assert all(s[name] == 1.0 for name in ["format", *CONTENT]), s
    assert all(s[name] == 0.0 for name in PENALTIES), s


def test_completion_forms_give_the_same_scores():
    completion = render_gold(GOLD_ITEMS)
    for form in (
        completion,
        [{"role": "assistant", "content": completion}],
        [{"role": "assistant", "content": [{"type": "text", "text": completion}]}],
    ):
        assert REGISTRY["span"]([form], gold=[GOLD]) == [1.0]


def test_grounding_an_ungroundable_entity_is_a_textual_shortcut():
    items = [
        {"entity": g["entity"], "type": g["type"], "bbox": g["bbox"][0] if g["bbox"] else [0, 0, 20, 20]}
        for g in GOLD_ITEMS
    ]
    s = scores(render(items))
    assert s["textual_shortcut"] == pytest.approx(1 / 3)
    assert s["entailment"] == pytest.approx(2 / 3)
    assert s["span"] == s["type"] == s["grounding"] == s["consistency"] == 1.0
    assert s["visual_shortcut"] == 0.0


def test_an_entity_not_in_the_text_is_a_visual_shortcut():
    items = [
        *[
            {"entity": g["entity"], "type": g["type"], "bbox": g["bbox"][0] if g["bbox"] else None}
            for g in GOLD_ITEMS
        ],
        {"entity": "Lakers", "type": "ORG", "bbox": [0, 0, 5, 5]},
    ]
    s = scores(render(items))
    assert s["visual_shortcut"] == pytest.approx(1 / 4)
    assert s["count"] == pytest.approx(1 - 1 / 3)
    assert s["span"] == pytest.approx(2 * 0.75 * 1.0 / 1.75)
    assert s["textual_shortcut"] == 0.0


def test_visual_shortcut_matches_whole_tokens_case_insensitively():
    # "Oak" is inside "Oakland" but is not a token of the text; "oakland" is, case aside
    items = [
        {"entity": "Oak", "type": "LOC", "bbox": None},
        {"entity": "oakland", "type": "LOC", "bbox": None},
    ]
    assert scores(render(items))["visual_shortcut"] == 0.5


def test_visual_shortcut_needs_the_text_column():
    with pytest.raises(ValueError, match="needs the input text: add a 'text' column"):
        REGISTRY["visual_shortcut"]([render_gold(GOLD_ITEMS)], gold=[GOLD])


def test_every_answered_item_a_shortcut_scores_one():
    items = [{"entity": "Oakland", "type": "LOC", "bbox": [1, 1, 9, 9]}]
    assert scores(render(items))["textual_shortcut"] == 1.0
    items = [
        {"entity": "Lakers", "type": "ORG", "bbox": None},
        {"entity": "Celtics", "type": "ORG", "bbox": None},
    ]
    assert scores(render(items))["visual_shortcut"] == 1.0


def test_a_repeated_entity_earns_no_double_credit():
    kd = {"entity": "Kevin Durant", "type": "PER", "bbox": [10, 10, 50, 50]}
    s = scores(render([kd, kd]))
    assert s["span"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))  # P = 1/2, R = 1/3
    assert s["gmner_f1"] == pytest.approx(s["span"])
    assert s["type"] == 1.0 and s["entailment"] == 1.0  # over the one matched pair
    # a post that really names the entity twice matches both
    twice = json.dumps([GOLD_ITEMS[0], GOLD_ITEMS[0]])
    assert scores(render([kd, kd]), gold=twice)["span"] == 1.0


@pytest.mark.parametrize(("threshold", "expected"), [(0.5, 1.0), (0.51, 0.0)])
def test_iou_exactly_at_sigma_counts_as_grounded(threshold, expected):
    # [10, 10, 50, 50] inside gold [10, 10, 50, 90]: IoU = 1600 / 3200 = 0.5 exactly
    half = {"entity": "Kevin Durant", "type": "PER", "bbox": [10, 10, 50, 50]}
    gold = json.dumps([{"entity": "Kevin Durant", "type": "PER", "bbox": [[10, 10, 50, 90]]}])
    s = scores(render([half]), gold=gold, iou_threshold=threshold)
    assert s["grounding"] == expected
    assert s["gmner_f1"] == 0.0  # the evaluation's rule needs IoU strictly above 0.5


@pytest.mark.parametrize(
    "box", [[50, 10, 10, 50], [10, 10, 10, 50], [-40, -40, -10, -10], [0, 0, 1e12, 1e12]]
)
def test_degenerate_boxes_are_a_decision_but_never_ground(box):
    items = [{"entity": "Kevin Durant", "type": "PER", "bbox": box}]
    gold = json.dumps([GOLD_ITEMS[0]])
    s = scores(render(items), gold=gold)
    assert s["format"] == 1.0 and s["entailment"] == 1.0
    assert s["grounding"] == 0.0 and s["gmner_f1"] == 0.0


@pytest.mark.parametrize(
    "box",
    [
        "[1, 2, 3, NaN]",
        "[1, 2, 3, Infinity]",
        "[1, 2, 3, 1e400]",
        "[1, 2, 3, " + "9" * 400 + "]",
        '["1", 2, 3, 4]',
        "[1, 2, 3]",
    ],
)
def test_non_finite_or_malformed_boxes_make_the_answer_invalid(box):
    completion = (
        f'<think>x</think><answer>[{{"entity": "Kevin Durant", "type": "PER", "bbox": {box}}}]</answer>'
    )
    s = scores(completion)
    assert all(v == 0.0 for v in s.values()), s


def test_empty_gold_and_empty_answer():
    s = scores(render([]), gold="[]")
    assert all(s[name] == 1.0 for name in ["format", *CONTENT])
    assert all(s[name] == 0.0 for name in PENALTIES)
    # claiming nothing when there is something to find
    s = scores(render([]))
    assert s["count"] == s["span"] == s["type"] == s["entailment"] == s["grounding"] == 0.0
    assert s["consistency"] == 1.0 and s["textual_shortcut"] == s["visual_shortcut"] == 0.0
    # claiming something when there is nothing to find
    s = scores(render([{"entity": "Oakland", "type": "LOC", "bbox": None}]), gold="[]")
    assert s["count"] == 0.0 and s["span"] == 0.0 and s["type"] == 0.0 and s["grounding"] == 1.0


def test_unparsable_completion_scores_zero_everywhere():
    for completion in ("", "plain text", "<think>a</think><answer>[{]</answer>", "<answer>{'a': 1}</answer>"):
        assert all(v == 0.0 for v in scores(completion).values())


def test_type_and_span_are_independent():
    items = [{"entity": "kevin  DURANT", "type": "ORG", "bbox": [10, 10, 50, 50]}]
    s = scores(render(items), gold=json.dumps([GOLD_ITEMS[0]]))
    assert s["span"] == 1.0 and s["type"] == 0.0 and s["grounding"] == 1.0
    assert s["gmner_f1"] == 0.0  # the evaluation neither case-folds nor forgives the type


def test_type_preference_among_same_span_golds():
    gold = json.dumps(
        [{"entity": "Apple", "type": "OTHER", "bbox": []}, {"entity": "Apple", "type": "ORG", "bbox": []}]
    )
    s = scores(render([{"entity": "Apple", "type": "ORG", "bbox": None}]), gold=gold, text="Apple and Apple")
    assert s["type"] == 1.0


class TestConsistency:
    ITEMS: ClassVar[list[dict]] = [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [10, 10, 50, 50]},
        {"entity": "Oakland", "type": "LOC", "bbox": None},
    ]

    def test_styles_that_state_each_verdict(self):
        table = (
            "| entity | type | image |\n| Kevin Durant | PER | shown at [10, 10, 50, 50] |\n"
            "| Oakland | LOC | not in the image |"
        )
        narrative = "The text names Kevin Durant, a PER, who is visible. Oakland is a LOC and is absent."
        for think in (table, narrative, reasoning(self.ITEMS)):
            assert consistency_score(render(self.ITEMS, think)) == 1.0, think

    def test_contradictions(self):
        flipped = "Kevin Durant: PER, not shown.\nOakland: LOC, not shown."
        assert consistency_score(render(self.ITEMS, flipped)) == 0.5
        wrong_type = "Kevin Durant: ORG, shown.\nOakland: LOC, not shown."
        assert consistency_score(render(self.ITEMS, wrong_type)) == 0.5
        both = "Kevin Durant: PER, shown.\nOakland: LOC, not shown.\nOakland looks shown."
        assert consistency_score(render(self.ITEMS, both)) == 0.5

    def test_silent_reasoning_is_inconsistent(self):
        assert consistency_score(render(self.ITEMS, "Kevin Durant: PER, shown.")) == 0.5
        assert consistency_score(render(self.ITEMS, "I looked carefully.")) == 0.0
        assert consistency_score(f"<answer>{json.dumps(self.ITEMS)}</answer>") == 0.0

    def test_mentions_respect_word_boundaries_and_longer_names(self):
        items = [
            {"entity": "Voss", "type": "PER", "bbox": None},
            {"entity": "Lake Voss", "type": "LOC", "bbox": [1, 1, 5, 5]},
        ]
        think = "Lake  Voss: LOC, shown.\nVossberg is not an entity. Voss: PER, not shown."
        assert consistency_score(render(items, think)) == 1.0


class TestMate:
    def test_official_rule(self):
        gold = json.dumps({"answer": "red"})
        mate = REGISTRY["mate"]
        assert mate(['<think>x</think><answer>{"answer": "red"}</answer>'], gold=[gold]) == [1.0]
        assert mate(['{"answer": "blue"} then {"answer": " red "}'], gold=[gold]) == [1.0]  # last, stripped
        assert mate(['{"answer":"red"}'], gold=[gold]) == [0.0]  # the rule needs the space after the colon
        assert mate(['{"answer": "Red"}'], gold=[gold]) == [0.0]  # no case folding
        assert mate(["red"], gold=[gold]) == [0.0]
        assert mate(['{"answer": 3}'], gold=[json.dumps({"answer": 3})]) == [1.0]
        assert mate(['{"answer": "a\\\\nb"}'], gold=[json.dumps({"answer": "anb"})]) == [
            1.0
        ]  # backslashes go

    def test_scan_equals_the_regex(self):
        import re

        pattern = re.compile(r'\{ *"answer": .*?\}')
        for text in [
            'x {"answer": 1} y {  "answer": {"k": 2}} z',
            '{"answer": ',
            '{ {"answer": 1}}',
            "{{}",
            '{"answer": 1}{"answer": 2',
            '{   "answer": "}"}',
        ]:
            assert answer_objects(text) == pattern.findall(text.strip().replace("\\", "").replace("\n", ""))

    def test_unparsable_last_match(self):
        assert extract_answer('{"answer": "a", "b": }') is None


def test_tasks_do_not_cross():
    mate_gold = json.dumps({"answer": "red"})
    completion = '<think>x</think><answer>{"answer": "red"}</answer>'
    assert REGISTRY["span"]([completion], gold=[mate_gold], task=["mate"]) == [None]
    assert REGISTRY["mate"]([render_gold(GOLD_ITEMS)], gold=[GOLD], task=["gmner"]) == [None]
    assert REGISTRY["format"]([completion], gold=[mate_gold], task=["mate"]) == [1.0]
    assert REGISTRY["format"]([completion], gold=[GOLD], task=["gmner"]) == [
        0.0
    ]  # a MATE answer on a GMNER row
    # rows of both tasks in one batch: each reward scores its own task's rows, None the others'
    both = {"gold": [GOLD, mate_gold], "task": ["gmner", "mate"]}
    assert REGISTRY["span"]([render_gold(GOLD_ITEMS), completion], **both) == [1.0, None]
    assert REGISTRY["mate"]([render_gold(GOLD_ITEMS), completion], **both) == [None, 1.0]
    assert REGISTRY["format"]([render_gold(GOLD_ITEMS), completion], **both) == [1.0, 1.0]
    # without a task column a reward takes every row for its own task
    assert REGISTRY["format"]([completion]) == [1.0] and REGISTRY["mate"]([completion], gold=[mate_gold]) == [
        1.0
    ]


def test_parse_is_shared_across_rewards():
    clear_caches()
    assert parse_completion.cache_info().currsize == 0
    scores(render_gold(GOLD_ITEMS))
    info = parse_completion.cache_info()
    assert info.misses == 1 and info.hits >= 1
    clear_caches()
    assert parse_completion.cache_info().currsize == 0
