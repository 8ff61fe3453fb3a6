"""The tiny base's pretraining: a corpus of unimodal skills only, probes scored by value, and a
short run of the same command that raises the probes above the untrained model's."""

from __future__ import annotations

import itertools
import json
import random
import re
from dataclasses import replace

import pytest
import torch

from mcr.benchmarks.gmner.synthetic import LAYOUTS, NAME_PARTS, SHAPE_OF_TYPE
from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import (
    CHECK_KINDS,
    CHECK_TASKS,
    EXISTS_TASKS,
    NO,
    NONE,
    NOTHING,
    NOWHERE,
    RECALL_ASKED,
    RECALL_TASKS,
    SCENE_TASKS,
    SEED_OFFSET,
    TEXT_TASKS,
    VISION_TASKS,
    YES,
    Example,
    as_row,
    blank_image,
    check_example,
    corpus,
    draw_example,
    recall_example,
    scene_example,
    text_example,
    vision_example,
)
from mcr.pretrain.probes import (
    PROBE_NAMES,
    PROBE_SEED,
    point_landing,
    probe_set,
    run_probes,
    score_captions,
    score_checks,
    score_exists,
    score_points,
    score_recall,
    score_recall_boxes,
    score_scene_points,
)
from mcr.pretrain.run import (
    SCENES,
    SCHEDULES,
    SHOWN_OF_CHECK,
    TEXT_AND_VISION,
    Stage,
    _stream,
    default_schedule,
    model_card,
    train_stage,
)
from mcr.prompts import available_styles
from mcr.shipped import shipped_model

SPACE = ImageSpace(56 * 56, 224 * 224)
# corpus tasks no schedule trains (bench/localisation.py's controlled runs do)
BENCH_ONLY = {"point_far", "scene_recall_boxes", *EXISTS_TASKS}


def test_the_corpus_holds_unimodal_skills_and_nothing_of_the_tasks():
    examples = corpus(
        600,
        seed=0,
        mix={**TEXT_AND_VISION, **dict.fromkeys([*BENCH_ONLY, *RECALL_TASKS, *CHECK_TASKS], 1.0)},
        max_objects=4,
        space=SPACE,
    )
    assert {e.task for e in examples} == set(TEXT_TASKS + VISION_TASKS + RECALL_TASKS + CHECK_TASKS)
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


# the first point probes as drawn before ``point_absent`` was added (the shipped card's
# figures were measured on these examples)
POINT_PROBES_BEFORE_ABSENT = ["[106, 47, 143, 88]", "[8, 138, 49, 166]", "[35, 75, 94, 118]"]


def test_absent_point_probes_ask_for_a_look_the_image_lacks():
    probes = probe_set(16, SPACE)
    assert len(probes["point_absent"]) == 16
    for e in probes["point_absent"]:
        colour, shape = e.prompt.removeprefix("Where is the ").removesuffix("?").split()
        assert e.answer == "nowhere" and (colour, shape) not in {(c, s) for c, s, _ in e.objects}
    # drawn after the others, which stay the examples they were
    assert [e.answer for e in probes["point"][:3]] == POINT_PROBES_BEFORE_ABSENT


def test_scene_points_ask_for_a_named_look_in_an_image_drawn_as_the_tasks():
    """``scene_point``: the answer is every box of the asked look, top to bottom, or "nowhere";
    about 40% are "nowhere" (the task's share of entities not shown), often with a look-alike
    (same colour or same shape) in the image, and some scenes hold more than four objects."""
    rng = random.Random(SEED_OFFSET)
    examples = [scene_example(rng, "scene_point", SPACE) for _ in range(300)]
    for e in examples:
        colour, shape = e.prompt.removeprefix("Where is the ").removesuffix("?").split()
        boxes = [f"[{b[0]}, {b[1]}, {b[2]}, {b[3]}]" for c, s, b in e.objects if (c, s) == (colour, shape)]
        assert e.answer == ("; ".join(boxes) or NOWHERE)
    absent = [e for e in examples if e.answer == NOWHERE]
    assert 0.3 < len(absent) / len(examples) < 0.5
    asked = [tuple(e.prompt.removeprefix("Where is the ").removesuffix("?").split()) for e in absent]
    look_alike = [
        any(c == a[0] or s == a[1] for c, s, _ in e.objects) for e, a in zip(absent, asked, strict=True)
    ]
    assert sum(look_alike) > len(absent) / 3
    assert max(len(e.objects) for e in examples) > 4 and any("; " in e.answer for e in examples)
    captions = [scene_example(rng, "scene_caption", SPACE) for _ in range(300)]
    for e in captions:
        assert e.answer == NOTHING if not e.objects else len(e.answer.split("; ")) == len(e.objects)
    assert any(not e.objects for e in captions)


def test_scene_probes_are_split_by_answer_and_drawn_after_the_others():
    probes = probe_set(16, SPACE)
    assert len(probes["scene_point"]) == len(probes["scene_absent"]) == 16
    assert all(e.answer == NOWHERE for e in probes["scene_absent"])
    assert all(e.answer.startswith("[") for e in probes["scene_point"])
    assert {e.task for e in probes["scene_point"] + probes["scene_absent"]} == {"scene_point"}


def test_point_far_asks_the_question_after_a_run_of_words():
    """``point_far``: the pointing question after 1-60 random words, so that its answer is written
    2-130 tokens from the image; the answer is the plain question's."""
    rng = random.Random(SEED_OFFSET)
    examples = [vision_example(rng, "point_far", 4, SPACE) for _ in range(200)]
    lengths = []
    for e in examples:
        words, question = e.prompt.removeprefix("Read these words: ").rsplit(". Where is the ", 1)
        colour, shape = question.removesuffix("?").split()
        lengths.append(len(words.split()))
        boxes = [f"[{b[0]}, {b[1]}, {b[2]}, {b[3]}]" for c, s, b in e.objects if (c, s) == (colour, shape)]
        assert e.answer == (boxes[0] if boxes else NOWHERE)
    assert min(lengths) <= 5 and max(lengths) >= 55
    assert 0.15 < sum(e.answer == NOWHERE for e in examples) / len(examples) < 0.35
    far = probe_set(16, SPACE)["point_far"]
    assert len(far) == 16 and all(e.answer != NOWHERE and e.prompt.startswith("Read these") for e in far)
    # drawn last: the earlier probes stay the examples they were
    assert [e.answer for e in probe_set(16, SPACE)["point"][:3]] == POINT_PROBES_BEFORE_ABSENT


def test_the_grid_layout_reaches_the_corpus_and_its_probes():
    grid = LAYOUTS["grid"]
    rng = random.Random(SEED_OFFSET)
    for task in ("caption", "point", "point_far"):
        e = vision_example(rng, task, 4, SPACE, grid)
        assert e.image.size == (224, 224)
        assert all((b[0] - 2) % 56 == 0 and (b[1] - 2) % 56 == 0 for _, _, b in e.objects)
    scene = scene_example(rng, "scene_caption", SPACE, grid)
    assert scene.image.size == (224, 224)
    probes = probe_set(8, SPACE, layout=grid)
    assert {e.image.size for task in ("caption", "point", "point_far") for e in probes[task]} == {(224, 224)}
    stream = _stream([3], {"point": 1.0}, 4, SPACE.min_pixels, SPACE.max_pixels, layout=grid)
    assert next(stream)["image"].size == (224, 224)


def test_a_tiny_qwen3_vl_sees_its_own_frame():
    """A base of a 0-1000 family writes its boxes in 0-1000 of the image, on 32-pixel tokens."""
    from mcr.pretrain.run import spec_space
    from mcr.tiny_model import TinySpec

    space = spec_space(TinySpec(family="qwen3_vl", max_pixels=256 * 256))
    assert (space.factor, space.box_convention) == (32, "norm1000")
    e = vision_example(random.Random(1), "caption", 4, space, LAYOUTS["grid"].scaled(32))
    assert e.image.size == (256, 256)
    assert all(0 <= v <= 1000 for *_, box in e.objects for v in box)
    assert any(max(box) > 256 for *_, box in e.objects)  # 0-1000 of the image, not its pixels


def test_probes_run_on_any_subset_of_the_probe_sets(monkeypatch):
    import mcr.eval.generate as generation

    assert "scene_recall_boxes" not in probe_set(4, SPACE)  # bench only: drawn when asked
    probes = probe_set(4, SPACE, boxed_recall=True)
    gold = {name: [e.answer for e in examples] for name, examples in probes.items()}
    calls = []

    def answer_gold(model, processor, rows, **kwargs):  # a model that answers every probe right
        calls.append(kwargs["desc"])
        name = kwargs["desc"].removeprefix("probe ")
        return gold[name][: len(rows)]

    monkeypatch.setattr(generation, "generate", answer_gold)
    subset = {k: probes[k] for k in ("point", "point_far", "point_absent")}
    assert run_probes(None, None, subset) == {"point_iou50": 1.0, "point_absent": 1.0, "point_far_iou50": 1.0}
    assert calls == ["probe point", "probe point_far", "probe point_absent"]
    every = run_probes(None, None, probes)
    assert list(every) == list(PROBE_NAMES) and every["copy"] == every["box_iou50"] == 1.0


def test_exists_asks_for_both_words_of_a_look_and_often_for_a_near_miss():
    """``exists``: "yes" exactly when an object of that colour and shape is drawn; half the
    questions; and among the absent looks about half share a colour or a shape with a drawn object,
    so that matching one word is not enough."""
    rng = random.Random(SEED_OFFSET)
    examples = [vision_example(rng, "exists", 4, SPACE, LAYOUTS["grid"]) for _ in range(400)]
    near_misses = 0
    for e in examples:
        colour, shape = e.prompt.removeprefix("Do you see the ").removesuffix("?").split()
        drawn = {(c, s) for c, s, _ in e.objects}
        assert e.answer == (YES if (colour, shape) in drawn else NO)
        if e.answer == NO:
            near_misses += any(colour == c or shape == s for c, s in drawn)
    absent = sum(e.answer == NO for e in examples)
    assert 0.4 < absent / len(examples) < 0.6
    assert 0.5 < near_misses / absent < 0.9  # half chosen as near misses, and some by chance
    assert score_exists(examples[:4], [e.answer for e in examples[:4]])["exists"] == 1.0


def test_exists_text_asks_the_same_question_with_the_looks_given_as_words():
    """``exists_text``: the control of ``exists``: the scene's looks listed in the prompt (top to
    bottom, as drawn) and a blank image, so that the question is answered from text alone."""
    image_rng, text_rng = random.Random(SEED_OFFSET), random.Random(SEED_OFFSET)
    for _ in range(100):
        seen = vision_example(image_rng, "exists", 4, SPACE, LAYOUTS["grid"])
        read = vision_example(text_rng, "exists_text", 4, SPACE, LAYOUTS["grid"])
        listed = "; ".join(f"{c} {s}" for c, s, _ in seen.objects)
        assert read.prompt == f"Objects: {listed}. {seen.prompt}" and read.answer == seen.answer
        assert read.task == "exists_text" and read.image.size == blank_image().size


def test_exists_first_puts_the_same_question_before_the_image():
    image_rng, first_rng = random.Random(SEED_OFFSET), random.Random(SEED_OFFSET)
    for _ in range(20):
        seen = vision_example(image_rng, "exists", 4, SPACE, LAYOUTS["grid"])
        first = vision_example(first_rng, "exists_first", 4, SPACE, LAYOUTS["grid"])
        assert (first.prompt, first.answer, first.objects) == (seen.prompt, seen.answer, seen.objects)
        assert [part["type"] for part in as_row(first)["prompt"][0]["content"]] == ["text", "image"]
        assert [part["type"] for part in as_row(seen)["prompt"][0]["content"]] == ["image", "text"]


def test_exists_scores_all_answers_and_the_absent_looks_apart():
    yes = Example("exists", "Do you see the red circle?", YES, blank_image())
    no = Example("exists", "Do you see the red square?", NO, blank_image())
    # a model that always says "yes" is right on half, and on none of the absent looks
    assert score_exists([yes, no, yes, no], ["yes"] * 4) == {"exists": 0.5, "exists_absent": 0.0}
    assert score_exists([yes, no, no, no], ["yes", "no", "no", "yes"]) == {
        "exists": 0.75,
        "exists_absent": 2 / 3,
    }


def test_a_pointing_answer_lands_on_the_asked_object_another_one_or_none():
    objects = (("red", "circle", (0, 0, 56, 56)), ("blue", "square", (112, 0, 168, 56)))
    asked = Example("point", "Where is the red circle?", "[0, 0, 56, 56]", blank_image(), objects)
    answers = ["[2, 0, 56, 54]", "[112, 2, 168, 56]", "[56, 112, 112, 168]", "nowhere", "a red circle"]
    landings = [point_landing(asked, a) for a in answers]
    assert landings == ["asked", "other", "empty", "nowhere", "unread"]


def test_scene_point_scores_by_value():
    objects = (("red", "circle", (10, 10, 50, 50)), ("red", "circle", (100, 10, 140, 50)))
    both = Example("scene_point", "Where is the red circle?", "[10, 10, 50, 50]; [100, 10, 140, 50]",
                   blank_image(), objects)  # fmt: skip
    one = Example("scene_point", "Where is the red circle?", "[10, 10, 50, 50]", blank_image(), objects[:1])
    answers = ["[100, 12, 140, 50]", "[0, 100, 40, 140]", "nowhere", "[10, 10, 50, 50]; [100, 10, 140, 50]"]
    # the second look's box hits; a box elsewhere, "nowhere" and more boxes than drawn do not
    assert score_scene_points([both, both, both, one], answers) == 1 / 4


def test_the_scenes_continuation_mixes_task_like_scenes_into_the_base_skills():
    (stage,) = SCHEDULES["scenes"](0.5)
    assert stage.steps == 3000 and stage.mix == SCENES
    assert set(stage.mix) == set(TEXT_TASKS + VISION_TASKS + SCENE_TASKS) - BENCH_ONLY
    examples = corpus(300, seed=0, mix=SCENES, max_objects=4, space=SPACE)
    assert {e.task for e in examples} == set(SCENES)
    for e in examples:  # still unimodal: no types, no answer format, no post with its image
        text = e.prompt + " " + e.answer
        assert "<answer>" not in text and not any(f" {t} " in f" {text} " for t in SHAPE_OF_TYPE)
        assert e.task not in TEXT_TASKS or e.image.size == (56, 56)
    card = json.loads((shipped_model("tiny-base") / "model_card.json").read_text())
    four = card["stages"]["four"]
    scenes = {**four, "stage": {**four["stage"], "name": "scenes-2", "mix": SCENES}}
    rows = model_card({**card, "stages": {**card["stages"], "scenes-2": scenes}}).splitlines()
    assert any(r.startswith("| scenes-2 | ") and "1-4, and task-like scenes |" in r for r in rows)
    assert any(r.startswith("| four | ") and "| 1-4 |" in r for r in rows)


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
    # pretraining on a CPU trains in fp32 (TRL's default bf16 is emulated there, ~20x slower)
    anneal = tmp_path / "base-work" / "anneal" / "final"
    trained_with = torch.load(anneal / "training_args.bin", weights_only=False)
    assert trained_with.bf16 is False and trained_with.activation_checkpointing is False
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


@pytest.mark.slow
def test_continuing_a_base_keeps_its_card_and_trains_a_new_stage_from_its_weights(tmp_path):
    """``mcr pretrain-tiny --from BASE``: the base's stages and probes stay on the card, the new
    stage (renamed, since the shipped base already ran this schedule) starts from the base's
    weights and names the command and machine that trained it; run again, nothing trains."""
    import torch
    from safetensors.torch import load_file

    from mcr.cli import main as mcr_main

    base, out = shipped_model("tiny-base"), tmp_path / "continued"
    args = ["pretrain-tiny", "--from", str(base), "--out", str(out), "--schedule", "scenes"]
    args += ["--scale", "0.002", "--probe-examples", "8", "--probe-every", "6", "--workers", "2"]
    mcr_main(args)
    shipped, card = (json.loads((p / "model_card.json").read_text()) for p in (base, out))
    assert list(shipped["stages"])[-1] == "scenes"
    assert list(card["stages"]) == [*shipped["stages"], "scenes-2"]
    assert card["untrained"] == shipped["untrained"]
    assert "task_pointing" in shipped and "task_pointing" not in card  # measured on the base's weights only
    assert all(card["stages"][n]["probes"] == s["probes"] for n, s in shipped["stages"].items())
    new = card["stages"]["scenes-2"]
    assert new["stage"]["steps"] == 12 and new["command"] == card["command"] == "mcr " + " ".join(args)
    assert new["machine"] and new["batch_size"] == 16
    total = sum(s["stage"]["steps"] for s in shipped["stages"].values())
    assert [step for step, _ in new["curve"]] == [total + 6]  # curve steps count from the first stage
    before, after = load_file(base / "model.safetensors"), load_file(out / "model.safetensors")
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed and all((before[k] - after[k]).abs().max() < 0.1 for k in before)  # 12 small steps
    readme = (out / "README.md").read_text()
    assert shipped["command"] in readme and "`" + card["command"] + "`: scenes-2 (12 steps" in readme
    # each stage's own probes on its row; "-" for the bench-only probes no stage trained
    header, _, *table = readme.split("## Skill probes")[1].split("\n\n")[1].splitlines()
    columns = header.strip("| ").split(" | ")
    rows = [row.strip("| ").split(" | ") for row in table]
    cells = {row[0]: dict(zip(columns, row, strict=True)) for row in rows}
    for probe in ("point_absent", "scene_point_iou50", "scene_absent"):
        assert cells["scenes"][probe] == f"{shipped['stages']['scenes']['probes'][probe]:.2f}"
        assert cells["scenes-2"][probe] == f"{new['probes'][probe]:.2f}"
    assert cells["scenes"]["scene_recall_boxes"] == cells["scenes-2"]["scene_recall_boxes"] == "-"
    weights = (out / "model.safetensors").read_bytes()
    mcr_main(args)
    assert (out / "model.safetensors").read_bytes() == weights
    assert json.loads((out / "model_card.json").read_text())["stages"] == card["stages"]


def test_a_stages_stream_is_split_into_one_shard_per_worker():
    """Each dataloader worker draws from a seed of its own; the first shard is the stream a
    single process reads, so a run without workers draws what it always drew."""
    import datasets

    kwargs = {
        "mix": TEXT_AND_VISION,
        "max_objects": 4,
        "min_pixels": SPACE.min_pixels,
        "max_pixels": SPACE.max_pixels,
    }
    alone = [r["completion"] for r in itertools.islice(_stream([5], **kwargs), 4)]
    shared = [r["completion"] for r in itertools.islice(_stream([5, 9], **kwargs), 8)]
    assert shared[::2] == alone and shared[1::2] != alone
    stream = datasets.IterableDataset.from_generator(_stream, gen_kwargs={"seeds": [5, 9, 13], **kwargs})
    assert stream.num_shards == 3


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
    assert all(set(stage.mix) == set(TEXT_TASKS + VISION_TASKS) - BENCH_ONLY for stage in rest)


def test_the_recall_schedule_asks_the_recall_densely_first_then_keeps_it_on_the_grid():
    """Words' recall, then scenes' recall, at 8 batches a step; the curriculum after it keeps
    recall rows in every mix, and every stage draws its images on the grid."""
    stages = SCHEDULES["recall"]()
    words, scenes, *rest = stages
    assert set(words.mix) == {"look_shapes"} and set(scenes.mix) == set(RECALL_TASKS) - BENCH_ONLY
    assert words.accumulation == scenes.accumulation == 8
    assert words.lr_schedule == scenes.lr_schedule == "constant_with_warmup"
    kept = ("look_recall", "scene_recall")  # the forms MRSI's recall style writes
    assert all(stage.accumulation == 1 and set(kept) <= set(stage.mix) for stage in rest)
    assert all(stage.mix[task] < max(stage.mix.values()) for stage in rest for task in kept)
    assert [s.max_objects for s in rest] == sorted(s.max_objects for s in rest)
    assert {stage.layout.name for stage in stages} == {"grid"}
    assert (
        set().union(*(stage.mix for stage in stages))
        == set(TEXT_TASKS + VISION_TASKS + SCENE_TASKS + RECALL_TASKS) - BENCH_ONLY
    )
    short = SCHEDULES["recall"](0.01)
    assert [s.name for s in short] == [s.name for s in stages] and short[0].steps == 8


def test_pretrain_command_sets_the_fresh_bases_architecture_with_spec(tmp_path, monkeypatch):
    from mcr.cli import main as mcr_main
    from mcr.pretrain import run

    seen = {}

    def pretrain(out, *, spec, stages, **kwargs):
        seen.update(spec=spec, stages=stages)
        return {"untrained": {}, "stages": {}}

    monkeypatch.setattr(run, "pretrain_tiny", pretrain)
    out = ["pretrain-tiny", "--out", str(tmp_path)]
    mcr_main([*out, "--schedule", "recall", "--spec", "mimetic_attention=4"])
    assert seen["spec"] == replace(run.BASE_SPEC, mimetic_attention=4.0)
    assert [s.name for s in seen["stages"]][:2] == ["recall_words", "recall_scenes"]
    mcr_main([*out, "--from", "x", "--schedule", "checks"])
    assert [s.name for s in seen["stages"]] == ["checks", "checks_kept"]
    with pytest.raises(SystemExit, match="'depth=2': expected FIELD=VALUE"):
        mcr_main([*out, "--spec", "depth=2"])
    with pytest.raises(SystemExit, match="a continued base keeps its own"):
        mcr_main([*out, "--from", "x", "--spec", "mimetic_attention=4"])


def test_look_recall_asks_four_listed_colours_and_answers_each_with_its_shape():
    rng = random.Random(3)
    for _ in range(50):
        e = recall_example(rng, "look_recall", SPACE)
        listed, question = e.prompt.removeprefix("Objects: ").split(". Which shapes are ")
        shape_of = dict(look.split(" ") for look in listed.split("; "))
        asked = question.removesuffix("?").split(", ")
        assert 2 <= len(shape_of) <= 4 and len(asked) == RECALL_ASKED and set(asked) <= set(shape_of)
        assert e.answer == "; ".join(f"{c} is {shape_of[c]}" for c in asked)
        assert e.image.size == (56, 56) and e.objects == ()


def test_look_shapes_asks_the_same_looks_with_each_shape_right_after_its_colour():
    for seed in range(20):
        recall, plain = (
            recall_example(random.Random(seed), t, SPACE) for t in ("look_recall", "look_shapes")
        )
        listed, question = plain.prompt.removesuffix(".").split(". Name the shapes of ")
        assert recall.prompt.startswith(listed + ".") and question + "?" == recall.prompt.split(" are ")[1]
        assert plain.answer == recall.answer.replace(" is ", " ")


def test_scene_recall_answers_every_shape_drawn_in_each_asked_colour_or_none():
    """Read back from the pixels: each asked colour's answer lists exactly the shapes the image
    draws in it, "none" for about half; the post's named colours are among those asked."""
    from mcr.benchmarks.gmner.looks import drawn_objects, shapes_in_colour

    rng = random.Random(4)
    answers = nones = twice = 0
    for _ in range(60):
        e = recall_example(rng, "scene_recall", SPACE)
        asked = e.prompt.removeprefix("Which shapes are ").removesuffix("?").split(", ")
        assert len(set(asked)) == len(asked) == RECALL_ASKED
        drawn = drawn_objects(e.image)
        expected = [f"{c} is {' and '.join(shapes_in_colour(drawn, c)) or NONE}" for c in asked]
        assert e.answer.split("; ") == expected
        answers += len(expected)
        nones += sum(a.endswith(f" is {NONE}") for a in expected)
        twice += sum(" and " in a for a in expected)
    assert 0.35 < nones / answers < 0.65 and twice > 0


def test_boxed_recall_gives_each_shape_drawn_in_an_asked_colour_its_own_box():
    """``scene_recall_boxes``: the recall of ``scene_recall`` on the same kind of scene, each named
    shape followed by the box of the object drawn in that colour and shape, in the model's frame."""
    rng = random.Random(4)
    for _ in range(40):
        e = recall_example(rng, "scene_recall_boxes", SPACE)
        asked = e.prompt.removeprefix("Which shapes are ").removesuffix(", and where?").split(", ")
        assert len(set(asked)) == len(asked) == RECALL_ASKED
        frame = SPACE.input_size(*e.image.size)
        for colour, part in zip(asked, e.answer.split("; "), strict=True):
            drawn = sorted((s, list(b)) for c, s, b in e.objects if c == colour)
            if not drawn:
                assert part == f"{colour} is {NONE}"
                continue
            named = [
                (s, [int(v) for v in b])
                for s, *b in re.findall(r"(\w+) \[(\d+), (\d+), (\d+), (\d+)\]", part)
            ]
            assert sorted(named) == drawn and part.startswith(f"{colour} is ")
            assert all(0 <= v <= max(frame) for _, box in named for v in box)
    # the same answer with its boxes taken out is the plain recall
    plain = recall_example(random.Random(9), "scene_recall", SPACE)
    boxed = recall_example(random.Random(9), "scene_recall_boxes", SPACE)
    assert re.sub(r" \[[^]]*\]", "", boxed.answer) == plain.answer


def test_boxed_recall_is_scored_by_its_words_and_by_each_objects_box():
    gold = "red is circle [2, 2, 54, 54] and square [58, 2, 110, 54]; blue is none"
    e = Example("scene_recall_boxes", "Which shapes are red, blue, and where?", gold, blank_image())
    assert score_recall_boxes([e], [gold]) == {"scene_recall_boxes": 1.0, "scene_recall_boxes_iou50": 1.0}
    # the right words, one box on the other object: half the objects boxed right
    swapped = "red is circle [58, 2, 110, 54] and square [58, 2, 110, 54]; blue is none"
    found = score_recall_boxes([e], [swapped])
    assert found["scene_recall_boxes"] == 1.0 and found["scene_recall_boxes_iou50"] == 0.5
    # a box given in the wrong colour's place does not count
    assert (
        score_recall_boxes([e], ["red is none; blue is circle [2, 2, 54, 54]"])["scene_recall_boxes_iou50"]
        == 0
    )


def test_recall_is_scored_answer_by_answer_in_place():
    gold = "red is circle; blue is none; green is square and triangle; cyan is none"
    e = Example("scene_recall", "Which shapes are red, blue, green, cyan?", gold, blank_image())
    assert score_recall([e], [e.answer], "scene_recall") == {"scene_recall": 1.0, "scene_recall_none": 1.0}
    # one right in place, "none" given for blue only, the last two missing
    found = score_recall([e], ["red is circle;blue is none"], "scene_recall")
    assert found == {"scene_recall": 0.5, "scene_recall_none": 0.5}
    swapped = "blue is none; red is circle; green is square and triangle; cyan is none"
    assert score_recall([e], [swapped], "x") == {"x": 0.5}


def test_a_stage_accumulates_batches_to_its_own_batch(tmp_path):
    """``Stage.accumulation``: each optimizer step reads that many batches (the dense recall is
    learned at 128 rows a step; a CPU reaches it this way), and the card gives the stage's batch."""
    from mcr.tiny_model import build_tiny_model

    start = tmp_path / "init"
    build_tiny_model(start, seed=0)
    stage = Stage(
        "dense", 2, 2, 1e-3, {"look_recall": 1.0}, accumulation=3, lr_schedule="constant_with_warmup"
    )
    folder = tmp_path / "dense"
    history = train_stage(stage, start, folder, seed=0, batch_size=2, space=SPACE, report_to="none")
    args = torch.load(folder / "final" / "training_args.bin", weights_only=False)
    assert args.gradient_accumulation_steps == 3 and args.per_device_train_batch_size == 2
    assert args.lr_scheduler_type == "constant_with_warmup"
    assert history[-1]["step"] == 2
    ran = {"steps": 2, "max_objects": 2, "mix": stage.mix, "learning_rate": 1e-3, "accumulation": 3}
    record = {"stage": ran, "seconds": 6, "curve": [], "loss": [], "probes": {}}
    card = {"seed": 0, "batch_size": 2, "untrained": {}, "command": "x", "machine": "cpu"}
    card["stages"] = {"dense": record}
    assert "| dense | 2 | 6 | 1-2 | 0.001 | 0.1 |" in model_card(card)  # a card from before lr_schedule
    record["stage"]["lr_schedule"] = "constant_with_warmup"
    assert "| dense | 2 | 6 | 1-2 | 0.001 (constant with warmup) | 0.1 |" in model_card(card)


def _checks(part: str) -> tuple[str, str, str, str]:
    """A check's look, its recalled shapes and its verdict: "the red circle? red is square, so no"."""
    found = re.fullmatch(r"the (\w+) (\w+)\? (\w+) is ([\w ]+), so (yes|no)", part)
    assert found, part
    colour, shape, again, named, verdict = found.groups()
    assert again == colour
    return colour, shape, named, verdict


def test_scene_checks_answer_each_look_with_its_colours_recall_and_the_compared_verdict():
    """Read back from the pixels: each checked look gets the shapes the image draws in its colour
    ("none" when none) and "yes" exactly when its own shape is among them; a quarter or so of the
    looks are look-alikes (the colour drawn in other shapes only), which "anything drawn in the
    colour" gets wrong."""
    from mcr.benchmarks.gmner.looks import drawn_objects, shapes_in_colour

    rng = random.Random(5)
    kinds = {"drawn": 0, "look_alike": 0, "colour_absent": 0}
    for _ in range(60):
        e = check_example(rng, "scene_checks", SPACE)
        asked = e.prompt.removeprefix("Check ").removesuffix(".").split(", ")
        assert len(set(asked)) == len(asked) == RECALL_ASKED
        drawn = drawn_objects(e.image)
        for look, part in zip(asked, e.answer.split("; "), strict=True):
            colour, shape, named, verdict = _checks(part)
            assert look == f"the {colour} {shape}"
            shapes = shapes_in_colour(drawn, colour)
            assert named == (" and ".join(shapes) or NONE)
            assert verdict == (YES if shape in shapes else NO)
            kinds["drawn" if shape in shapes else "look_alike" if shapes else "colour_absent"] += 1
    total = sum(kinds.values())
    assert kinds["drawn"] / total > 0.35 and kinds["look_alike"] / total > 0.15
    assert kinds["colour_absent"] / total > 0.15 and set(kinds) == set(CHECK_KINDS)


def test_look_checks_check_looks_listed_in_words_on_a_blank_image():
    rng = random.Random(6)
    alike = 0
    for _ in range(50):
        e = check_example(rng, "look_checks", SPACE)
        listed, asked = e.prompt.removeprefix("Objects: ").split(". Check ")
        shape_of = dict(look.split(" ") for look in listed.split("; "))
        asked = asked.removesuffix(".").split(", ")
        assert 2 <= len(shape_of) <= 4 and len(set(asked)) == len(asked) == RECALL_ASKED
        for look, part in zip(asked, e.answer.split("; "), strict=True):
            colour, shape, named, verdict = _checks(part)
            assert look == f"the {colour} {shape}" and named == shape_of.get(colour, NONE)
            assert verdict == (YES if shape_of.get(colour) == shape else NO)
            alike += colour in shape_of and shape_of[colour] != shape
        assert e.image.size == (56, 56) and e.objects == ()
    assert alike > 0.15 * 50 * RECALL_ASKED


def test_checks_are_scored_by_each_verdict_in_place_and_the_look_alikes_apart():
    gold = (
        "the red circle? red is square, so no; the blue square? blue is square, so yes; "
        "the green circle? green is none, so no"
    )
    e = Example(
        "scene_checks", "Check the red circle, the blue square, the green circle.", gold, blank_image()
    )
    assert score_checks([e], [gold], "scene_checks") == {"scene_checks": 1.0, "scene_checks_alike": 1.0}
    # "shown whenever the colour is drawn": right on two of three, on no look-alike
    shortcut = gold.replace("square, so no", "square, so yes")
    assert score_checks([e], [shortcut], "x") == {"x": 2 / 3, "x_alike": 0.0}
    # a verdict out of its place, or a part without one, does not count
    assert score_checks([e], ["the blue square? blue is square, so yes"], "x") == {"x": 0.0, "x_alike": 0.0}
    assert score_checks([e], ["the red circle? red is square no"], "x") == {"x": 0.0, "x_alike": 0.0}


def test_the_checks_continuation_asks_them_densely_then_keeps_them_and_its_control_asks_recall_instead():
    """The checks first, at 8 batches a step, then the base's last mix with them kept; the control
    has the same stages with each check row a recall row of the same world (words or scene)."""
    dense, kept = SCHEDULES["checks"]()
    control = SCHEDULES["checks_control"]()
    assert dense.accumulation == 8 and dense.lr_schedule == "constant_with_warmup" and kept.accumulation == 1
    assert sum(dense.mix[t] for t in ("look_checks", "scene_checks")) > sum(dense.mix.values()) / 2
    assert set(SCENES) < set(kept.mix) and {"look_checks", "scene_checks"} < set(kept.mix)
    assert {stage.layout.name for stage in (dense, kept, *control)} == {"grid"}
    for checked, recalled in zip((dense, kept), control, strict=True):
        assert replace(checked, name="", mix={}) == replace(recalled, name="", mix={})
        assert not set(CHECK_TASKS) & set(recalled.mix)
        assert sum(checked.mix.values()) == sum(recalled.mix.values())
        assert recalled.mix["look_recall"] == checked.mix["look_recall"] + checked.mix["look_checks"]
        assert recalled.mix["scene_recall"] == checked.mix["scene_recall"] + checked.mix["scene_checks"]
    assert [s.steps for s in SCHEDULES["checks"](0.1)] == [30, 60]


def test_checks_in_shown_words_are_the_same_rows_and_stages_with_only_the_verdicts_worded_as_sft():
    """The ``_shown`` twins draw the same looks on the same images (the same seed gives the same
    rows) and answer "so shown" / "so not shown" where the checks answer "so yes" / "so no": the
    words MRSI's verdicts write after "so"; ``checks_shown`` is ``checks`` with each twin in place."""
    for task in ("look_checks", "scene_checks"):
        for seed in range(20):
            plain = check_example(random.Random(seed), task, SPACE)
            shown = check_example(random.Random(seed), f"{task}_shown", SPACE)
            assert (shown.prompt, shown.objects, shown.image.tobytes()) == (
                plain.prompt, plain.objects, plain.image.tobytes()
            )  # fmt: skip
            assert shown.answer.replace(", so not shown", ", so no").replace(", so shown", ", so yes") == (
                plain.answer
            )
            assert all(part.endswith((", so shown", ", so not shown")) for part in shown.answer.split("; "))
    for checks, shown in zip(SCHEDULES["checks"](), SCHEDULES["checks_shown"](), strict=True):
        assert replace(checks, mix={}) == replace(shown, mix={})
        renamed = {SHOWN_OF_CHECK.get(task, task): weight for task, weight in checks.mix.items()}
        assert shown.mix == renamed and not {"look_checks", "scene_checks"} & set(shown.mix)
    # scored by their own words: "not shown" for a colour drawn in other shapes is a look-alike
    gold = "the red circle? red is square, so not shown; the blue square? blue is square, so shown"
    e = Example("scene_checks_shown", "Check the red circle, the blue square.", gold, blank_image())
    assert score_checks([e], [gold], "s") == {"s": 1.0, "s_alike": 1.0}
    assert score_checks([e], [gold.replace("so not shown", "so no")], "s") == {"s": 0.5, "s_alike": 0.0}
