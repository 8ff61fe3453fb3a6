"""Reward-hacking monitors: each figure by value, and the warning a GRPO run gives when one
crosses its threshold."""

from __future__ import annotations

import json
import logging

import pytest

from mcr.callbacks import MonitorCallback
from mcr.config import RecipeError, load_recipe
from mcr.rewards import REGISTRY
from mcr.rewards.monitors import MONITOR_REWARDS, MONITORS

GOLD = json.dumps(
    [
        {"entity": "Kevin Durant", "type": "PER", "bbox": [[0, 0, 20, 20]]},  # area 400
        {"entity": "Oakland", "type": "LOC", "bbox": []},
    ]
)


def answer(items, before="", after="") -> str:
    return f"{before}<think>x</think><answer>{json.dumps(items)}</answer>{after}"


def entity(name, box=None, etype="PER"):
    return {"entity": name, "type": etype, "bbox": box}


COMPLETIONS = [
    answer([entity("Kevin Durant", [0, 0, 40, 40]), entity("Oakland", etype="LOC")]),  # box 4x gold's
    answer([]),  # empty
    "no answer at all",  # missing: a format failure, not an empty answer
    answer([entity("Kevin Durant", [0, 0, 100, 100])], after=" thanks!"),  # whole image, text outside
    answer(
        [entity("Kevin Durant"), entity("kevin durant"), entity("Lakers"), entity("Oakland")]
    ),  # duplicates
]
COLUMNS = {"gold": [GOLD] * 5, "task": ["gmner"] * 5, "box_frame": [[100, 100]] * 5}


def mate_free(n):
    return {"gold": [GOLD] * n, "task": ["gmner"] * n, "box_frame": [[100, 100]] * n}


def test_each_monitor_by_value():
    values = {name: REGISTRY[name](COMPLETIONS, **COLUMNS) for name in MONITOR_REWARDS}
    assert values["monitor_empty_answer"] == [0.0, 1.0, 0.0, 0.0, 0.0]
    blank = REGISTRY["monitor_empty_answer"](["<think>x</think><answer> </answer>"], **mate_free(1))
    assert blank == [1.0]
    assert values["monitor_text_outside_tags"] == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert values["monitor_whole_image_box"] == [0.0, 0.0, None, 1.0, 0.0]
    assert values["monitor_box_area_ratio"] == [4.0, None, None, 25.0, None]
    assert values["monitor_entity_ratio"] == [1.0, 0.0, None, 0.5, 2.0]
    assert values["monitor_duplicate_entities"] == [0.0, 0.0, None, 0.0, 0.5]
    # rows of another task: only the task-free monitors answer
    mate = {"gold": ['{"answer": "red"}'], "task": ["mate"], "box_frame": [[100, 100]]}
    out = {name: REGISTRY[name]([answer({"answer": "red"})], **mate)[0] for name in MONITOR_REWARDS}
    assert out == {
        "monitor_empty_answer": 0.0,
        "monitor_text_outside_tags": 0.0,
        "monitor_whole_image_box": None,
        "monitor_box_area_ratio": None,
        "monitor_entity_ratio": None,
        "monitor_duplicate_entities": None,
    }


def test_the_callback_warns_naming_the_monitor_and_the_step(caplog):
    from types import SimpleNamespace

    callback = MonitorCallback(
        {"empty_answer": 0.5, "completion_length": 0.9, "box_area_ratio": 4.0}, MONITORS
    )
    args, state = SimpleNamespace(max_completion_length=100), SimpleNamespace(global_step=7)
    logs = {
        "rewards/monitor_empty_answer/mean": 0.75,
        "completions/mean_length": 95.0,
        "rewards/monitor_box_area_ratio/mean": float("nan"),  # no row had boxes: no value, no warning
    }
    with caplog.at_level(logging.WARNING):
        callback.on_log(args, state, None, logs=logs)
    assert "monitor empty_answer = 0.750 crosses its threshold 0.5 at step 7" in caplog.text
    assert "monitor completion_length = 0.950 crosses its threshold 0.9 at step 7" in caplog.text
    assert callback.crossed == [(7, "empty_answer", 0.75), (7, "completion_length", 0.95)]
    # still above at the next step: no second warning; back under, then above again: warned again
    caplog.clear()
    for step, value in [(8, 0.8), (9, 0.2), (10, 0.6)]:
        state.global_step = step
        with caplog.at_level(logging.WARNING):
            callback.on_log(args, state, None, logs={"rewards/monitor_empty_answer/mean": value})
    assert "at step 8" not in caplog.text and "at step 9" not in caplog.text
    assert "monitor empty_answer = 0.600 crosses its threshold 0.5 at step 10" in caplog.text
    assert callback.crossed[-1] == (10, "empty_answer", 0.6)


def test_recipe_thresholds_merge_with_the_defaults():
    recipe = load_recipe(["recipe=tiny", "monitors.thresholds.empty_answer=0.9"])
    assert (
        recipe.monitors.thresholds["empty_answer"] == 0.9
        and recipe.monitors.thresholds["entity_ratio"] == 2.0
    )
    assert set(recipe.monitors.thresholds) == set(MONITORS)
    with pytest.raises(RecipeError, match=r"monitors.thresholds names \['emptiness'\]"):
        load_recipe(["recipe=tiny", "monitors.thresholds.emptiness=0.9"])


def two_grpo_steps(tmp_path, tiny_model_dir) -> list[str]:
    """Two logged GRPO steps of the untrained tiny model, groups of 2, completions cut at 8 tokens."""
    from helpers.runs import tiny_run_args

    return [
        *tiny_run_args(tmp_path, tiny_model_dir, posts=20),
        f"grpo.output_dir={tmp_path / 'run'}",
        "grpo.max_steps=2",
        "grpo.logging_steps=1",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=8",
        "grpo.save_strategy=no",
    ]


@pytest.mark.slow
def test_grpo_logs_the_monitors_each_step_and_warns(tmp_path, tiny_model_dir, caplog):
    import train_grpo

    recipe = load_recipe(
        [
            *two_grpo_steps(tmp_path, tiny_model_dir),
            "grpo.report_to=none",
            "monitors.thresholds.completion_length=0.5",
        ]
    )
    with caplog.at_level(logging.WARNING):
        metrics = train_grpo.main(recipe)
    steps = [h for h in metrics["log_history"] if "reward" in h]
    assert [h["step"] for h in steps] == [1, 2]
    for h in steps:
        assert {f"rewards/{name}/mean" for name in MONITOR_REWARDS} <= set(h)
        # an untrained model cut at 8 tokens never answers: no answer, so none is an empty one,
        # and every completion runs to the length limit
        assert h["rewards/monitor_empty_answer/mean"] == 0.0
        assert h["completions/mean_length"] == 8.0
    assert "monitor completion_length = 1.000 crosses its threshold 0.5 at step 1" in caplog.text
    assert "at step 2" not in caplog.text  # still above: warned once
    # weight 0: the optimised reward is the recipe's alone
    assert all(abs(h["reward"]) < 1e-9 for h in steps)


@pytest.mark.slow
def test_grpo_draws_completions_with_their_boxes_in_wandb(tmp_path, tiny_model_dir):
    import train_grpo

    from helpers.wandb_offline import logged_tables

    recipe = load_recipe(
        [*two_grpo_steps(tmp_path, tiny_model_dir), "grpo.report_to=[wandb]", "monitors.log_boxes=3"]
    )
    train_grpo.main(recipe)
    import wandb

    wandb.teardown()  # the run's writer flushes to disk
    (run,) = (tmp_path / "run" / "wandb").glob("offline-run-*")
    tables = logged_tables(run, "grpo/boxes")
    assert len(tables) == 2  # one per logging step
    for table, files in tables:
        column = table["columns"].index
        assert [row[column("sample")] for row in table["data"]] == [0, 1, 2]
        for row in table["data"]:
            cell = row[column("image")]
            assert files[cell["path"]].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            # an untrained model predicts no box; the gold boxes of posts that show an entity are drawn
            assert cell.get("boxes", {}).get("predictions", []) == []
    gold_drawn = [
        row
        for table, _ in tables
        for row in table["data"]
        if row[table["columns"].index("image")].get("boxes", {}).get("ground_truth")
    ]
    assert gold_drawn and all(
        box["class_id"] == 4
        for row in gold_drawn
        for box in row[tables[0][0]["columns"].index("image")]["boxes"]["ground_truth"]
    )
