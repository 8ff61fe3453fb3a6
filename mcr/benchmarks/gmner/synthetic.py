"""Synthetic Twitter-GMNER data, written in exactly the Twitter-GMNER release layout.

Each post names 1-4 entities (PER, LOC, ORG, OTHER) and mentions a colour next to each
one. An entity that is *shown* is drawn as an object whose shape follows its type and
whose colour is the one the text mentions, so finding its box needs both modalities:
the text says which colour to look for, the image says where it is.

The data carry the traps the MCR paper is about:

* entities named but not shown (gold region None): nothing of their shape and colour is drawn;
* distractors: objects drawn that no entity of the text refers to;
* look-alikes: distractors with the shape of a named entity but another colour, or its
  colour but another shape, so that neither modality alone locates the entity. An entity named
  but not shown may get one in its colour more often (``colour_look_alikes``): then whether its
  colour is drawn at all no longer tells shown from not shown, and only its shape does.

Boxes are exact: every object is drawn to touch all four sides of its box.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw
from tqdm import tqdm

from mcr.data.schema import GMNER_TYPES, Box

SHAPE_OF_TYPE = {"PER": "circle", "LOC": "triangle", "ORG": "square", "OTHER": "diamond"}
SHAPES = tuple(SHAPE_OF_TYPE.values())
COLORS = {
    "red": (220, 30, 30),
    "green": (30, 170, 40),
    "blue": (30, 60, 220),
    "yellow": (235, 215, 20),
    "purple": (140, 40, 190),
    "orange": (250, 135, 15),
    "cyan": (20, 200, 215),
    "black": (20, 20, 20),
}
IMAGE_SIZES = ((256, 192), (192, 256), (224, 224), (320, 240))

# Invented name parts: a closed vocabulary keeps each name a few tokens for the tiny model,
# while the combinations below still give thousands of distinct entities.
_PERSONS = (
    "Marla",
    "Tobin",
    "Kesia",
    "Arvo",
    "Lune",
    "Dario",
    "Fenna",
    "Ossian",
    "Prue",
    "Halvar",
    "Ines",
    "Corin",
    "Yara",
    "Bram",
    "Sefa",
    "Teodor",
    "Nila",
    "Rufus",
    "Elda",
    "Quill",
    "Maro",
    "Vesna",
    "Jorun",
    "Alba",
)
_SURNAMES = (
    "Voss",
    "Kettle",
    "Marsh",
    "Ilves",
    "Brand",
    "Okafor",
    "Lindqvist",
    "Sato",
    "Perrin",
    "Haldane",
    "Quaye",
    "Moreau",
)
_PLACES = (
    "Kelby",
    "Tarn",
    "Ashford",
    "Mirren",
    "Velmor",
    "Skarra",
    "Ondine",
    "Brisk",
    "Calder",
    "Farrow",
    "Gantry",
    "Holm",
    "Istra",
    "Juno",
    "Lorne",
    "Moss",
)
_ORGS = (
    "Nordbank",
    "Falcon",
    "Helix",
    "Ridge",
    "Atlas",
    "Cobalt",
    "Ember",
    "Granite",
    "Harbor",
    "Ivory",
    "Juniper",
    "Kestrel",
)
_THINGS = (
    "Skyline",
    "Pixel",
    "Comet",
    "Drift",
    "Echo",
    "Fable",
    "Glint",
    "Halo",
    "Orbit",
    "Prism",
    "Quartz",
    "Rally",
)

NAME_PARTS = _PERSONS + _SURNAMES + _PLACES + _ORGS + _THINGS

# Phrases that mention an entity ({e}) with its colour ({c}); the colour stays outside the span.
_PHRASES = {
    "PER": ("{e} wearing {c}", "{e} in {c}", "{e} ( {c} shirt )"),
    "LOC": ("{e} under {c} lights", "the {c} roofs of {e}", "{e} painted {c}"),
    "ORG": ("{e} in {c} kits", "the {c} badge of {e}", "{e} ( {c} logo )"),
    "OTHER": ("a {c} {e}", "{e} in {c} paint", "the {c} cover of {e}"),
}
_NAME_SHAPES = {
    "PER": ("{P}", "{P} {S}"),
    "LOC": ("{L}", "Lake {L}", "Port {L}", "{L} City"),
    "ORG": ("{O} FC", "{O} Bank", "{O} United", "{O}"),
    "OTHER": ("{T} Cup", "{T} Phone", "{T}"),
}
_JOINERS = ("met", "and", "with", "beside", "near", "vs", ",")
_PREFIXES = ("", "", "RT @{u} :", "@{u}", "Breaking :", "Wow !")
_SUFFIXES = ("", "", "#{h}", "http://t.co/{h}", "😂", "🔥 #{h}", "via @{u}")


@dataclass
class SynthObject:
    shape: str
    color: str
    box: tuple[int, int, int, int]


@dataclass
class SynthEntity:
    tokens: list[str]
    type: str
    color: str
    start: int = 0
    shown: int = 0  # how many objects show it (0 = not in the image)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


@dataclass
class SynthPost:
    id: str
    tokens: list[str]
    tags: list[str]
    entities: list[SynthEntity]
    objects: list[SynthObject]
    size: tuple[int, int]

    def boxes_of(self, entity: SynthEntity) -> list[Box]:
        shape = SHAPE_OF_TYPE[entity.type]
        return [tuple(map(float, o.box)) for o in self.objects if (o.shape, o.color) == (shape, entity.color)]


def _word(rng: random.Random) -> str:
    """A lower-case handle or hashtag word."""
    return rng.choice(_PLACES + _THINGS + _ORGS).lower()


def _name(rng: random.Random, etype: str) -> list[str]:
    pattern = rng.choice(_NAME_SHAPES[etype])
    parts = {
        "P": rng.choice(_PERSONS),
        "S": rng.choice(_SURNAMES),
        "L": rng.choice(_PLACES),
        "O": rng.choice(_ORGS),
        "T": rng.choice(_THINGS),
    }
    return pattern.format(**parts).split()


def mentioned_colour(text: str, entity: str, etype: str) -> str | None:
    """The colour a synthetic post mentions with ``entity``, read from the phrase of its type that
    introduced it ("the purple roofs of Gantry" -> purple); None when no such phrase surrounds it
    (a post from elsewhere)."""
    tokens, span = text.split(), entity.split()

    def part_of_a_longer_name(i: int) -> bool:  # "Kestrel" inside "Kestrel Bank"
        return 0 <= i < len(tokens) and tokens[i].isalpha() and tokens[i][:1].isupper()

    starts = [
        i
        for i in range(len(tokens))
        if tokens[i : i + len(span)] == span
        and not part_of_a_longer_name(i - 1)
        and not part_of_a_longer_name(i + len(span))
    ]
    for start in starts:
        end = start + len(span)
        for phrase in _PHRASES.get(etype, ()):
            before, after = (part.split() for part in phrase.split("{e}"))
            pattern = before + after
            window = tokens[start - len(before) : start] + tokens[end : end + len(after)]
            if start < len(before) or len(window) != len(pattern):
                continue  # the phrase does not fit around this occurrence
            slot = pattern.index("{c}")
            fits = all(w == p for i, (w, p) in enumerate(zip(window, pattern, strict=True)) if i != slot)
            if fits and window[slot] in COLORS:
                return window[slot]
    return None


def place_box(rng: random.Random, size: tuple[int, int], taken: list[tuple[int, int, int, int]]):
    """A free box of 36-72 pixels a side, 4 pixels clear of every ``taken`` one (added to it), or
    None when 200 tries find no room."""
    width, height = size
    for _ in range(200):
        w, h = rng.randint(36, 72), rng.randint(36, 72)
        x1, y1 = rng.randint(0, width - w), rng.randint(0, height - h)
        box = (x1, y1, x1 + w, y1 + h)
        if all(
            box[2] + 4 <= t[0] or t[2] + 4 <= box[0] or box[3] + 4 <= t[1] or t[3] + 4 <= box[1]
            for t in taken
        ):
            taken.append(box)
            return box
    return None


@dataclass(frozen=True)
class Layout:
    """Where the synthetic world draws: the image sizes and how objects are placed.

    ``cell == 0`` places objects of 36-72 pixels a side anywhere (``place_box``). ``cell > 0``
    cuts the image into square cells of that many pixels and draws each object in a free cell,
    ``margin`` pixels inside its sides: with cells of two visual tokens (56 pixels for the
    28-pixel families) on images that are never resized, an object always covers the same 2x2
    tokens of the model's grid and its box is one of a few the model can learn to write.
    """

    name: str
    image_sizes: tuple[tuple[int, int], ...]
    cell: int = 0
    margin: int = 2

    def place(self, rng: random.Random, size: tuple[int, int], taken: list[tuple[int, int, int, int]]):
        """A free box for one more object (added to ``taken``), or None when there is no room."""
        if not self.cell:
            return place_box(rng, size, taken)
        c, m = self.cell, self.margin
        cells = [
            (x, y, x + c, y + c)
            for y in range(0, size[1] - c + 1, c)
            for x in range(0, size[0] - c + 1, c)
            if (x + m, y + m, x + c - m, y + c - m) not in taken
        ]
        if not cells:
            return None
        x1, y1, x2, y2 = rng.choice(cells)
        box = (x1 + m, y1 + m, x2 - m, y2 - m)
        taken.append(box)
        return box

    def scaled(self, factor: int) -> Layout:
        """This layout for a family whose visual tokens are ``factor`` pixels a side (the layouts
        below are drawn for 28): grid layouts keep their cells two tokens wide."""
        if not self.cell or factor == 28:
            return self
        sizes = tuple((w * factor // 28, h * factor // 28) for w, h in self.image_sizes)
        return replace(self, image_sizes=sizes, cell=self.cell * factor // 28)


LAYOUTS = {
    layout.name: layout
    for layout in (
        Layout("free", IMAGE_SIZES),  # four sizes, resized by the model, objects anywhere
        Layout("grid", ((224, 224),), cell=56),  # one 8x8-token size, 16 cells of 2x2 tokens
    )
}


def get_layout(name: str) -> Layout:
    if name not in LAYOUTS:
        raise ValueError(f"unknown synthetic layout {name!r}; known: {sorted(LAYOUTS)}")
    return LAYOUTS[name]


def generate_post(
    rng: random.Random,
    post_id: str,
    *,
    p_shown: float = 0.6,
    layout: Layout = LAYOUTS["free"],
    colour_look_alikes: float = 0.0,
) -> SynthPost:
    """Draw one post: its tokens and BIO tags, its entities and the objects of its image, placed
    as ``layout`` places them. ``colour_look_alikes``: the chance that an entity named but not
    shown gets, besides the look-alikes any entity may get, an object of its colour in another
    shape; the rest of the post is the same at any chance (``_add_colour_look_alikes``)."""
    n_entities = rng.choices((1, 2, 3, 4), weights=(3, 4, 3, 2))[0]
    entities: list[SynthEntity] = []
    used_looks: set[tuple[str, str]] = set()
    used_names: set[str] = set()
    while len(entities) < n_entities:
        etype = rng.choice(GMNER_TYPES)
        color = rng.choice(tuple(COLORS))
        tokens = _name(rng, etype)
        if (etype, color) in used_looks or " ".join(tokens) in used_names:
            continue
        used_looks.add((etype, color))
        used_names.add(" ".join(tokens))
        entities.append(SynthEntity(tokens, etype, color))

    # Text: prefix, entity phrases joined by connectives, suffix.
    tokens: list[str] = []
    tags: list[str] = []

    def add_plain(text: str) -> None:
        for tok in text.split():
            tokens.append(tok)
            tags.append("O")

    user, hashtag = _word(rng) + str(rng.randint(1, 99)), _word(rng).capitalize() + str(rng.randint(0, 9))
    add_plain(rng.choice(_PREFIXES).format(u=user, h=hashtag))
    for i, ent in enumerate(entities):
        if i:
            add_plain(rng.choice(_JOINERS))
        before, after = rng.choice(_PHRASES[ent.type]).split("{e}")
        add_plain(before.format(c=ent.color))
        ent.start = len(tokens)
        for j, tok in enumerate(ent.tokens):
            tokens.append(tok)
            tags.append(("B-" if j == 0 else "I-") + ent.type)
        add_plain(after.format(c=ent.color))
    add_plain(rng.choice(_SUFFIXES).format(u=user, h=hashtag))

    # Image: shown entities (sometimes twice), then distractors and look-alikes.
    size = rng.choice(layout.image_sizes)
    taken: list[tuple[int, int, int, int]] = []
    objects: list[SynthObject] = []
    named_looks = {(SHAPE_OF_TYPE[e.type], e.color) for e in entities}
    for ent in entities:
        if rng.random() < p_shown:
            for _ in range(2 if rng.random() < 0.1 else 1):
                box = layout.place(rng, size, taken)
                if box is not None:
                    objects.append(SynthObject(SHAPE_OF_TYPE[ent.type], ent.color, box))
                    ent.shown += 1
    distractors: list[tuple[str, str]] = []
    for ent in entities:  # look-alikes share exactly one of shape and colour with a named entity
        if rng.random() < 0.5:
            shape, color = SHAPE_OF_TYPE[ent.type], ent.color
            if rng.random() < 0.5:
                color = rng.choice([c for c in COLORS if c != color])
            else:
                shape = rng.choice([s for s in SHAPES if s != shape])
            distractors.append((shape, color))
    distractors += [(rng.choice(SHAPES), rng.choice(tuple(COLORS))) for _ in range(rng.randint(0, 2))]
    for shape, color in distractors:
        if (shape, color) in named_looks:
            continue  # it would show a named entity
        box = layout.place(rng, size, taken)
        if box is not None:
            objects.append(SynthObject(shape, color, box))
    rng.shuffle(objects)
    if colour_look_alikes > 0:
        _add_colour_look_alikes(
            post_id, tokens, entities, objects, named_looks, size, taken, layout, colour_look_alikes
        )
    return SynthPost(post_id, tokens, tags, entities, objects, size)


def _add_colour_look_alikes(
    post_id: str,
    tokens: list[str],
    entities: list[SynthEntity],
    objects: list[SynthObject],
    named_looks: set[tuple[str, str]],
    size: tuple[int, int],
    taken: list[tuple[int, int, int, int]],
    layout: Layout,
    chance: float,
) -> None:
    """``generate_post``'s ``colour_look_alikes``: each entity not shown gets, with ``chance``, an
    object of its colour in another shape, in a free place among ``objects``. They are drawn
    from a generator of their own, seeded by the post, after everything else: the post, its
    image's other objects and every later post are those drawn without them."""
    extra = random.Random(f"colour-look-alikes {post_id} {' '.join(tokens)}")
    for ent in entities:
        if ent.shown or extra.random() >= chance:
            continue
        shape = extra.choice([s for s in SHAPES if s != SHAPE_OF_TYPE[ent.type]])
        if (shape, ent.color) in named_looks:
            continue  # it would show a named entity
        box = layout.place(extra, size, taken)
        if box is not None:
            objects.insert(extra.randint(0, len(objects)), SynthObject(shape, ent.color, box))


def render_image(post: SynthPost, rng: random.Random) -> Image.Image:
    """Draw the post's objects on a plain background; each object touches all sides of its box."""
    shade = rng.randint(200, 240)
    image = Image.new("RGB", post.size, (shade, shade, shade))
    draw = ImageDraw.Draw(image)
    for obj in post.objects:
        x1, y1, x2, y2 = obj.box
        fill = COLORS[obj.color]
        # PIL fills pixel centres up to and including x2; the box is continuous [x1, x2).
        if obj.shape == "circle":
            draw.ellipse((x1, y1, x2 - 1, y2 - 1), fill=fill)
        elif obj.shape == "square":
            draw.rectangle((x1, y1, x2 - 1, y2 - 1), fill=fill)
        elif obj.shape == "triangle":
            draw.polygon([((x1 + x2 - 1) / 2, y1), (x1, y2 - 1), (x2 - 1, y2 - 1)], fill=fill)
        else:  # diamond
            cx, cy = (x1 + x2 - 1) / 2, (y1 + y2 - 1) / 2
            draw.polygon([(cx, y1), (x2 - 1, cy), (cx, y2 - 1), (x1, cy)], fill=fill)
    return image


def voc_xml(post: SynthPost) -> str | None:
    """The post's Pascal-VOC xml, or None when no entity is shown (the release has no file then)."""
    objects = []
    for ent in post.entities:
        for x1, y1, x2, y2 in post.boxes_of(ent):
            objects.append(
                "\t<object>\n"
                f"\t\t<name>{escape(ent.text)}</name>\n"
                "\t\t<pose>Unspecified</pose>\n\t\t<truncated>0</truncated>\n\t\t<difficult>0</difficult>\n"
                f"\t\t<bndbox>\n\t\t\t<xmin>{int(x1)}</xmin>\n\t\t\t<ymin>{int(y1)}</ymin>\n"
                f"\t\t\t<xmax>{int(x2)}</xmax>\n\t\t\t<ymax>{int(y2)}</ymax>\n\t\t</bndbox>\n"
                "\t</object>\n"
            )
    if not objects:
        return None
    width, height = post.size
    return (
        "<annotation>\n"
        "\t<folder>synthetic</folder>\n"
        f"\t<filename>{post.id}.jpg</filename>\n"
        f"\t<size>\n\t\t<width>{width}</width>\n\t\t<height>{height}</height>\n\t\t<depth>3</depth>\n\t</size>\n"
        "\t<segmented>0</segmented>\n" + "".join(objects) + "</annotation>\n"
    )


def conll_block(post: SynthPost) -> str:
    lines = [f"IMGID:{post.id}"] + [f"{tok}\t{tag}" for tok, tag in zip(post.tokens, post.tags, strict=True)]
    return "\n".join(lines) + "\n\n"


def write_synthetic_gmner(
    out: str | Path,
    n: int,
    seed: int = 0,
    *,
    splits=(0.8, 0.1, 0.1),
    images_dirname: str = "images",
    layout: Layout = LAYOUTS["free"],
    colour_look_alikes: float = 0.0,
    progress: bool = True,
) -> Path:
    """Write ``n`` synthetic posts under ``out`` in the Twitter-GMNER release layout.

    ``out/txt/{train,dev,test}.txt``, ``out/xml/<id>.xml`` and ``out/<images_dirname>/<id>.jpg``;
    images drawn as ``layout`` says (its sizes, (width, height), and placement; the default's
    keep them small for CPU runs); ``colour_look_alikes`` as ``generate_post`` says. The same
    arguments always give the same files.
    """
    if not 0.0 <= colour_look_alikes <= 1.0:
        raise ValueError(f"colour_look_alikes is a chance, between 0 and 1; got {colour_look_alikes}")
    if n < 3:
        raise ValueError(f"n must be at least 3 (one post per split), got {n}")
    out = Path(out)
    for sub in ("txt", "xml", images_dirname):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_dev, n_test = max(1, round(n * splits[1])), max(1, round(n * splits[2]))
    n_train = n - n_dev - n_test
    bounds = {"train": (0, n_train), "dev": (n_train, n_train + n_dev), "test": (n_train + n_dev, n)}
    for split, (lo, hi) in bounds.items():
        with open(out / "txt" / f"{split}.txt", "w", encoding="utf-8") as txt:
            for i in tqdm(range(lo, hi), desc=f"synth gmner {split}", disable=not progress):
                post = generate_post(rng, f"S_{i}", layout=layout, colour_look_alikes=colour_look_alikes)
                txt.write(conll_block(post))
                xml = voc_xml(post)
                if xml is not None:
                    (out / "xml" / f"{post.id}.xml").write_text(xml, encoding="utf-8")
                render_image(post, rng).save(out / images_dirname / f"{post.id}.jpg", quality=95)
    return out
