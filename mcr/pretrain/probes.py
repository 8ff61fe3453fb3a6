"""Skill probes of the tiny base, on held-out examples of its pretraining tasks, greedy.

* ``copy``         share of ``repeat`` posts copied exactly (names of the data sets' vocabulary);
* ``names``        share of ``names`` answers listing exactly the post's names, in order;
* ``copy_new``     ``copy`` on posts whose names are made up (they can only be copied, not recalled);
* ``names_new``    ``names`` on such posts;
* ``colour_shape`` share of drawn objects whose colour and shape a ``caption`` answer names;
* ``box_iou50``    share of drawn objects a ``caption`` answer names with a box of IoU > 0.5;
* ``point_iou50``  share of ``point`` questions about a drawn object answered with IoU > 0.5;
* ``point_absent`` share of ``point`` questions about a look the image lacks answered "nowhere"
  (a quarter of the trained ``point`` questions; without it ``point_iou50`` cannot tell a model
  that finds the object from one that boxes whatever it is asked for);
* ``scene_point_iou50`` share of ``scene_point`` questions about a drawn look answered with a box
  of IoU > 0.5 with one of its boxes (and no more boxes than it has): pointing on images like the
  task's, with look-alikes and often more than four objects;
* ``scene_absent``  share of ``scene_point`` questions about a named look the image lacks
  answered "nowhere";
* ``point_far_iou50`` ``point_iou50`` on ``point_far`` questions: pointing when the question
  comes 2-130 tokens after the image (a model that locates objects by their distance from the
  answer, not by what the image tokens carry, fails here).
* ``exists``       share of ``exists`` questions ("Do you see the red circle?") answered right,
  half of them about a drawn object;
* ``exists_absent`` share of those about a look the image lacks answered "no" (half of them near
  misses: its colour or its shape is drawn): matching both words to one object, with no box.
* ``exists_text``, ``exists_text_absent`` the same on ``exists_text`` questions, whose looks are
  listed in words before the question (the control: the same decision without the image);
* ``exists_first``, ``exists_first_absent`` the same on ``exists_first`` questions, asked before
  the image (its tokens can then see what is asked).
* ``look_recall``  share of ``look_recall`` answers ("blue is square", four a row) right, each in
  its place: the join of a colour with its shape in words;
* ``scene_recall`` the same on ``scene_recall`` rows (an image drawn as a post's); and
  ``scene_recall_none``, the share of its colours that the image does not draw answered "none";
* ``scene_recall_boxes`` the same on ``scene_recall_boxes`` rows with their boxes taken out, and
  ``scene_recall_boxes_iou50``, the share of the drawn objects asked about named in their
  colour's place with a box of IoU > 0.5.
* ``look_checks``  share of the looks a ``look_checks`` row checks whose verdict ("so yes" / "so
  no") is right in its place, as written after the model's own step; ``look_checks_alike``, of
  those whose colour is listed with another shape only: the looks only comparing the two shapes
  answers right;
* ``scene_checks``, ``scene_checks_alike`` the same on ``scene_checks`` rows (an image drawn as a
  post's; "alike": the colour drawn in other shapes only);
* ``look_checks_shown``, ``scene_checks_shown`` and their ``_alike`` shares: the same on the rows
  whose verdicts are "so shown" / "so not shown".
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from mcr.benchmarks.gmner.synthetic import Layout
from mcr.contract.matching import iou
from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import (
    CHECK_TASKS,
    CHECK_VERDICTS,
    EXISTS_TASKS,
    FREE,
    NO,
    NONE,
    NOWHERE,
    RECALL_TASKS,
    SEED_OFFSET,
    Example,
    as_row,
    check_example,
    recall_example,
    scene_example,
    text_example,
    vision_example,
)

_ITEM = re.compile(r"(\w+) (\w+) \[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]")
_BOX = re.compile(r"^\[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]$")
_ANY_BOX = re.compile(r"\[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]")
_ANY_BOX_SPACED = re.compile(r" \[-?\d+, -?\d+, -?\d+, -?\d+\]")
_SHAPE_BOX = re.compile(r"(\w+) \[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]")
PROBE_NAMES = (
    "copy", "names", "copy_new", "names_new", "colour_shape", "box_iou50", "point_iou50", "point_absent",
    "scene_point_iou50", "scene_absent", "point_far_iou50", "exists", "exists_absent",
    "exists_text", "exists_text_absent", "exists_first", "exists_first_absent",
    "look_recall", "scene_recall", "scene_recall_none", "look_shapes", "scene_recall_boxes",
    "scene_recall_boxes_iou50", "look_checks", "look_checks_alike", "scene_checks", "scene_checks_alike",
    "look_checks_shown", "look_checks_shown_alike", "scene_checks_shown", "scene_checks_shown_alike",
)  # fmt: skip
PROBE_SEED = 7_919  # added to the corpus offset: probe examples are never trained on


def _absent_points(
    rng: random.Random, n: int, max_objects: int, space: ImageSpace, layout: Layout
) -> list[Example]:
    """``n`` pointing questions about a look the image lacks (the corpus asks one in four)."""
    absent: list[Example] = []
    while len(absent) < n:
        example = vision_example(rng, "point", max_objects, space, layout)
        if example.answer == NOWHERE:
            absent.append(example)
    return absent


def _scene_points(
    rng: random.Random, n: int, space: ImageSpace, layout: Layout
) -> tuple[list[Example], list[Example]]:
    """``n`` ``scene_point`` questions about a drawn look and ``n`` about a look the image lacks."""
    shown: list[Example] = []
    absent: list[Example] = []
    while len(shown) < n or len(absent) < n:
        example = scene_example(rng, "scene_point", space, layout)
        pile = absent if example.answer == NOWHERE else shown
        if len(pile) < n:
            pile.append(example)
    return shown, absent


def probe_set(
    n: int, space: ImageSpace, *, max_objects: int = 4, layout: Layout = FREE, boxed_recall: bool = False
) -> dict[str, list[Example]]:
    """``n`` held-out examples of each probe, images drawn as ``layout`` says; ``scene_recall_boxes``
    (bench only, long answers) only with ``boxed_recall``."""
    rng = random.Random(SEED_OFFSET + PROBE_SEED)
    probes = {
        "repeat": [text_example(rng, "repeat", made_up=0.0) for _ in range(n)],
        "names": [text_example(rng, "names", made_up=0.0) for _ in range(n)],
        # made-up names: copying them cannot be guessed from the vocabulary
        "repeat_new": [text_example(rng, "repeat", made_up=1.0) for _ in range(n)],
        "names_new": [text_example(rng, "names", made_up=1.0) for _ in range(n)],
        "caption": [vision_example(rng, "caption", max_objects, space, layout) for _ in range(n)],
        "point": [
            e
            for e in (vision_example(rng, "point", max_objects, space, layout) for _ in range(2 * n))
            if e.answer != NOWHERE
        ][:n],
    }
    # drawn last, so that the probes above are the examples they always were
    probes["point_absent"] = _absent_points(rng, n, max_objects, space, layout)
    probes["scene_point"], probes["scene_absent"] = _scene_points(rng, n, space, layout)
    far = (vision_example(rng, "point_far", max_objects, space, layout) for _ in range(2 * n))
    probes["point_far"] = [e for e in far if e.answer != NOWHERE][:n]
    for task in EXISTS_TASKS:
        probes[task] = [vision_example(rng, task, max_objects, space, layout) for _ in range(n)]
    for task in RECALL_TASKS:
        if task != "scene_recall_boxes" or boxed_recall:  # drawn last: the others stay as they were
            probes[task] = [recall_example(rng, task, space, layout) for _ in range(n)]
    for task in CHECK_TASKS:  # drawn after the recall's: those stay the examples they were
        probes[task] = [check_example(rng, task, space, layout) for _ in range(n)]
    return probes


def caption_items(text: str) -> list[tuple[str, str, tuple[int, int, int, int]]]:
    return [(c, s, tuple(int(v) for v in box)) for c, s, *box in _ITEM.findall(text)]


def caption_hits(example: Example, answer: str) -> list[tuple[bool, bool]]:
    """For each drawn object of a caption example, in caption order: whether the answer names its
    colour and shape, and whether it does so with a box of IoU > 0.5."""
    predicted = caption_items(answer)
    hits = []
    for color, shape, box in example.objects:
        same = [p for p in predicted if (p[0], p[1]) == (color, shape)]
        boxed = any(iou(tuple(map(float, p[2])), tuple(map(float, box))) > 0.5 for p in same)
        hits.append((bool(same), boxed))
    return hits


def score_captions(examples: Sequence[Example], answers: Sequence[str]) -> dict[str, float]:
    hits = [h for e, a in zip(examples, answers, strict=True) for h in caption_hits(e, a)]
    named = sum(n for n, _ in hits)
    boxed = sum(b for _, b in hits)
    return {"colour_shape": named / max(1, len(hits)), "box_iou50": boxed / max(1, len(hits))}


def point_hit(example: Example, answer: str) -> bool:
    """Whether a pointing answer is one box of IoU > 0.5 with the example's."""
    found = _BOX.match(answer.strip())
    gold = _BOX.match(example.answer)
    if not (found and gold):
        return False
    return iou(tuple(map(float, found.groups())), tuple(map(float, gold.groups()))) > 0.5


def point_landing(example: Example, answer: str) -> str:
    """Where a pointing answer lands: on the asked object ("asked", IoU > 0.5), on another object
    of the scene ("other"), on no object ("empty"), "nowhere", or "unread" (neither a box nor
    "nowhere"). Tells a model that finds the named look from one that boxes some object."""
    text = answer.strip()
    if text == NOWHERE:
        return "nowhere"
    found = _BOX.match(text)
    if not found:
        return "unread"
    box = tuple(map(float, found.groups()))
    if point_hit(example, answer):
        return "asked"
    on_object = any(iou(box, tuple(map(float, b))) > 0.5 for _, _, b in example.objects)
    return "other" if on_object else "empty"


def score_points(examples: Sequence[Example], answers: Sequence[str]) -> float:
    hits = sum(point_hit(e, a) for e, a in zip(examples, answers, strict=True))
    return hits / max(1, len(examples))


def score_exists(
    examples: Sequence[Example], answers: Sequence[str], name: str = "exists"
) -> dict[str, float]:
    """The share answered right (``name``) and the share of absent looks answered "no"."""
    right = [a == e.answer for e, a in zip(examples, answers, strict=True)]
    absent = [r for e, r in zip(examples, right, strict=True) if e.answer == NO]
    return {name: sum(right) / max(1, len(right)), f"{name}_absent": sum(absent) / max(1, len(absent))}


def score_scene_points(examples: Sequence[Example], answers: Sequence[str]) -> float:
    """Share of answers with a box of IoU > 0.5 with one of the look's boxes and no more boxes
    than the look has (a model listing every object does not score)."""
    hits = 0
    for example, answer in zip(examples, answers, strict=True):
        found = [tuple(map(float, b)) for b in _ANY_BOX.findall(answer)]
        gold = [tuple(map(float, b)) for b in _ANY_BOX.findall(example.answer)]
        hits += 0 < len(found) <= len(gold) and any(iou(f, g) > 0.5 for f in found for g in gold)
    return hits / max(1, len(examples))


def score_recall(examples: Sequence[Example], answers: Sequence[str], name: str) -> dict[str, float]:
    """The share of asked colours answered right in their place (``name``) and, for scenes, of
    those the image does not draw answered "none" (``name``_none)."""
    right = none = asked_none = total = 0
    for example, answer in zip(examples, answers, strict=True):
        given = [part.strip() for part in answer.split(";")]
        for i, gold in enumerate(example.answer.split("; ")):
            hit = i < len(given) and given[i] == gold
            right += hit
            total += 1
            if gold.endswith(f" is {NONE}"):
                asked_none += 1
                none += hit
    found = {name: right / max(1, total)}
    if name == "scene_recall":
        found[f"{name}_none"] = none / max(1, asked_none)
    return found


def score_recall_boxes(examples: Sequence[Example], answers: Sequence[str]) -> dict[str, float]:
    """``score_recall`` on the answers with their boxes taken out, and the share of the drawn
    objects asked about whose shape is named in its colour's place with a box of IoU > 0.5
    (``scene_recall_boxes_iou50``; each named box counts for one object at most)."""
    found = score_recall(
        [replace(e, answer=_ANY_BOX_SPACED.sub("", e.answer)) for e in examples],
        [_ANY_BOX_SPACED.sub("", a) for a in answers],
        "scene_recall_boxes",
    )
    hits = objects = 0
    for example, answer in zip(examples, answers, strict=True):
        given = [part.strip() for part in answer.split(";")]
        for i, gold in enumerate(example.answer.split("; ")):
            named = _SHAPE_BOX.findall(given[i]) if i < len(given) else []
            for shape, *box in _SHAPE_BOX.findall(gold):
                objects += 1
                for j, (other, *guess) in enumerate(named):
                    if other == shape and iou(tuple(map(float, box)), tuple(map(float, guess))) > 0.5:
                        hits += 1
                        del named[j]
                        break
    return {**found, "scene_recall_boxes_iou50": hits / max(1, objects)}


def score_checks(examples: Sequence[Example], answers: Sequence[str], name: str) -> dict[str, float]:
    """The share of checked looks whose verdict is right in its place (``name``), and of those whose
    colour is drawn in other shapes only (``name``_alike: "red is square, so no" for the red circle)."""
    right = alike = alike_right = total = 0
    for example, answer in zip(examples, answers, strict=True):
        given = [part.strip() for part in answer.split(";")]
        for i, gold in enumerate(example.answer.split("; ")):
            step, verdict = gold.rsplit(", so ", 1)
            hit = i < len(given) and given[i].rsplit(", so ", 1)[-1] == verdict and ", so " in given[i]
            right += hit
            total += 1
            if verdict == CHECK_VERDICTS[example.task][1] and not step.endswith(f" is {NONE}"):
                alike += 1
                alike_right += hit
    return {name: right / max(1, total), f"{name}_alike": alike_right / max(1, alike)}


def run_probes(
    model: Any, processor: Any, probes: dict[str, list[Example]], *, batch_size: int = 16
) -> dict[str, float]:
    """The figures of the probe sets in ``probes`` (all of ``probe_set``'s, or some of them)."""
    from mcr.eval.generate import generate

    answers = {
        name: [
            text.strip()
            for text in generate(
                model, processor, [as_row(e) for e in examples], batch_size=batch_size, max_new_tokens=160,
                desc=f"probe {name}",
            )
        ]
        for name, examples in probes.items()
    }  # fmt: skip

    def exact(task: str) -> float:
        pairs = zip(answers[task], probes[task], strict=True)
        return sum(a == e.answer for a, e in pairs) / len(probes[task])

    scorers = {  # probe set -> its figures
        "repeat": lambda: {"copy": exact("repeat")},
        "names": lambda: {"names": exact("names")},
        "repeat_new": lambda: {"copy_new": exact("repeat_new")},
        "names_new": lambda: {"names_new": exact("names_new")},
        "caption": lambda: score_captions(probes["caption"], answers["caption"]),
        "point": lambda: {"point_iou50": score_points(probes["point"], answers["point"])},
        "point_absent": lambda: {"point_absent": exact("point_absent")},  # every answer is NOWHERE
        "scene_point": lambda: {
            "scene_point_iou50": score_scene_points(probes["scene_point"], answers["scene_point"])
        },
        "scene_absent": lambda: {"scene_absent": exact("scene_absent")},
        "point_far": lambda: {"point_far_iou50": score_points(probes["point_far"], answers["point_far"])},
        **{task: lambda task=task: score_exists(probes[task], answers[task], task) for task in EXISTS_TASKS},
        **{
            task: lambda task=task: score_recall(probes[task], answers[task], task)
            for task in RECALL_TASKS
            if task != "scene_recall_boxes"
        },
        **{task: lambda task=task: score_checks(probes[task], answers[task], task) for task in CHECK_TASKS},
        "scene_recall_boxes": lambda: score_recall_boxes(
            probes["scene_recall_boxes"], answers["scene_recall_boxes"]
        ),
    }
    found: dict[str, float] = {}
    for name in probes:
        found.update(scorers[name]())
    return {k: found[k] for k in PROBE_NAMES if k in found}
