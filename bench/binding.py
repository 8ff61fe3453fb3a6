"""Does the tiny language model learn to match two things by their content?

    python bench/binding.py          # control, member, exists, recall x random, mimetic, base; 2,000 steps
    python bench/binding.py --tasks member --inits random mimetic --seeds 0 1 2
    python bench/binding.py --tasks exists --inits mimetic --first member --first-steps 1500
    python bench/binding.py --tasks seen_exists_crossed --inits mimetic --batch 128 --lr 2e-3 \
        --first repeat seen_repeat --first-steps 1000 400     # the pair in words, then images
    python bench/binding.py --tasks seen_reasoned seen_checks --inits mimetic --batch 128 --lr 2e-3 \
        --first repeat seen_repeat --first-steps 1000 400 --reuse-first --steps 1200 --every 200

Grounding a named look needs a comparison: the question's words against what each image token
shows. This bench asks the same of the language model alone, in words, where nothing about images
or positions can be in the way, on lists of 1-4 of the synthetic world's looks ("Objects: red
circle; blue square."):

* ``control``  "Do you see <colour>?" -> yes for four fixed colours: the answer is in the question
  (every model should learn it at once; it checks the loop);
* ``member``   "Do you see <colour>?" -> whether that word is in the list: one token matched with
  itself;
* ``exists``   "Do you see the <colour> <shape>?" -> whether that pair is listed (half absent, half
  of those near misses): the corpus's ``exists_text`` without its blank image;
* ``crossed``  the same question, the absent looks made of a listed colour and a listed shape
  (2-4 looks): a model that checks the two words separately says "yes" to all of them and is
  right only on the drawn ones (0.59 of the held-out lists). Measured beside ``exists``, and
  trained as a task of its own: about one absent look in ten that ``exists`` asks about is
  crossed, so finding the two words anywhere is nearly always right there;
* ``exists_crossed``  each question drawn from ``exists`` or ``crossed`` with equal chance: the
  two words found anywhere are right on ``exists``'s questions (a first step to learn) and wrong on
  every crossed absent look (which then pays for the pair);
* ``recall``   "Which colour is the <shape>?" (shapes distinct) -> the colour listed with it;
* ``repeat``   dense: 2-4 looks (colours distinct), then four of their colours again, each
  followed by its shape, the loss on every such shape ("... Again: blue [square]; red [circle];
  ..."): four questions a list that each need the pair, where the others answer one.

The ``seen_`` tasks ask the same about an image instead of a list, the step grounding takes:
``seen_exists``, ``seen_crossed``, ``seen_exists_crossed`` ("<image> Do you see the red
circle?") and the dense ``seen_repeat`` ("<image> Shapes: blue [square]; red [circle]; ...",
colours distinct, each shape the one drawn in its colour) and the dense ``seen_checks``
("<image> Checks: red circle? [yes]; blue circle? [no]; ...", four an image: drawn, crossed or
absent looks), and ``seen_reasoned``, the same images and questions with a step before each answer
that recalls the shapes drawn in the named colour ("red circle? red is [square], [no]"; "none"
when none is): the decision then compares two words of the text. The images are the synthetic
world's shapes on one 112x112 grid of four 56-pixel cells (``PICTURE``: each object on 2x2 of the
16 visual tokens, so every token shows one object's colour and a part of its shape): a visual
token already joins a colour with its shape, so what a crossed look asks of the model is the
join of the question's two words, matched against the image's tokens.

Inits: ``random`` (``mcr.pretrain.run.BASE_SPEC`` from random weights), ``mimetic`` (the same with
``mimetic_attention=4``: each key-value group's first query head starts as its key head),
``base`` (the shipped base), and two reference architectures of the language model's size from
random weights: ``qwen2`` (Qwen2 with its own RoPE) and ``gpt2`` (learned absolute positions).

``--spec FIELD=VALUE`` changes a field of ``TinySpec`` for the fresh inits (``random``,
``mimetic``): ``--spec previous_token_attention=8`` adds a previous-token head to the first layer
(``previous_token_copy=1`` starts it copying the token before),
``--spec final_norm_gain=1`` starts the output's scale at 1.

``--one-token`` writes every look as one word that the tokenizer keeps whole ("Objects: Marla;
Tobin. Do you see the Kesia?"): the same questions, with the colour bound to its shape by the
tokenizer, the control for whether joining two tokens is what a pair needs.

``--reuse-first`` keeps each model after its ``--first`` tasks (under ``OUT/first``, named by the
tasks, steps and settings) and starts later runs with the same ones from it.

``--mix TASK`` draws half of each step's examples from TASK (measured beside the run's own).

``--first TASK [TASK ...]`` trains each model on those tasks in turn, ``--first-steps`` each (one
count for all, or one a task), before its own task (a curriculum: one word matched before two;
the pair in words before images); ``--first-one-token`` writes those tasks' looks
as one token each (the comparison learned first, the join of two tokens left to learn after).

Training is the loss on the answer's first token (on every trained token of a dense task),
AdamW at ``--lr``, batch ``--batch``, fp32, in a plain loop (on two cores: about 60 ms a step of
16 lists, 0.4 s of 128, 1 s of 128 images); accuracy is greedy, of the answers' trained tokens,
on 512 held-out lists or images (``--held-out``), each read after the gold text before it; ``steps``, where a
task has them, the same of its steps; ``written`` (``seen_checks``, ``seen_reasoned``), of the
answers again, with every trained token before them written by the model itself, as generated
(and so are the questions measured beside them: ``seen_checks_crossed`` and
``seen_reasoned_crossed`` ask crossed looks only).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from PIL import Image

from mcr.benchmarks.gmner.synthetic import COLORS, SHAPES, Layout, SynthObject, SynthPost, render_image
from mcr.pretrain.corpus import NO, YES, exists_in_words, listed_looks

ROOT = Path(__file__).resolve().parent.parent
WORDS_TASKS = ("control", "member", "exists", "crossed", "exists_crossed", "recall", "repeat")
SEEN_TASKS = (
    "seen_exists", "seen_crossed", "seen_exists_crossed", "seen_repeat", "seen_checks", "seen_reasoned",
    "seen_checks_crossed", "seen_reasoned_crossed",
)  # fmt: skip
TASKS = WORDS_TASKS + SEEN_TASKS
DEFAULT_TASKS = ("control", "member", "exists", "recall")
# held-out questions measured beside a task's own: "crossed" tells matching the pair from
# finding its two words anywhere in the list, which answers every crossed look "yes"
ALSO_MEASURED = {"exists": ("crossed",), "crossed": ("exists",), "exists_crossed": ("exists", "crossed")}
ALSO_MEASURED |= {f"seen_{task}": tuple(f"seen_{t}" for t in also) for task, also in ALSO_MEASURED.items()}
# the dense checks against the one-answer questions they are meant to teach
ALSO_MEASURED["seen_checks"] = ("seen_exists_crossed", "seen_crossed", "seen_checks_crossed")
ALSO_MEASURED["seen_reasoned"] = ("seen_reasoned_crossed",)
# tasks whose answers follow the model's own written steps: measured as generated too (``written``)
WRITTEN = ("seen_checks", "seen_reasoned")
INITS = ("random", "mimetic", "base", "qwen2", "gpt2")
WORDS_ONLY = ("qwen2", "gpt2")  # language models alone: no seen_ task
# what each fresh init of the base's architecture changes in BASE_SPEC (``--spec`` adds more)
FRESH = {"random": {}, "mimetic": {"mimetic_attention": 4.0}}
CONTROL_YES = ("red", "blue", "green", "yellow")
LOOKS = [(c, s) for c in COLORS for s in SHAPES]
# ``--one-token``: each look written as one word that the base's tokenizer keeps whole (names of
# the synthetic posts), so the colour and its shape arrive bound in one token
LOOK_WORDS = dict(zip(LOOKS, (
    "Marla", "Tobin", "Kesia", "Arvo", "Lune", "Dario", "Fenna", "Ossian", "Prue", "Halvar",
    "Voss", "Kettle", "Marsh", "Ilves", "Brand", "Okafor", "Lindqvist", "Sato", "Perrin", "Haldane",
    "Nordbank", "Falcon", "Helix", "Ridge", "Atlas", "Cobalt", "Ember", "Granite", "Harbor", "Ivory",
    "Kelby", "Tarn",
), strict=True))  # fmt: skip


def one_token_looks(prompt: str) -> str:
    """``prompt`` with every "<colour> <shape>" written as its look's one word."""
    for (color, shape), word in LOOK_WORDS.items():
        prompt = prompt.replace(f"{color} {shape}", word)
    return prompt


# a dense example: text pieces, each trained (True), not (False) or a STEP: a piece the model is
# trained to write on the way to an answer ("red is [square]"), scored only as a step
STEP = "step"
Segments = list[tuple[str, bool | str]]
Example = tuple[str, str] | Segments  # a (prompt, answer word) pair or a dense example


def ask(rng: random.Random, task: str, max_objects: int = 4) -> tuple[list[tuple[str, str]], str, str]:
    """(the looks, the question about them, its answer word) of a question task: the words tasks
    write the looks as a list before the question, the ``seen_`` ones draw them."""
    n = rng.randint(1, max_objects)
    if task == "recall":
        looks = [(rng.choice(list(COLORS)), s) for s in rng.sample(list(SHAPES), n)]
        color, shape = rng.choice(looks)
        return looks, f"Which colour is the {shape}?", color
    looks = rng.sample(LOOKS, n)
    if task == "control":
        word = rng.choice(list(COLORS))
        return looks, f"Do you see {word}?", YES if word in CONTROL_YES else NO
    if task == "member":
        drawn = {c for c, _ in looks}
        if rng.random() < 0.5:
            return looks, f"Do you see {rng.choice(sorted(drawn))}?", YES
        return looks, f"Do you see {rng.choice([c for c in COLORS if c not in drawn])}?", NO
    if task == "crossed":  # exists, its absent looks made of a listed colour and a listed shape
        looks = rng.sample(LOOKS, max(2, n))
        crossed = [(c, s) for c, _ in looks for _, s in looks if (c, s) not in looks]
        if not crossed or rng.random() < 0.5:
            color, shape = rng.choice(looks)
            return looks, f"Do you see the {color} {shape}?", YES
        color, shape = rng.choice(crossed)
        return looks, f"Do you see the {color} {shape}?", NO
    if task == "exists_crossed":
        return ask(rng, "crossed" if rng.random() < 0.5 else "exists", max_objects)
    if task == "exists":  # the corpus's own question, on looks with no boxes
        asked = exists_in_words(rng, tuple((c, s, ()) for c, s in looks))
        return looks, asked.prompt.removeprefix(f"{listed_looks(looks)} "), asked.answer
    raise ValueError(f"unknown task {task!r}; known: {', '.join(TASKS)}")


def question(rng: random.Random, task: str, max_objects: int = 4, one_token: bool = False) -> tuple[str, str]:
    """A (prompt, answer word) pair of ``task`` on a list of 1 to ``max_objects`` looks; with
    ``one_token``, each look is written as one word (``LOOK_WORDS``)."""
    looks, asked, answer = ask(rng, task, max_objects)
    prompt = f"{listed_looks(looks)} {asked}"
    return (one_token_looks(prompt) if one_token else prompt), answer


def build_model(init: str, seed: int, work: Path, spec: dict | None = None):
    """(model, tokenizer) for ``init``: every one uses the shipped base's tokenizer; ``spec``
    changes fields of the fresh inits' ``TinySpec``."""
    import torch
    import transformers

    from mcr.pretrain.run import BASE_SPEC
    from mcr.shipped import resolve_model_path
    from mcr.tiny_model import build_tiny_model

    base = resolve_model_path("mcr:tiny-base")
    tokenizer = transformers.AutoTokenizer.from_pretrained(base)
    torch.manual_seed(seed)
    if spec and init not in FRESH:
        raise ValueError(f"--spec changes the fresh inits ({', '.join(FRESH)}), not {init!r}")
    if init == "base":
        path = base
    elif init in FRESH:
        fields = {**FRESH[init], **(spec or {})}
        path = build_tiny_model(work / f"{init}-{seed}", seed=seed, spec=replace(BASE_SPEC, **fields))
    elif init == "qwen2":
        config = transformers.Qwen2Config(
            vocab_size=len(tokenizer), hidden_size=128, intermediate_size=384, num_hidden_layers=4,
            num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True,
        )  # fmt: skip
        return transformers.Qwen2ForCausalLM(config), tokenizer
    elif init == "gpt2":
        config = transformers.GPT2Config(
            vocab_size=len(tokenizer), n_embd=128, n_layer=4, n_head=4, n_positions=256
        )
        return transformers.GPT2LMHeadModel(config), tokenizer
    else:
        raise ValueError(f"unknown init {init!r}; known: {', '.join(INITS)}")
    model = transformers.AutoModelForImageTextToText.from_pretrained(path, dtype=torch.float32)
    # a fresh model of another seed comes with its own tokenizer, whose image tokens have other
    # ids: every run reads the base's, so the model is told the base's
    for name, token in zip(("vision_start", "image", "vision_end"), VISION_TOKENS, strict=True):
        setattr(model.config, f"{name}_token_id", tokenizer.convert_tokens_to_ids(token))
    return model, tokenizer


def _again(rng: random.Random, max_objects: int) -> tuple[list[tuple[str, str]], Segments]:
    """2 or more looks (colours distinct) and the segments that ask for each of four of their
    colours drawn again with replacement: the colour untrained, its shape trained."""
    n = rng.randint(2, max(2, max_objects))  # one look would need no pair
    looks = [(color, rng.choice(list(SHAPES))) for color in rng.sample(list(COLORS), n)]
    again = [rng.choice(looks) for _ in range(4)]
    pieces: Segments = []
    for i, (color, shape) in enumerate(again):
        pieces += [(f" {color}", False), (f" {shape}", True), (";" if i < len(again) - 1 else ".", False)]
    return looks, pieces


def repeat(rng: random.Random, max_objects: int = 4, one_token: bool = False) -> Segments:
    """``repeat``: a list of 2 or more looks (colours distinct), then four of its colours drawn
    again with replacement, each followed by its shape, the loss on each of those shapes
    ("Objects: red circle; blue square. Again: blue [square]; red [circle]; blue [square]; red
    [circle]."). The colours go untrained; each shape is the one listed after its colour, so every
    one is a question whose answer needs the pair (drawn with replacement, so that the shapes not
    yet written do not give it away)."""
    if one_token:  # written as one word, a look leaves no shape to ask for after its colour
        raise ValueError("repeat asks for the shape after its colour: it has no one-token form")
    looks, pieces = _again(rng, max_objects)
    return [(f"{listed_looks(looks)} Again:", False), *pieces]


@dataclass(frozen=True)
class Pictured:
    """An example about an image: the image's visual tokens first, then ``example``'s text."""

    image: Image.Image
    example: tuple[str, str] | Segments


# the seen_ tasks' world: one 112x112 size, cells of 2x2 visual tokens (4 cells: up to 4 objects,
# 16 visual tokens), so that each visual token shows one object's colour and a part of its shape
PICTURE = Layout("binding", ((112, 112),), cell=56)


def picture(rng: random.Random, looks: list[tuple[str, str]]) -> Image.Image:
    """The looks drawn as the synthetic world draws them, each in a free cell of ``PICTURE``."""
    size, taken = PICTURE.image_sizes[0], []
    cells = (size[0] // PICTURE.cell) * (size[1] // PICTURE.cell)
    if len(looks) > cells:
        raise ValueError(
            f"{len(looks)} looks do not fit the {cells} cells of a seen_ image: --max-objects {cells} at most"
        )
    objects = [SynthObject(shape, color, PICTURE.place(rng, size, taken)) for color, shape in looks]
    return render_image(SynthPost("scene", [], [], [], objects, size), rng)


def seen(rng: random.Random, task: str, max_objects: int = 4) -> Pictured:
    """``seen_<task>``: ``task``'s question asked about an image of its looks instead of a list
    ("<image> Do you see the red circle?"; ``seen_repeat``: "<image> Shapes: blue [square]; red
    [circle]; ...", each shape the one drawn in its colour; ``seen_checks``: ``checks``)."""
    if task == "repeat":
        looks, pieces = _again(rng, max_objects)
        return Pictured(picture(rng, looks), [("Shapes:", False), *pieces])
    if task.removesuffix("_crossed") in ("checks", "reasoned"):
        reasoned, crossed = task.startswith("reasoned"), task.endswith("_crossed")
        return checks(rng, max_objects, reasoned=reasoned, crossed=crossed)
    looks, asked, answer = ask(rng, task, max_objects)
    return Pictured(picture(rng, looks), (asked, answer))


def checks(
    rng: random.Random, max_objects: int = 4, reasoned: bool = False, crossed: bool = False
) -> Pictured:
    """``seen_checks``: four yes / no questions about one image of 2 or more looks, each answer
    trained ("<image> Checks: red circle? [yes]; blue circle? [no]; ..."): a drawn look half the
    time, a crossed one (a drawn colour with a drawn shape) a quarter, any absent one the rest:
    the pair's decision asked four times an image, as ``repeat`` asks its recall.

    ``reasoned`` (``seen_reasoned``): the same images and questions, each answer after a step that
    recalls the shapes drawn in the named colour, or "none" ("red circle? red is [square], [no]"),
    as MRSI's visual-entailment step reads the image before it decides: the decision left is
    two words of the text compared.

    ``crossed`` (``seen_checks_crossed``, ``seen_reasoned_crossed``, measured beside them): every
    look asked is crossed, every answer "no", on images drawn until they have a crossed look."""
    looks, crossed_looks = [], []
    while not crossed_looks:
        looks = rng.sample(LOOKS, rng.randint(2, max(2, max_objects)))
        crossed_looks = [(c, s) for c, _ in looks for _, s in looks if (c, s) not in looks]
        if not crossed:  # the checks' own draw: one image, crossed looks asked where it has any
            break
    absent = [look for look in LOOKS if look not in looks]
    # the shapes drawn in each colour, in SHAPES' order ("circle and square" when two are)
    drawn_in = {c: " and ".join(s for s in SHAPES if (c, s) in looks) for c, _ in looks}
    pieces: Segments = [("Checks:", False)]
    for i in range(4):
        chance = rng.random()
        kind = looks if chance < 0.5 else crossed_looks if chance < 0.75 and crossed_looks else absent
        kind = crossed_looks if crossed else kind
        color, shape = rng.choice(kind)
        answer = YES if kind is looks else NO
        pieces.append((f" {color} {shape}?", False))
        if reasoned:
            pieces += [(f" {color} is", False), (f" {drawn_in.get(color, 'none')}", STEP), (",", False)]
        pieces += [(f" {answer}", True), (";" if i < 3 else ".", False)]
    return Pictured(picture(rng, looks), pieces)


DENSE = {"repeat": repeat}  # tasks trained on several tokens of each example


def draw_example(rng: random.Random, task: str, max_objects: int = 4, one_token: bool = False):
    """One example of ``task``: a (prompt, answer word) pair, the segments of a dense task, or
    either about an image (``Pictured``)."""
    if task in SEEN_TASKS:
        if one_token:
            raise ValueError(f"{task} asks about an image: it has no one-token form")
        return seen(rng, task.removeprefix("seen_"), max_objects)
    if task in DENSE:
        return DENSE[task](rng, max_objects, one_token)
    return question(rng, task, max_objects, one_token)


@cache
def image_processor():
    """The shipped base's image processor: 14-pixel patches, 2x2 of them a visual token."""
    import transformers

    from mcr.shipped import resolve_model_path

    return transformers.AutoProcessor.from_pretrained(resolve_model_path("mcr:tiny-base")).image_processor


VISION_TOKENS = ["<|vision_start|>", "<|image_pad|>", "<|vision_end|>"]  # an image's, as Qwen2.5-VL reads it


class Batch(NamedTuple):
    ids: Any  # right-padded token ids
    mask: Any
    read: tuple[Any, Any]  # (rows, positions) where the loss is read: each predicts the next token
    targets: Any  # the tokens it is read against
    images: dict[str, Any]  # pixel_values and image_grid_thw of the pictured rows, or nothing
    answers: Any  # of the read tokens, those of answers (the rest: STEP pieces)


def encode(tokenizer, examples: list[Example | Pictured]) -> Batch:
    """The examples as a ``Batch``. A (prompt, answer) pair is trained on the answer's first
    token, read at the prompt's last; a dense example's segments on every token of each trained
    one; a pictured one's text comes after its image's visual tokens, as Qwen2.5-VL reads them."""
    import torch

    pictured = [e for e in examples if isinstance(e, Pictured)]
    images: dict[str, Any] = {}
    visual_tokens: list[int] = []
    if pictured:
        processor = image_processor()
        images = dict(processor(images=[e.image for e in pictured], return_tensors="pt"))
        merged = processor.merge_size**2
        visual_tokens = [int(grid.prod()) // merged for grid in images["image_grid_thw"]]
        start, pad, end = tokenizer.convert_tokens_to_ids(VISION_TOKENS)
    ids_of, read = [], []  # read: (row, position, target, an answer's) of every trained token
    for row, example in enumerate(examples):
        ids: list[int] = []
        if isinstance(example, Pictured):
            ids, example = [start, *[pad] * visual_tokens.pop(0), end], example.example
        if isinstance(example, tuple):  # (prompt, answer): the answer's first token
            ids += tokenizer(example[0])["input_ids"]
            ids_of.append(ids)
            read.append((row, len(ids) - 1, tokenizer(" " + example[1])["input_ids"][0], True))
            continue
        for text, trained in example:
            piece = tokenizer(text)["input_ids"]
            if trained:
                answer = trained is not STEP
                read += [(row, len(ids) + offset - 1, token, answer) for offset, token in enumerate(piece)]
            ids += piece
        ids_of.append(ids)
    rows, positions, targets, answers = (torch.tensor(column) for column in zip(*read, strict=True))
    width = max(map(len, ids_of))
    ids = torch.full((len(examples), width), tokenizer.pad_token_id)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, row_ids in enumerate(ids_of):
        ids[i, : len(row_ids)], mask[i, : len(row_ids)] = torch.tensor(row_ids), 1
    return Batch(ids, mask, (rows, positions), targets, images, answers)


def answer_logits(model, batch: Batch):
    rows, positions = batch.read
    return model(input_ids=batch.ids, attention_mask=batch.mask, **batch.images).logits[rows, positions]


def written_accuracy(model, batch: Batch) -> float:
    """Of the answers' tokens, greedy, with every trained token before them (steps and earlier
    answers) the model's own, written in turn as it would generate them; the untrained text
    between them stays the example's, and each written piece keeps its gold's number of tokens."""
    import torch

    rows, positions = batch.read
    ids, predicted = batch.ids.clone(), torch.empty_like(batch.targets)
    order = torch.empty_like(rows)  # each trained token's place among its row's (read in order)
    for row in rows.unique():
        mine = (rows == row).nonzero().squeeze(1)
        order[mine] = torch.arange(len(mine))
    # where each predicted token goes: the next slot, where the row's text has one (a question's
    # one answer is read at the prompt's last token and written nowhere)
    slots = positions + 1
    in_text = slots < ids.shape[1]
    in_text[in_text.clone()] = batch.mask[rows[in_text], slots[in_text]].bool()
    with torch.no_grad():
        for k in range(int(order.max()) + 1):
            now = order == k
            logits = model(input_ids=ids, attention_mask=batch.mask, **batch.images).logits
            predicted[now] = logits[rows[now], positions[now]].argmax(-1)
            write = now & in_text
            ids[rows[write], slots[write]] = predicted[write]
    right = predicted[batch.answers] == batch.targets[batch.answers]
    return round(right.float().mean().item(), 3)


def train(
    model, tokenizer, draw: Callable[[random.Random], Example], *, steps: int, batch: int,
    lr: float, seed: int, every: int, held_out: int = 512,
    also: dict[str, Callable[[random.Random], Example]] | None = None,
    held_out_draw: Callable[[random.Random], Example] | None = None, written: bool = False,
) -> list[dict]:  # fmt: skip
    """Train on the trained tokens (``encode``); the held-out accuracy every ``every`` steps (of
    the answers' tokens, on ``held_out_draw``'s examples, ``draw``'s by default; ``steps``: of the
    STEP pieces', where there are any; ``written``: the answers as generated, ``written_accuracy``),
    and that of each of ``also``'s questions (as generated too, with ``written``)."""
    import torch

    def held_out_set(draw_one):
        return encode(tokenizer, [draw_one(random.Random(10_000 + i)) for i in range(held_out)])

    test = held_out_set(held_out_draw or draw)
    others = {name: held_out_set(d) for name, d in (also or {}).items()}

    def accuracy(batch, of_answers: bool = True) -> float:
        chosen = batch.answers if of_answers else ~batch.answers
        with torch.no_grad():
            right = answer_logits(model, batch).argmax(-1)[chosen] == batch.targets[chosen]
        return round(right.float().mean().item(), 3)

    def as_generated(batch) -> float:
        return written_accuracy(model, batch)

    rng, curve, losses, began = random.Random(seed), [], [], time.perf_counter()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    model.train()
    for step in range(1, steps + 1):
        examples = encode(tokenizer, [draw(rng) for _ in range(batch)])
        loss = torch.nn.functional.cross_entropy(answer_logits(model, examples), examples.targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % every == 0:
            model.eval()
            point = {"step": step, "loss": round(sum(losses[-every:]) / every, 3), "accuracy": accuracy(test)}
            if not test.answers.all():
                point["steps"] = accuracy(test, of_answers=False)
            if written:
                point["written"] = as_generated(test)
            measure = as_generated if written else accuracy
            point.update({name: measure(batch) for name, batch in others.items()})
            model.train()
            curve.append({**point, "seconds": round(time.perf_counter() - began)})
            print(json.dumps(curve[-1]), flush=True)
    return curve


def table(results: list[dict]) -> str:
    own = {"step", "loss", "accuracy", "seconds"}
    measured = sorted({name for r in results for p in r["curve"] for name in p if name not in own})
    steps = sorted({p["step"] for r in results for p in r["curve"]})
    head = "| task | init | seed | " + " | ".join(f"step {s}" for s in steps) + " |"
    lines = [head, "|" + "---|" * (3 + len(steps))]
    for r in results:
        accuracy = {
            p["step"]: f"{p['accuracy']:.2f}"
            + "".join(f" ({name} {p[name]:.2f})" for name in measured if name in p)
            for p in r["curve"]
        }
        row = [r["task"], r["init"], str(r["seed"]), *(accuracy.get(s, "-") for s in steps)]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def parse_spec(items: list[str]) -> dict:
    """``--spec`` items as ``TinySpec`` fields; a bad item ends the command with its reason."""
    from mcr.tiny_model import spec_fields

    try:
        return spec_fields(items)
    except ValueError as error:
        raise SystemExit(f"--spec {error}") from None


def train_first(
    model, tokenizer, args, first_steps: list[int], init: str, seed: int, kept_in: Path
) -> list[dict]:
    """Train ``model`` on each ``--first`` task in turn; each stage's curve (its last step). With
    ``--reuse-first`` the trained model is kept under ``kept_in``, named by what made it, and
    loaded instead of trained again (each stage's rng and optimizer start afresh, so the run that
    follows is the one it would be)."""
    import torch

    one_token = args.one_token or args.first_one_token
    made_by = {
        "init": init, "seed": seed, "spec": args.spec, "first": args.first, "steps": first_steps,
        "batch": args.batch, "lr": args.lr, "max_objects": args.max_objects, "one_token": one_token,
        "held_out": args.held_out,  # the kept curves were measured on this many examples
        # a model trained on another numerical path is another model
        "path": {k: os.environ.get(k) for k in ("ATEN_CPU_CAPABILITY", "MKL_CBWR")},
    }  # fmt: skip
    kept = kept_in / hashlib.sha1(json.dumps(made_by).encode()).hexdigest()[:12]
    reuse = args.reuse_first and bool(args.first)
    if reuse and (kept / "stages.json").exists():
        print(f"-- first {', '.join(args.first)}: the model kept in {kept}", flush=True)
        model.load_state_dict(torch.load(kept / "model.pt"))
        return json.loads((kept / "stages.json").read_text())["curves"]
    before = []
    for first, steps in zip(args.first, first_steps, strict=True):
        print(f"-- first {first}, {steps} steps", flush=True)
        curve = train(
            model, tokenizer, lambda rng, t=first: draw_example(rng, t, args.max_objects, one_token),
            steps=steps, batch=args.batch, lr=args.lr, seed=seed, every=steps, held_out=args.held_out,
        )  # fmt: skip
        before.append({"task": first, "curve": curve})
    if reuse:
        kept.mkdir(parents=True, exist_ok=True)
        torch.save(model.state_dict(), kept / "model.pt")
        (kept / "stages.json").write_text(json.dumps({**made_by, "curves": before}, indent=1))
    return before


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", nargs="+", choices=TASKS, default=list(DEFAULT_TASKS))
    parser.add_argument("--inits", nargs="+", choices=INITS, default=["random", "mimetic", "base"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--every", type=int, default=500)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--max-objects", type=int, default=4)
    parser.add_argument(
        "--spec", nargs="+", default=[], metavar="FIELD=VALUE", help="TinySpec fields for the fresh inits"
    )
    parser.add_argument("--one-token", action="store_true", help="write each look as one word (LOOK_WORDS)")
    parser.add_argument(
        "--first", nargs="+", choices=TASKS, default=[], help="tasks trained in turn before each run's own"
    )
    parser.add_argument(
        "--first-steps", nargs="+", type=int, default=[1500], help="each --first task's steps, or one for all"
    )
    parser.add_argument(
        "--first-one-token", action="store_true", help="write the looks of --first as one word each"
    )
    parser.add_argument(
        "--reuse-first", action="store_true",
        help="keep each model after its --first tasks under OUT/first and start from it when the same "
        "tasks, steps and settings were trained before",
    )  # fmt: skip
    parser.add_argument(
        "--mix", choices=TASKS, help="a task to draw half of each run's examples from (measured beside)"
    )
    parser.add_argument("--held-out", type=int, default=512, help="held-out examples each measure reads")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default="outputs/binding")
    args = parser.parse_args(argv)
    spec, one = parse_spec(args.spec), args.one_token
    first_steps = args.first_steps * len(args.first) if len(args.first_steps) == 1 else args.first_steps
    if len(first_steps) != len(args.first):
        parser.error(f"--first-steps: give one count, or one for each of the {len(args.first)} --first tasks")
    pictured = sorted(set(args.tasks + args.first + [args.mix]) & set(SEEN_TASKS))
    words_only = sorted(set(args.inits) & set(WORDS_ONLY))
    if pictured and words_only:
        parser.error(f"{', '.join(pictured)} ask about images; {', '.join(words_only)} read words only")
    torch.set_num_threads(args.threads)
    out = ROOT / args.out
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for task in args.tasks:
        for init in args.inits:
            for seed in args.seeds:
                print(f"== {task} / {init} / seed {seed}", flush=True)
                model, tokenizer = build_model(init, seed, out / "models", spec)
                before = train_first(model, tokenizer, args, first_steps, init, seed, out / "first")
                also = {
                    name: lambda rng, t=name: draw_example(rng, t, args.max_objects, one)
                    for name in (*ALSO_MEASURED.get(task, ()), *([args.mix] if args.mix else []))
                }

                def draw(rng: random.Random, task: str = task):
                    mixed = args.mix and rng.random() < 0.5  # half the examples from --mix
                    return draw_example(rng, args.mix if mixed else task, args.max_objects, one)

                curve = train(
                    model, tokenizer, draw,
                    held_out_draw=lambda rng, t=task: draw_example(rng, t, args.max_objects, one),
                    steps=args.steps, batch=args.batch, lr=args.lr, seed=seed, every=args.every, also=also,
                    written=task in WRITTEN, held_out=args.held_out,
                )  # fmt: skip
                start = " ".join([init, *args.spec, *(["one-token looks"] if one else [])])
                if args.mix:
                    start += f", half the examples {args.mix}"
                if args.first:
                    first_looks = " (one-token looks)" if args.first_one_token else ""
                    stages = " then ".join(f"{b['curve'][-1]['step']} steps of {b['task']}" for b in before)
                    start += f", {stages}{first_looks} first"
                results.append({"task": task, "init": start, "seed": seed, "curve": curve, "first": before})
                (out / "results.json").write_text(
                    json.dumps({"args": vars(args), "results": results}, indent=1)
                )
    print(table(results))


if __name__ == "__main__":
    main()
