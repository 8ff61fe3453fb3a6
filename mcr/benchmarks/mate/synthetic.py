"""Synthetic MATE (Alonso et al., ACL 2025): cross-modal entity linking on 2D renderings.

Each instance is a scene of 3-10 objects with MATE's attributes — ``name``, ``shape``,
``color``, ``material``, ``size``, ``3d_coords``, ``rotation`` — shown twice: as an image
(a top-down 2D rendering: shape, colour and material are drawn, ``3d_coords`` places the
object, ``size`` scales it) and as the JSON text of the scene. A question names one object
by a *pointer* attribute and asks for a *target* attribute.

Cross-modal isolation exactly as MATE defines it: colour and shape are visual-only, name,
3d_coords, rotation and size are text-only, material is shared and never a pointer or a
target. In a cross-modal instance (``img2data``: visual pointer, textual target;
``data2img``: the reverse) the visual attribute in play is deleted from every object of the
text scene, so neither modality alone answers it. The unimodal ablation (``img2img``,
``data2data``) keeps pointer and target in one modality. The pointer value always singles
out one object.

Written in MATE's public fields, one JSON object per line (``<split>.jsonl``), images beside
them (``images/<id>.png``, the ``image`` field holding that relative path), plus one field of
its own, ``gold_object`` (the object asked about, every attribute), which MRSI styles use.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from PIL import Image, ImageDraw
from tqdm import tqdm

SHAPES = ("cylinder", "sphere", "cube", "cone")
COLORS = {
    "gray": (128, 128, 128),
    "red": (210, 40, 40),
    "blue": (40, 70, 215),
    "green": (40, 160, 50),
    "brown": (130, 85, 40),
    "purple": (130, 50, 180),
    "cyan": (30, 195, 205),
    "yellow": (230, 210, 30),
}
MATERIALS = ("metal", "rubber")
SIZES = (0.35, 0.7)
VISUAL = ("color", "shape")
TEXTUAL = ("name", "3d_coords", "rotation", "size")
TASKS = ("img2data", "data2img", "img2img", "data2data")
IMAGE_SIZE = (256, 256)


def _coords_to_pixels(coords: list[float]) -> tuple[float, float]:
    """Scene x, y in [-3, 3] to pixel centre; y grows upwards in the scene, downwards in the image."""
    width, height = IMAGE_SIZE
    return (coords[0] + 3.5) / 7 * width, (3.5 - coords[1]) / 7 * height


def _radius(size: float) -> float:
    return 14 if size < 0.5 else 22


def value_text(attribute: str, value: object) -> str:
    """An attribute value as MATE's answers and questions write it."""
    return str(value)


def generate_scene(rng: random.Random, n_objects: int) -> list[dict]:
    objects: list[dict] = []
    while len(objects) < n_objects:
        coords = [round(rng.uniform(-3, 3), 2), round(rng.uniform(-3, 3), 2)]
        size = rng.choice(SIZES)
        cx, cy = _coords_to_pixels(coords)
        r = _radius(size)
        # keep objects apart, so every one is visible
        if any((cx - o["_px"][0]) ** 2 + (cy - o["_px"][1]) ** 2 < (r + o["_r"] + 6) ** 2 for o in objects):
            continue
        objects.append(
            {
                "name": f"Object_{len(objects)}",
                "shape": rng.choice(SHAPES),
                "size": size,
                "material": rng.choice(MATERIALS),
                "3d_coords": [*coords, round(size / 2, 3)],
                "rotation": round(rng.uniform(0, 360), 3),
                "color": rng.choice(tuple(COLORS)),
                "_px": (cx, cy),
                "_r": r,
            }
        )
    return objects


def render_scene(objects: list[dict]) -> Image.Image:
    image = Image.new("RGB", IMAGE_SIZE, (225, 225, 220))
    draw = ImageDraw.Draw(image)
    for o in objects:
        (cx, cy), r, fill = o["_px"], o["_r"], COLORS[o["color"]]
        box = (cx - r, cy - r, cx + r, cy + r)
        if o["shape"] == "sphere":
            draw.ellipse(box, fill=fill)
        elif o["shape"] == "cube":
            draw.rectangle(box, fill=fill)
        elif o["shape"] == "cone":
            draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
        else:  # cylinder seen from above and slightly in front: a rounded rectangle
            draw.rounded_rectangle(box, radius=r // 2, fill=fill)
        if o["material"] == "metal":  # a specular highlight tells metal from rubber
            draw.ellipse((cx - r / 3, cy - r / 2, cx, cy - r / 6), fill=(250, 250, 250))
    return image


def _unique(objects: list[dict], attribute: str) -> list[dict]:
    values = [json.dumps(o[attribute]) for o in objects]
    return [o for o, v in zip(objects, values, strict=True) if values.count(v) == 1]


def generate_instance(rng: random.Random, instance_id: str, task: str) -> tuple[dict, Image.Image] | None:
    """One instance of ``task``, or None when the drawn scene has no object to point at."""
    objects = generate_scene(rng, rng.randint(3, 10))
    pointer_pool, target_pool = {
        "img2data": (VISUAL, TEXTUAL),
        "data2img": (TEXTUAL, VISUAL),
        "img2img": (VISUAL, VISUAL),
        "data2data": (TEXTUAL, TEXTUAL),
    }[task]
    pointer = rng.choice(pointer_pool)
    target = rng.choice([a for a in target_pool if a != pointer])
    candidates = _unique(objects, pointer)
    if not candidates:
        return None
    obj = rng.choice(candidates)
    # the text scene: cross-modal instances lose the visual attribute in play; image-only
    # instances lose every visual attribute, so the text cannot answer them
    dropped = {"img2data": {pointer}, "data2img": {target}, "img2img": set(VISUAL), "data2data": set()}[task]
    scene = {
        "objects": [
            {k: v for k, v in o.items() if not k.startswith("_") and k not in dropped} for o in objects
        ]
    }
    question = (
        f"What is the {target.replace('3d_coords', '3D coordinates')} of the object whose "
        f"{pointer.replace('3d_coords', '3D coordinates')} is {value_text(pointer, obj[pointer])}?"
    )
    instance = {
        "id": instance_id,
        "image": f"images/{instance_id}.png",
        "scene": json.dumps(scene),
        "question": question,
        "answer": value_text(target, obj[target]),
        "task": task,
        "object_count": len(objects),
        "pointer_attribute": pointer,
        "target_attribute": target,
        # beyond MATE's public fields: the object itself, so reasoning styles can describe it
        "gold_object": {k: v for k, v in obj.items() if not k.startswith("_")},
    }
    return instance, render_scene(objects)


def write_synthetic_mate(
    out: str | Path,
    n: int,
    seed: int = 0,
    *,
    tasks: tuple[str, ...] = TASKS,
    splits=(0.8, 0.1, 0.1),
    progress: bool = True,
) -> Path:
    """Write ``n`` instances (cycling through ``tasks``) as ``<out>/{train,dev,test}.jsonl`` + images."""
    if n < 3:
        raise ValueError(f"n must be at least 3 (one instance per split), got {n}")
    unknown = set(tasks) - set(TASKS)
    if unknown:
        raise ValueError(f"unknown MATE task(s) {sorted(unknown)}; expected some of {TASKS}")
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    n_dev, n_test = max(1, round(n * splits[1])), max(1, round(n * splits[2]))
    bounds = {
        "train": (0, n - n_dev - n_test),
        "dev": (n - n_dev - n_test, n - n_test),
        "test": (n - n_test, n),
    }
    for split, (lo, hi) in bounds.items():
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for i in tqdm(range(lo, hi), desc=f"synth mate {split}", disable=not progress):
                made = None
                while made is None:
                    made = generate_instance(rng, f"M_{i}", tasks[i % len(tasks)])
                instance, image = made
                image.save(out / instance["image"])
                f.write(json.dumps(instance) + "\n")
    return out
