"""MRSI: Multi-style Reasoning Schema Injection.

Gold annotations are rendered through reasoning *styles* — Jinja templates in
``templates/mrsi/<task>/<style>.jinja`` — into completions that reason over every constraint
before answering::

    <think>
    styled reasoning that states, per entity, its type and whether the image shows it
    </think>
    <answer>[{"entity": ..., "type": ..., "bbox": [x1, y1, x2, y2] | null}]</answer>

A data set is split into D1, rendered into SFT prompt/completion pairs, and D2, kept as
GRPO rows (prompt, image, gold). Styles are drawn per example with the recipe's weights and
seed, so the same recipe always gives the same data. A new style is a new template file,
named in a recipe's ``mrsi.styles``.
"""

from __future__ import annotations

import json
import random
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import datasets
import jinja2

from mcr.data.grpo_dataset import gold_answer, model_space, rows_dataset, scale_box, user_prompt
from mcr.data.schema import Record

if TYPE_CHECKING:
    from mcr.config import Recipe
    from mcr.tasks import Task

TASK_STYLES_DIR = "mrsi"


def styles_dir(task: str) -> Path:
    return Path(str(files("mcr.templates"))) / TASK_STYLES_DIR / task


def available_styles(task: str) -> list[str]:
    return sorted(p.stem for p in styles_dir(task).glob("*.jinja"))


@cache
def _environment(task: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(styles_dir(task)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render_style(task: str, style: str, **context: Any) -> str:
    """The reasoning of one style for one example."""
    try:
        template = _environment(task).get_template(f"{style}.jinja")
    except jinja2.TemplateNotFound:
        raise ValueError(
            f"no reasoning style {style!r} for task {task!r}; available: {available_styles(task)} "
            f"(add one as {styles_dir(task)}/{style}.jinja)"
        ) from None
    return template.render(**context).strip()


def render_completion(think: str, answer: Any) -> str:
    """A completion in the output contract."""
    return f"<think>\n{think}\n</think>\n<answer>{json.dumps(answer, ensure_ascii=False)}</answer>"


def gmner_context(record: Record, box_space: tuple[int, int], input_size: tuple[int, int]) -> dict[str, Any]:
    """What a GMNER style may use: the post, and per entity its span, type and — only when the
    image shows it — its box in the model's pixels (the first gold box)."""
    entities = []
    for e in record.entities:
        box = scale_box(e.boxes[0], box_space, input_size) if e.boxes else None
        entities.append({"text": e.text, "type": e.type, "shown": box is not None, "box": box})
    return {"text": record.text, "entities": entities}


def gmner_sft_example(
    record: Record, style: str, *, task: str, min_pixels: int, max_pixels: int
) -> dict[str, Any]:
    """One SFT pair: the GRPO prompt, and the gold rendered in ``style`` as the completion."""
    _, box_space, input_size = model_space(record, min_pixels=min_pixels, max_pixels=max_pixels)
    context = gmner_context(record, box_space, input_size)
    answer = [{"entity": e["text"], "type": e["type"], "bbox": e["box"]} for e in context["entities"]]
    completion = render_completion(render_style(task, style, **context), answer)
    return {
        "id": record.id,
        "style": style,
        "prompt": user_prompt(task, text=record.text),
        "completion": [{"role": "assistant", "content": completion}],
        "image": record.images[0],
        "gold": gold_answer(record, box_space, input_size),
        "text": record.text,
    }


def pick_styles(n: int, styles: dict[str, float], seed: int) -> list[str]:
    """A style per example, drawn with the recipe's weights; the same arguments give the same list."""
    names = sorted(styles)
    weights = [styles[name] for name in names]
    if not names or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"mrsi.styles needs at least one style with a positive weight, got {styles}")
    return random.Random(seed).choices(names, weights=weights, k=n)


def split_d1_d2(records: list, sft_fraction: float, seed: int) -> tuple[list, list]:
    """D1 (SFT) and D2 (GRPO): a seeded shuffle cut at ``sft_fraction``, each part in file order."""
    if not 0.0 < sft_fraction <= 1.0:
        raise ValueError(f"mrsi.sft_fraction must be in (0, 1], got {sft_fraction}")
    order = list(range(len(records)))
    random.Random(seed).shuffle(order)
    cut = round(len(records) * sft_fraction)
    d1, d2 = sorted(order[:cut]), sorted(order[cut:])
    return [records[i] for i in d1], [records[i] for i in d2]


def inject(examples: list, task: Task, recipe: Recipe) -> datasets.DatasetDict:
    """Render D1 into SFT prompt/completion pairs in the recipe's styles and keep D2 as GRPO rows."""
    styles = recipe.mrsi.styles
    for style in styles:  # fail before any rendering on a style name that has no template
        if style not in available_styles(task.name):
            render_style(task.name, style)
    d1, d2 = split_d1_d2(examples, recipe.mrsi.sft_fraction, recipe.mrsi.seed)
    chosen = pick_styles(len(d1), styles, recipe.mrsi.seed)
    parts = {"sft": rows_dataset([task.sft_example(recipe, e, s) for e, s in zip(d1, chosen, strict=True)])}
    if d2:
        parts["grpo"] = rows_dataset(task.rows(recipe, d2))
    return datasets.DatasetDict(parts)
