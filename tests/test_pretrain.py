"""The tiny base's pretraining: a corpus of unimodal skills only, probes scored by value, and a
short run of the same command that raises the probes above the untrained model's."""

from __future__ import annotations

import json
import random
import re

import pytest

from mcr.benchmarks.gmner.synthetic import NAME_PARTS, SHAPE_OF_TYPE
from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import (
    SEED_OFFSET,
    TEXT_TASKS,
    VISION_TASKS,
    Example,
    blank_image,
    corpus,
    draw_example,
    text_example,
)
from mcr.pretrain.probes import PROBE_SEED, probe_set, score_captions, score_points
from mcr.pretrain.run import TEXT_AND_VISION, default_schedule
from mcr.prompts import available_styles

SPACE = ImageSpace(56 * 56, 224 * 224)


def test_the_corpus_holds_unimodal_skills_and_nothing_of_the_tasks():
    examples = corpus(600, seed=0, mix=TEXT_AND_VISION, max_objects=4, space=SPACE)
    assert {e.task for e in examples} == set(TEXT_TASKS + VISION_TASKS)
    for e in examples:
        text = e.prompt + " " + e.answer
        # no answer contract, no reasoning, no entity types
        assert "<answer>" not in text and "<think>" not in text and '"entity"' not in text
        assert not any(f" {t} " in f" {text} " for t in SHAPE_OF_TYPE), text
        if e.task in TEXT_TASKS:  # a post never comes with its image: text tasks carry a blank one
            assert e.image.size == (56, 56) and e.objects == ()
    styles = available_styles("gmner")
    assert styles and not any(style in e.prompt for e in examples for style in styles)


def test_vision_answers_describe_every_object_in_the_models_pixel_frame():
    rng = random.Random(SEED_OFFSET)
    e = draw_example(rng, {"caption": 1.0}, 4, SPACE)
    frame = SPACE.input_size(*e.image.size)
    items = e.answer.split("; ")
    assert len(items) == len(e.objects) >= 1
    for item, (colour, shape, box) in zip(items, e.objects, strict=True):
        assert item == f"{colour} {shape} [{box[0]}, {box[1]}, {box[2]}, {box[3]}]"
        assert 0 <= box[0] < box[2] <= frame[0] and 0 <= box[1] < box[3] <= frame[1]
    # objects are listed top to bottom
    assert [b[1] for *_, b in e.objects] == sorted(b[1] for *_, b in e.objects)


def test_probe_examples_are_never_trained_on():
    probes = probe_set(16, SPACE)
    trained = corpus(400, seed=0, mix=TEXT_AND_VISION, max_objects=4, space=SPACE)
    trained_prompts = {e.prompt for e in trained if e.task in TEXT_TASKS}
    probed = {e.prompt for task in ("repeat", "names", "repeat_new", "names_new") for e in probes[task]}
    assert len(probed) == 4 * 16 and not trained_prompts & probed
    assert PROBE_SEED != 0 and all(e.answer != "nowhere" for e in probes["point"])


def test_caption_and_point_scores_by_value():
    objects = (("red", "circle", (10, 10, 50, 50)), ("blue", "square", (100, 20, 140, 60)))
    example = Example("caption", "Describe the objects.", "", blank_image(), objects)
    answers = [
        # red circle named and boxed (IoU 0.81 > 0.5); blue square named, box elsewhere
        "red circle [12, 12, 50, 50]; blue square [0, 100, 40, 140]",
    ]
    assert score_captions([example], answers) == {"colour_shape": 1.0, "box_iou50": 0.5}
    assert score_captions([example], ["green star [10, 10, 50, 50]"]) == {
        "colour_shape": 0.0,
        "box_iou50": 0.0,
    }
    point = Example("point", "Where is the red circle?", "[10, 10, 50, 50]", blank_image(), objects)
    assert score_points([point, point, point], ["[10, 10, 50, 50]", "[30, 30, 70, 70]", "nowhere"]) == 1 / 3


def test_the_schedule_scales_and_grows_the_scenes():
    full, short = default_schedule(), default_schedule(0.01)
    assert [s.name for s in full] == [s.name for s in short]
    assert [s.max_objects for s in full] == sorted(s.max_objects for s in full)
    assert sum(s.steps for s in short) < sum(s.steps for s in full) / 50


@pytest.mark.slow
def test_a_short_run_of_the_command_raises_the_probes_and_resumes(tmp_path):
    """The two-minute version of ``mcr pretrain-tiny``: every stage runs, the card records how the
    base was made, and the skills the probes measure rise above the untrained model's."""
    from mcr.cli import main as mcr_main

    out = tmp_path / "base"
    args = ["pretrain-tiny", "--out", str(out), "--scale", "0.05", "--probe-examples", "32"]
    mcr_main(args)
    card = json.loads((out / "model_card.json").read_text())
    assert (out / "model.safetensors").is_file() and (out / "README.md").is_file()
    assert list(card["stages"]) == [s.name for s in default_schedule()]
    assert card["command"].startswith("mcr pretrain-tiny") and card["seconds"] > 0
    losses = [loss for stage in card["stages"].values() for _, loss in stage["loss"]]
    assert losses[-1] < losses[0] / 2  # from about 7 (a uniform guess over the vocabulary) to under 2
    untrained, after = card["untrained"], card["stages"]["anneal"]["probes"]
    # two minutes teach colour and shape; copying and boxes take the long run (see the card)
    assert after["colour_shape"] > untrained["colour_shape"]
    # run again: every stage is recorded as done, so nothing trains and the card is the same
    weights = (out / "model.safetensors").read_bytes()
    mcr_main(args)
    assert json.loads((out / "model_card.json").read_text())["stages"] == card["stages"]
    assert (out / "model.safetensors").read_bytes() == weights


def test_made_up_names_can_only_be_copied():
    made_up = re.compile(r"^(?:[bdfgklmnprstvz][aeiou]){2,3}$", re.IGNORECASE)
    rng = random.Random(SEED_OFFSET)
    for _ in range(50):
        e = text_example(rng, "names", made_up=1.0)
        names = e.answer.split(" | ")
        assert all(made_up.match(word) for name in names for word in name.split())
        assert all(name in e.prompt for name in names)
    # the _new probes copy posts whose names are all made up, the others the vocabulary's names
    probes = probe_set(8, SPACE)
    for e in probes["names_new"]:
        assert all(made_up.match(word) for name in e.answer.split(" | ") for word in name.split())
    for e in probes["names"]:
        assert all(
            word in (*NAME_PARTS, "Lake", "Port", "City", "FC", "Bank", "United", "Cup", "Phone")
            for name in e.answer.split(" | ")
            for word in name.split()
        )


def test_random_words_are_copied_word_for_word():
    rng = random.Random(SEED_OFFSET)
    for _ in range(50):
        e = text_example(rng, "words")
        assert e.prompt == f"Repeat these words: {e.answer}" and 3 <= len(e.answer.split()) <= 12
    assert len({text_example(rng, "words").answer for _ in range(50)}) == 50


def test_the_schedule_teaches_copying_before_anything_else():
    first, *rest = default_schedule()
    assert set(first.mix) <= set(TEXT_TASKS) and first.mix["words"] == max(first.mix.values())
    assert all(set(stage.mix) == set(TEXT_TASKS + VISION_TASKS) for stage in rest)
