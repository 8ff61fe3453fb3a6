"""Reward functions on hostile input: never an exception, always a finite value in range, bounded time.

The time bound is generous (seconds, against milliseconds measured): it separates linear
work from catastrophic backtracking or quadratic scans, not fast from slow.
"""

from __future__ import annotations

import json
import math
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcr.contract.parse import parse_completion
from mcr.rewards import CVO_GMNER, REGISTRY

GMNER_GOLD = json.dumps(
    [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [[10, 10, 50, 50]]},
        {"entity": "Oakland", "type": "LOC", "bbox": []},
    ]
)
MATE_GOLD = json.dumps({"answer": "red"})
TEXT = "Kevin Durant met Oakland"
NAMES = [*CVO_GMNER, "gmner_f1", "mate"]
SECONDS_PER_CALL = 5.0


def check_all(completion) -> None:
    for gold, task in ((GMNER_GOLD, "gmner"), (MATE_GOLD, "mate")):
        for name in NAMES:
            start = time.perf_counter()
            (value,) = REGISTRY[name]([completion], gold=[gold], text=[TEXT], task=[task])
            elapsed = time.perf_counter() - start
            assert elapsed < SECONDS_PER_CALL, (name, elapsed)
            if value is not None:
                assert isinstance(value, float) and math.isfinite(value) and 0.0 <= value <= 1.0, (
                    name,
                    value,
                )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=30,
)
entity_items = st.fixed_dictionaries(
    {
        "entity": st.sampled_from(["Kevin Durant", "Oakland", "kevin durant", "Lakers", "", " "])
        | st.text(max_size=15),
        "type": st.sampled_from(["PER", "LOC", "ORG", "OTHER", "MISC"]),
        "bbox": st.none()
        | st.lists(st.integers(-(10**6), 10**6) | st.floats(allow_nan=False), min_size=4, max_size=4),
    }
)
fragments = st.sampled_from(
    [
        "<think>",
        "</think>",
        "<answer>",
        "</answer>",
        "```json",
        "```",
        "\n",
        " ",
        "{",
        "}",
        "[",
        "]",
        '"answer": ',
        "PER",
        "shown",
        "not shown",
        "Kevin Durant",
        ",",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_arbitrary_strings(text):
    check_all(text)


@settings(max_examples=200, deadline=None)
@given(st.lists(fragments | st.text(max_size=8), max_size=40))
def test_assembled_fragments(parts):
    check_all("".join(parts))


@settings(max_examples=200, deadline=None)
@given(json_values, st.text(max_size=50))
def test_arbitrary_json_answers(value, think):
    check_all(f"<think>{think}</think><answer>{json.dumps(value)}</answer>")


@settings(max_examples=200, deadline=None)
@given(st.lists(entity_items, max_size=8), st.text(max_size=80))
def test_entity_lists(items, think):
    check_all(f"<think>{think}</think><answer>{json.dumps(items)}</answer>")
    check_all(
        [{"role": "assistant", "content": f"<think>{think}</think><answer>{json.dumps(items)}</answer>"}]
    )


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json(depth):
    check_all("<think>x</think><answer>" + "[" * depth + "]" * depth + "</answer>")
    check_all('<think>x</think><answer>{"answer": ' + "[" * depth + "</answer>")
    assert (
        parse_completion("<think>x</think><answer>" + "[" * depth + "]" * depth + "</answer>").entities
        is None
    )


MB = 1_000_000
ADVERSARIAL = {
    "junk": "x" * MB,
    "tags": "<think>" * (MB // 7),
    "open answers": '{"answer": ' * (MB // 11),
    "braces": "{" * MB,
    "whitespace": "<think>Kevin" + " " * MB + "x</think><answer>[]</answer>",
    "nots": "<think>" + "not " * (MB // 4) + '</think><answer>[{"entity": "Kevin Durant", "type": "PER", '
    '"bbox": null}]</answer>',
    "mentions": "<think>"
    + "Kevin Durant PER shown " * (MB // 23)
    + '</think><answer>[{"entity": "Kevin Durant", '
    '"type": "PER", "bbox": [1, 2, 3, 4]}]</answer>',
    "many entities": "<think>x</think><answer>"
    + json.dumps([{"entity": f"E{i}", "type": "PER", "bbox": [i, i, i + 5, i + 5]} for i in range(20_000)])
    + "</answer>",
    "many names": "<think>"
    + " ".join(f"E{i} PER shown" for i in range(60)) * 1000
    + "</think><answer>"
    + json.dumps([{"entity": f"E{i}", "type": "PER", "bbox": None} for i in range(60)])
    + "</answer>",
    "long entity": '<think>x</think><answer>[{"entity": "'
    + "a" * MB
    + '", "type": "PER", "bbox": null}]</answer>',
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_megabyte_completions(name):
    check_all(ADVERSARIAL[name])
