"""The colour a box shows and the objects an image draws, read from the pixels, and the styles
that name what the image shows (visual_evidence, pointing, recall)."""

from __future__ import annotations

import io
import random
import re

import pytest
from PIL import Image, ImageDraw

from mcr.benchmarks.gmner.looks import drawn_objects, region_colour, shapes_in_colour
from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.rows import sft_example
from mcr.benchmarks.gmner.synthetic import LAYOUTS, SHAPE_OF_TYPE, SHAPES, generate_post, render_image
from mcr.image_space import ImageSpace


def test_the_colour_of_every_drawn_object_is_read_back():
    rng = random.Random(11)
    objects = 0
    for i in range(60):
        post = generate_post(rng, f"p{i}")
        image = render_image(post, rng)
        for o in post.objects:  # look-alikes and distractors included
            assert region_colour(image, o.box, image.size) == o.color, (post.id, o)
            objects += 1
    assert objects > 100


def test_the_background_is_not_the_regions_colour_and_boxes_scale_from_their_own_frame():
    image = Image.new("RGB", (400, 300), (250, 250, 250))
    ImageDraw.Draw(image).ellipse((100, 100, 199, 199), fill=(235, 140, 180))
    # the box in a frame half the image's size; the circle leaves white corners in it
    assert region_colour(image, (50, 50, 100, 100), (200, 150)) == "pink"
    assert region_colour(image, (0, 0, 40, 30), (400, 300)) == "white"  # only background there
    assert region_colour(image, (10, 10, 10, 40), (400, 300)) is None  # no pixel inside


@pytest.mark.parametrize("layout", ["free", "grid"])
def test_every_drawn_object_is_read_back_with_its_shape_and_box_through_jpeg(layout):
    """Look-alikes and distractors included, from the JPEG files the release writes: the same
    objects, colour and shape exact, each box within 2 pixels."""
    rng = random.Random(5)
    objects = 0
    for i in range(80):
        post = generate_post(rng, f"p{i}", layout=LAYOUTS[layout])
        saved = io.BytesIO()
        render_image(post, rng).save(saved, format="JPEG", quality=95)
        read = drawn_objects(Image.open(saved))
        assert sorted((o.colour, o.shape) for o in read) == sorted((o.color, o.shape) for o in post.objects)
        for o in post.objects:
            near = [r for r in read if (r.colour, r.shape) == (o.color, o.shape)
                    and max(abs(a - b) for a, b in zip(r.box, o.box, strict=True)) <= 2]  # fmt: skip
            assert len(near) == 1, (post.id, o, read)
        objects += len(post.objects)
    assert objects > 150


def test_shapes_in_a_colour_are_named_once_each_in_the_worlds_order():
    image = Image.new("RGB", (300, 100), (230, 230, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse((10, 10, 59, 59), fill=(220, 30, 30))  # red circle
    draw.rectangle((70, 10, 119, 59), fill=(220, 30, 30))  # red square
    draw.rectangle((130, 10, 179, 59), fill=(220, 30, 30))  # a second red square
    draw.polygon([(215, 10), (190, 59), (240, 59)], fill=(30, 60, 220))  # blue triangle
    objects = drawn_objects(image)
    assert [(o.colour, o.shape) for o in objects] == [
        ("red", "circle"), ("red", "square"), ("red", "square"), ("blue", "triangle")
    ]  # fmt: skip
    assert shapes_in_colour(objects, "red") == [s for s in SHAPES if s in ("circle", "square")]
    assert shapes_in_colour(objects, "green") == []


def test_the_recall_style_states_the_shapes_the_image_draws_in_the_entitys_colour(synth_root):
    """Per entity: its look, then the shapes the image draws in the look's colour ("none" when it
    draws none), then the verdict, which follows from those two words: shown exactly when the
    entity's shape is among them (the world draws no unshown entity's look)."""
    records = load_twitter_gmner(synth_root, "train", images=synth_root / "images")
    space = ImageSpace(3136, 50176)
    lines = none = look_alikes = 0
    for record in records:
        think = sft_example(record, "recall", space)["completion"][0]["content"]
        with Image.open(record.images[0]) as image:
            objects = drawn_objects(image)
        for e in record.entities:
            line = next(line for line in think.splitlines() if line.startswith(f"{e.text} ({e.type}):"))
            step = r".*: the (\w+) (\w+)\? (\w+) is ([\w ]+), so (not )?shown in the image.*"
            found = re.fullmatch(step, line)
            assert found, line
            colour, shape, again, drawn, hidden = found.groups()
            assert shape == SHAPE_OF_TYPE[e.type] and again == colour and colour in record.text.split()
            shapes = [] if drawn == "none" else drawn.split(" and ")
            drawn_looks = {(d.colour, d.shape) for d in objects}
            assert shapes == [s for s in SHAPES if (colour, s) in drawn_looks]
            assert (shape in shapes) == bool(e.boxes) == (hidden is None), line
            lines += 1
            none += drawn == "none"
            look_alikes += bool(shapes) and shape not in shapes
    assert lines > 40 and none > 5 and look_alikes > 2


def test_the_recall_style_states_the_verdict_alone_when_the_post_names_no_colour():
    from mcr.prompts import render_style

    messi = {"text": "Messi", "type": "PER", "shown": False, "box": None, "colour": None,
             "shape": "circle", "drawn_in_colour": None}  # fmt: skip
    think = render_style("gmner", "recall", text="Messi scores", entities=[messi])
    assert think == "Messi (PER): not shown in the image, box null."


def test_the_visual_evidence_style_names_the_colour_the_post_mentions(synth_root):
    """In the synthetic posts a shown entity is drawn in the colour the text mentions next to it:
    the style's look for the entity is that word, read from the image alone."""
    records = load_twitter_gmner(synth_root, "train", images=synth_root / "images")
    named = 0
    for record in records:
        think = sft_example(record, "visual_evidence", ImageSpace(3136, 50176))["completion"][0]["content"]
        for e in record.entities:
            line = next(line for line in think.splitlines() if line.startswith(f"{e.text} ({e.type}):"))
            found = re.search(r"as the (\w+) object at \[", line)
            assert bool(found) == bool(e.boxes), line
            if found:
                words = record.text.split()
                start = record.text[: record.text.index(e.text)].count(" ")
                near = words[max(0, start - 4) : start + len(e.text.split()) + 4]
                assert found.group(1) in near, (line, record.text)
                named += 1
    assert named > 20


def test_the_pointing_style_asks_for_the_look_of_each_entity_and_answers_from_the_image(synth_root):
    """Per entity: "Where is the <colour> <shape>?" with the colour the post mentions and the
    shape of the entity's type, answered with the entity's own box or "nowhere"; for a shown
    entity that look is what the image has at its box."""
    records = load_twitter_gmner(synth_root, "train", images=synth_root / "images")
    space = ImageSpace(3136, 50176)
    asked = shown = 0
    for record in records:
        row = sft_example(record, "pointing", space)
        think = row["completion"][0]["content"]
        for e in record.entities:
            line = next(line for line in think.splitlines() if line.startswith(f"{e.text} ({e.type}):"))
            found = re.search(r"Where is the (\w+) (\w+)\? (nowhere|\[[\d, ]+\])", line)
            assert found, line
            colour, shape, answer = found.groups()
            assert shape == SHAPE_OF_TYPE[e.type] and colour in record.text.split(), line
            assert (answer == "nowhere") == (not e.boxes), line
            asked += 1
            if e.boxes:
                with Image.open(record.images[0]) as image:
                    assert region_colour(image, e.boxes[0], image.size) == colour, line
                shown += 1
    assert asked > 40 and shown > 20


def test_the_pointing_style_asks_for_the_entity_by_name_when_the_post_names_no_colour():
    from mcr.prompts import render_style

    messi = {
        "text": "Messi",
        "type": "PER",
        "shown": True,
        "box": [1, 2, 30, 40],
        "colour": None,
        "shape": "circle",
    }
    think = render_style("gmner", "pointing", text="Messi scores", entities=[messi])
    assert think == "Messi (PER): Where is Messi? [1, 2, 30, 40], so it is shown."
