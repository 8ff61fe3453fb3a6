"""The colour a box shows, read from the pixels, and the styles that name what the image shows
(visual_evidence, pointing)."""

from __future__ import annotations

import random
import re

from PIL import Image, ImageDraw

from mcr.benchmarks.gmner.looks import region_colour
from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.rows import sft_example
from mcr.benchmarks.gmner.synthetic import SHAPE_OF_TYPE, generate_post, render_image
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
