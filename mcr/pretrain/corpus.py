"""The tiny base's pretraining corpus: unimodal skills only, from seeds no data set uses.

Text, on synthetic posts (the GMNER generator's, drawn afresh):

* ``post``     "Write a post."                        -> a post (language modelling);
* ``repeat``   "Repeat this post: <post>"             -> the post, copied;
* ``names``    "List the names in this post: <post>"  -> "Name One | Name Two" (spans, no types);

a quarter of the posts with made-up names (words never seen before), which can only be copied;
* ``colour``   "Which colour is mentioned with <name>? <post>" -> "red" (reading the text);
* ``words``    "Repeat these words: <3-12 random words>" -> the words: copying with nothing to
  guess from, which a post's predictable phrasing otherwise lets the model put off learning.

Vision, on images of coloured shapes drawn as the GMNER generator draws them:

* ``caption``  "Describe the objects."   -> "red circle [x1, y1, x2, y2]; ..." (every object,
  top to bottom, boxes in the pixels of the image as the model sees it, as Qwen2.5-VL writes them);
* ``point``    "Where is the red circle?" -> "[x1, y1, x2, y2]", or "nowhere" when it is absent;
* ``point_far`` the same question after "Read these words: <1-60 random words>.": the box is
  written far from the image, at a distance that changes from row to row, as in the task, where
  the post and the reasoning come between the image and each box.

and on images drawn as the GMNER generator draws a post's (the looks a post names, each shown
at the task's rate and now and then twice, look-alikes sharing a colour or a shape with them,
distractors; more than four objects in about a quarter of them), its text never shown:

* ``scene_caption`` as ``caption`` ("nothing" for an image without objects);
* ``scene_point``   "Where is the red circle?" about a look the post names -> its boxes, top to
  bottom ("[..]; [..]" when drawn twice), or "nowhere" when it is not drawn (about 40%, as in
  the task, and often with a look-alike there): hard negatives that the plain ``point`` lacks.

Recall, dense: several questions a row that each need a colour joined to its shape, the skill
that a look's yes / no decision needs first (docs/results/localisation.md, findings 9-11), in the
words MRSI's ``recall`` style writes its step in ("red is square"):

* ``look_recall``  "Objects: red circle; blue square. Which shapes are blue, red, blue, red?" ->
  "blue is square; red is circle; blue is square; red is circle" (2-4 looks of distinct colours,
  four of their colours asked, on a blank image): the join in words;
* ``scene_recall`` on an image drawn as a post's, "Which shapes are red, blue, green, cyan?" ->
  "red is circle and square; blue is none; green is triangle; cyan is none": four distinct
  colours, the post's named colours always among them, each answered with every shape drawn in it
  (in the order of ``SHAPES``) or "none"; about half the answers are "none";
* ``scene_recall_boxes`` as ``scene_recall`` ("Which shapes are red, ..., and where?") with each
  drawn shape's box right after it ("red is circle [..] and square [..]; blue is none; ..."):
  the box written where the recall has just found the object by its colour, a later answer
  further from the image (bench only: the controlled runs of docs/results/localisation.md).

Checks, dense: the comparison a look's verdict needs after the recall (findings 14 and 17 of
docs/results/localisation.md: a verdict that only asks whether anything is drawn in the colour is
right for 84% of the task's lines, and SFT does not learn more). Four looks a row, each answered
with the recall of its colour and the verdict that comparing the two shapes gives, in the words
MRSI's ``recall`` style writes ("the red circle? red is square, so no"); of the asked looks half
are drawn, a quarter have look-alikes in their colour only (its other shapes), a quarter a colour
not drawn, so that "anything in the colour" is right for three in four of them at most:

* ``look_checks``  "Objects: red square; blue circle. Check the red circle, the blue circle, ..."
  -> "the red circle? red is square, so no; the blue circle? blue is circle, so yes; ..." (2-4
  looks of distinct colours listed in words, on a blank image): the comparison in words;
* ``scene_checks`` the same on an image drawn as a post's ("Check the red circle, ..."), each
  colour recalled with every shape drawn in it;
* ``look_checks_shown``, ``scene_checks_shown`` the same rows with the verdict in the words MRSI's
  verdict writes after "so" ("so shown" / "so not shown" for "so yes" / "so no").

The corpus never holds the GMNER or MATE answer format, a reasoning style, entity types, or a
post together with its image: binding the text's entities to the image's objects is what MRSI
and CVO teach. Text tasks carry a blank 56x56 image (4 visual tokens) so that every row has one.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from PIL import Image

from mcr.benchmarks.gmner.synthetic import (
    COLORS,
    LAYOUTS,
    NAME_PARTS,
    SHAPE_OF_TYPE,
    SHAPES,
    Layout,
    SynthObject,
    SynthPost,
    generate_post,
    render_image,
)
from mcr.image_space import ImageSpace, scale_box

TEXT_TASKS = ("post", "repeat", "names", "colour", "words")
# whether a named look is drawn: in the image, in words, asked before the image
EXISTS_TASKS = ("exists", "exists_text", "exists_first")
VISION_TASKS = ("caption", "point", "point_far", *EXISTS_TASKS)
FAR_WORDS = (1, 60)  # words before a point_far question: about 2 to 130 tokens
SCENE_TASKS = ("scene_caption", "scene_point")
# the plain form last: the probes of the first two stay the examples they were
RECALL_TASKS = ("look_recall", "scene_recall", "look_shapes", "scene_recall_boxes")
RECALL_ASKED = 4  # colours a recall row asks about
YES, NO = "yes", "no"
SHOWN, NOT_SHOWN = "shown", "not shown"
# each check task's verdicts (look drawn, look not drawn): "yes" / "no", or the ``_shown`` tasks'
# words, those MRSI's verdicts write after "so" ("so shown in the image at", "so not shown in ...")
CHECK_VERDICTS = {
    "look_checks": (YES, NO),
    "scene_checks": (YES, NO),
    "look_checks_shown": (SHOWN, NOT_SHOWN),
    "scene_checks_shown": (SHOWN, NOT_SHOWN),
}
CHECK_TASKS = tuple(CHECK_VERDICTS)
# what a checked look is, drawn with these chances: the look itself is drawn; its colour is drawn,
# in other shapes only (a look-alike); its colour is not drawn at all
CHECK_KINDS = {"drawn": 0.5, "look_alike": 0.25, "colour_absent": 0.25}
NOWHERE = "nowhere"
NOTHING = "nothing"
NONE = "none"
# a fixed offset from every seed the data sets use (theirs start at 0)
SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class Example:
    task: str
    prompt: str
    answer: str
    image: Image.Image
    objects: tuple[tuple[str, str, tuple[int, int, int, int]], ...] = ()  # (colour, shape, model box)
    question_first: bool = False  # the prompt's text comes before the image instead of after it


def blank_image() -> Image.Image:
    return Image.new("RGB", (56, 56), (220, 220, 220))


FREE = LAYOUTS["free"]


def draw_scene(rng: random.Random, n_objects: int, layout: Layout = FREE) -> SynthPost:
    """An image of ``n_objects`` shapes in distinct colour-shape pairs (fewer when they do not fit)."""
    size = rng.choice(layout.image_sizes)
    looks = rng.sample([(s, c) for s in SHAPES for c in COLORS], n_objects)
    taken: list[tuple[int, int, int, int]] = []
    objects = []
    for shape, color in looks:
        box = layout.place(rng, size, taken)
        if box is not None:
            objects.append(SynthObject(shape, color, box))
    return SynthPost("scene", [], [], [], objects, size)


Looks = tuple[tuple[str, str, tuple[int, int, int, int]], ...]  # (colour, shape, model box)


def box_text(box: Sequence[int]) -> str:
    """A box as the corpus writes it: "[x1, y1, x2, y2]"."""
    return "[" + ", ".join(str(v) for v in box) + "]"


def _caption(objects: Looks) -> str:
    return "; ".join(f"{color} {shape} {box_text(box)}" for color, shape, box in objects)


def vision_example(
    rng: random.Random, task: str, max_objects: int, space: ImageSpace, layout: Layout = FREE
) -> Example:
    scene = draw_scene(rng, rng.randint(1, max_objects), layout)
    image = render_image(scene, rng)
    objects = _sorted_objects(scene, space)
    if task == "caption":
        return Example(task, "Describe the objects.", _caption(objects), image, objects)
    if task == "exists":
        return _exists_example(rng, image, objects)
    if task == "exists_text":
        return exists_in_words(rng, objects)
    if task == "exists_first":  # the same question, read before the image: its tokens can see it
        return replace(_exists_example(rng, image, objects), task=task, question_first=True)
    # point_far: the question comes after a run of words, as a box in the task comes after the
    # post and the reasoning: the answer can no longer sit at one distance from the image
    before = f"Read these words: {' '.join(random_words(rng, FAR_WORDS))}. " if task == "point_far" else ""
    if rng.random() < 0.25:  # ask for a look that is not there
        present = {(c, s) for c, s, _ in objects}
        color, shape = rng.choice([(c, s) for c in COLORS for s in SHAPES if (c, s) not in present])
        return Example(task, f"{before}Where is the {color} {shape}?", NOWHERE, image, objects)
    color, shape, box = rng.choice(objects)
    return Example(task, f"{before}Where is the {color} {shape}?", box_text(box), image, objects)


def _exists_example(rng: random.Random, image: Image.Image, objects: Looks) -> Example:
    """ "Do you see the <colour> <shape>?": half about a drawn object, half about a look the image
    lacks, and half of those a near miss (its colour or its shape is drawn), so that the answer
    needs both words matched to one object: the decision "nowhere" asks for, without a box."""
    present = {(c, s) for c, s, _ in objects}
    if rng.random() < 0.5:
        color, shape, _ = rng.choice(objects)
        return Example("exists", f"Do you see the {color} {shape}?", YES, image, objects)
    absent = [(c, s) for c in COLORS for s in SHAPES if (c, s) not in present]
    near_misses = [(c, s) for c, s in absent if any(c == pc or s == ps for pc, ps in present)]
    color, shape = rng.choice(near_misses if near_misses and rng.random() < 0.5 else absent)
    return Example("exists", f"Do you see the {color} {shape}?", NO, image, objects)


def listed_looks(looks: Sequence[tuple[str, str]]) -> str:
    """Looks given in words: "Objects: red circle; blue square."."""
    return "Objects: " + "; ".join(f"{color} {shape}" for color, shape in looks) + "."


def exists_in_words(rng: random.Random, objects: Looks) -> Example:
    """``exists_text``: the ``exists`` question about the same looks, listed in words before it on
    a blank image (the control without the image)."""
    asked = _exists_example(rng, blank_image(), objects)
    listed = listed_looks([(color, shape) for color, shape, _ in objects])
    return replace(asked, task="exists_text", prompt=f"{listed} {asked.prompt}")


def _sorted_objects(scene: SynthPost, space: ImageSpace) -> Looks:
    """The scene's objects as (colour, shape, box in the model's frame), top to bottom."""
    frame = space.box_frame(space.input_size(*scene.size))
    return tuple(
        (o.color, o.shape, tuple(scale_box(o.box, scene.size, frame)))
        for o in sorted(scene.objects, key=lambda o: (o.box[1], o.box[0]))
    )


def scene_example(rng: random.Random, task: str, space: ImageSpace, layout: Layout = FREE) -> Example:
    """A ``scene_caption`` or ``scene_point`` example on an image drawn as a GMNER post's."""
    scene = generate_post(rng, "scene", layout=layout)
    image = render_image(scene, rng)
    objects = _sorted_objects(scene, space)
    if task == "scene_caption":  # a post's image may show nothing at all
        return Example(task, "Describe the objects.", _caption(objects) or NOTHING, image, objects)
    entity = rng.choice(scene.entities)
    color, shape = entity.color, SHAPE_OF_TYPE[entity.type]
    boxes = [box_text(box) for c, s, box in objects if (c, s) == (color, shape)]
    return Example(task, f"Where is the {color} {shape}?", "; ".join(boxes) or NOWHERE, image, objects)


def recalled(colour: str, shapes: Sequence[str]) -> str:
    """One recall answer, as MRSI's ``recall`` style writes its step: "red is circle and square"
    (the shapes in the order of ``SHAPES``), "red is none" when none is drawn in that colour."""
    ordered = [s for s in SHAPES if s in shapes]
    return f"{colour} is {' and '.join(ordered) or NONE}"


def recalled_with_boxes(colour: str, objects: Looks) -> str:
    """``recalled`` with each object's box after its shape: "red is circle [..] and square [..]"
    (in the order of ``SHAPES``, then top to bottom), "red is none" when none is drawn in it."""
    drawn = sorted(
        ((shape, box) for c, shape, box in objects if c == colour),
        key=lambda item: (SHAPES.index(item[0]), item[1][1], item[1][0]),
    )
    return f"{colour} is {' and '.join(f'{shape} {box_text(box)}' for shape, box in drawn) or NONE}"


def recall_example(rng: random.Random, task: str, space: ImageSpace, layout: Layout = FREE) -> Example:
    """A ``look_recall`` (looks listed in words, blank image) or ``scene_recall`` (an image drawn
    as a post's; ``scene_recall_boxes`` with each object's box) row: ``RECALL_ASKED`` colours
    asked at once, each answered with its shapes.
    ``look_shapes`` asks ``look_recall``'s looks in the plain form, each shape right after its
    colour ("blue square; red circle"): where the colour is the token the shape is predicted
    from, as in the multi-query recall the tiny model learns abruptly (docs/results/localisation.md),
    where "blue is square" needs the colour carried onto "is" first."""
    if task in ("look_recall", "look_shapes"):
        colours = rng.sample(tuple(COLORS), rng.randint(2, 4))
        looks = [(colour, rng.choice(SHAPES)) for colour in colours]
        asked = [rng.choice(colours) for _ in range(RECALL_ASKED)]
        shape_of = dict(looks)
        if task == "look_shapes":
            answer = "; ".join(f"{c} {shape_of[c]}" for c in asked)
            return Example(
                task, f"{listed_looks(looks)} Name the shapes of {', '.join(asked)}.", answer, blank_image()
            )
        answer = "; ".join(recalled(c, [shape_of[c]]) for c in asked)
        prompt = f"{listed_looks(looks)} Which shapes are {', '.join(asked)}?"
        return Example(task, prompt, answer, blank_image())
    scene = generate_post(rng, "scene", layout=layout)
    named = list(dict.fromkeys(e.color for e in scene.entities))[:RECALL_ASKED]
    others = [c for c in COLORS if c not in named]
    asked = named + rng.sample(others, RECALL_ASKED - len(named))
    rng.shuffle(asked)
    image = render_image(scene, rng)
    objects = _sorted_objects(scene, space)
    if task == "scene_recall_boxes":
        answer = "; ".join(recalled_with_boxes(c, objects) for c in asked)
        return Example(task, f"Which shapes are {', '.join(asked)}, and where?", answer, image, objects)
    answer = "; ".join(recalled(c, [o.shape for o in scene.objects if o.color == c]) for c in asked)
    return Example(task, f"Which shapes are {', '.join(asked)}?", answer, image, objects)


def checked(
    colour: str, shape: str, drawn_shapes: Sequence[str], verdicts: tuple[str, str] = (YES, NO)
) -> str:
    """One check, as MRSI's ``recall`` style writes an entity's: the look, the recall of its colour,
    and the verdict of comparing the shapes, in ``verdicts``' words (drawn, not drawn): "the red
    circle? red is square, so no" (or "so not shown")."""
    verdict = verdicts[0] if shape in drawn_shapes else verdicts[1]
    return f"the {colour} {shape}? {recalled(colour, drawn_shapes)}, so {verdict}"


def checked_looks(
    rng: random.Random, drawn: dict[str, list[str]], n: int = RECALL_ASKED
) -> list[tuple[str, str]]:
    """``n`` distinct looks to check against ``drawn`` (colour -> the shapes drawn in it), each of
    a kind drawn with ``CHECK_KINDS``' chances; a kind with no look left gives way to the others."""
    pools = {
        "drawn": [(c, s) for c, shapes in drawn.items() for s in shapes],
        "look_alike": [(c, s) for c, shapes in drawn.items() for s in SHAPES if s not in shapes],
        "colour_absent": [(c, s) for c in COLORS if c not in drawn for s in SHAPES],
    }
    asked: list[tuple[str, str]] = []
    while len(asked) < n:
        kinds = [k for k in CHECK_KINDS if any(look not in asked for look in pools[k])]
        if not kinds:
            break
        kind = rng.choices(kinds, weights=[CHECK_KINDS[k] for k in kinds])[0]
        asked.append(rng.choice([look for look in pools[kind] if look not in asked]))
    return asked


def check_example(rng: random.Random, task: str, space: ImageSpace, layout: Layout = FREE) -> Example:
    """A ``look_checks`` (looks listed in words, blank image) or ``scene_checks`` (an image drawn as
    a post's) row: ``RECALL_ASKED`` looks checked at once, each with its colour's recall; the
    ``_shown`` tasks are the same rows with the verdicts in ``CHECK_VERDICTS``' other words."""
    if task.startswith("look_checks"):
        colours = rng.sample(tuple(COLORS), rng.randint(2, 4))
        looks = [(colour, rng.choice(SHAPES)) for colour in colours]
        drawn = {colour: [shape] for colour, shape in looks}
        image, objects, listed = blank_image(), (), f"{listed_looks(looks)} "
    else:
        scene = generate_post(rng, "scene", layout=layout)
        drawn = {}
        for o in scene.objects:
            drawn.setdefault(o.color, []).append(o.shape)
        image, objects, listed = render_image(scene, rng), _sorted_objects(scene, space), ""
    asked = checked_looks(rng, drawn)
    prompt = f"{listed}Check {', '.join(f'the {c} {s}' for c, s in asked)}."
    answer = "; ".join(checked(c, s, drawn.get(c, []), CHECK_VERDICTS[task]) for c, s in asked)
    return Example(task, prompt, answer, image, objects)


_SYLLABLES = tuple(c + v for c in "bdfgklmnprstvz" for v in "aeiou")


def made_up_word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def with_made_up_names(rng: random.Random, post: SynthPost) -> tuple[list[str], list[str]]:
    """The post's words with every word of every name replaced by a made-up one, and the names."""
    tokens, names = list(post.tokens), []
    for entity in post.entities:
        words = [made_up_word(rng) for _ in entity.tokens]
        tokens[entity.start : entity.start + len(words)] = words
        names.append(" ".join(words))
    return tokens, names


def random_words(rng: random.Random, count: tuple[int, int] = (3, 12)) -> list[str]:
    """``count`` (from, to) words drawn at random: name parts of the data sets' vocabulary,
    colours, shapes, small numbers, and now and then a made-up word. Most are one token each, and
    copying runs of single tokens is where a small model learns to copy at all (a made-up word is
    4-6 tokens)."""
    pool = [*NAME_PARTS, *COLORS, *SHAPES, *(str(i) for i in range(100))]
    n = rng.randint(*count)
    return [made_up_word(rng) if rng.random() < 0.15 else rng.choice(pool) for _ in range(n)]


def text_example(rng: random.Random, task: str, made_up: float = 0.25) -> Example:
    """A text task on a synthetic post; with probability ``made_up`` its names are made-up words.

    The data sets draw names from a small vocabulary, which a model learns to guess instead of
    reading; a name it has never seen can only be copied, so some posts carry such names.
    """
    if task == "words":
        words = " ".join(random_words(rng))
        return Example(task, f"Repeat these words: {words}", words, blank_image())
    post = generate_post(rng, "p")
    if made_up and rng.random() < made_up:  # no draw at 0: the tiny tokenizer's corpus stays as it was
        tokens, names = with_made_up_names(rng, post)
    else:
        tokens, names = post.tokens, [e.text for e in post.entities]
    text = " ".join(tokens)
    if task == "post":
        return Example(task, "Write a post.", text, blank_image())
    if task == "repeat":
        return Example(task, f"Repeat this post: {text}", text, blank_image())
    if task == "names":
        return Example(task, f"List the names in this post: {text}", " | ".join(names), blank_image())
    i = rng.randrange(len(post.entities))
    return Example(
        task, f"Which colour is mentioned with {names[i]}? {text}", post.entities[i].color, blank_image()
    )


def draw_example(
    rng: random.Random,
    mix: dict[str, float],
    max_objects: int,
    space: ImageSpace,
    made_up: float = 0.25,
    layout: Layout = FREE,
) -> Example:
    """One example of a task drawn with ``mix``'s weights (``made_up``: see ``text_example``),
    images drawn as ``layout`` says."""
    names = sorted(mix)
    task = rng.choices(names, weights=[mix[n] for n in names])[0]
    if task in VISION_TASKS:
        return vision_example(rng, task, max_objects, space, layout)
    if task in SCENE_TASKS:
        return scene_example(rng, task, space, layout)
    if task in RECALL_TASKS:
        return recall_example(rng, task, space, layout)
    if task in CHECK_TASKS:
        return check_example(rng, task, space, layout)
    if task in TEXT_TASKS:
        return text_example(rng, task, made_up)
    known = TEXT_TASKS + VISION_TASKS + SCENE_TASKS + RECALL_TASKS + CHECK_TASKS
    raise ValueError(f"unknown pretraining task {task!r}; expected one of {known}")


def as_row(example: Example) -> dict[str, Any]:
    """A conversational prompt/completion row with its image, as TRL's SFTTrainer reads it."""
    content = [{"type": "image"}, {"type": "text", "text": example.prompt}]
    return {
        "prompt": [{"role": "user", "content": content[::-1] if example.question_first else content}],
        "completion": [{"role": "assistant", "content": example.answer}],
        "image": example.image,
    }


def corpus(
    n: int, seed: int, mix: dict[str, float], max_objects: int, space: ImageSpace, layout: Layout = FREE
) -> list[Example]:
    """``n`` examples; the same arguments always give the same examples."""
    rng = random.Random(SEED_OFFSET + seed)
    return [draw_example(rng, mix, max_objects, space, layout=layout) for _ in range(n)]
