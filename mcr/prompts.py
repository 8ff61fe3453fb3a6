"""The templates under ``templates/``: task instructions and MRSI reasoning styles, rendered.

``templates/prompts/<task>.jinja`` is a benchmark's instruction; ``templates/mrsi/<task>/
<style>.jinja`` is one reasoning style of a training task. Templates are data: editing one
changes what the model reads or learns to write, no code changes.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2

STYLES_DIR = "mrsi"


@cache
def _template(task: str) -> jinja2.Template:
    path = files("mcr.templates") / "prompts" / f"{task}.jinja"
    if not path.is_file():
        available = sorted(
            p.name.removesuffix(".jinja")
            for p in (files("mcr.templates") / "prompts").iterdir()
            if p.name.endswith(".jinja")
        )
        raise ValueError(f"no prompt template for task {task!r}; available: {available}")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    return env.from_string(path.read_text(encoding="utf-8"))


def render_prompt(task: str, **fields: object) -> str:
    """The instruction for one example of ``task`` (e.g. ``render_prompt("gmner", text=...)``)."""
    return _template(task).render(**fields).strip()


def user_prompt(task: str, *, n_images: int = 1, **fields: object) -> list[dict]:
    """The conversational prompt: the image(s), then the task's instruction rendered with ``fields``."""
    return image_prompt(render_prompt(task, n_images=n_images, **fields), n_images=n_images)


def image_prompt(instruction: str, *, n_images: int = 1) -> list[dict]:
    """The conversational prompt: the image(s), then ``instruction`` (a benchmark outside this
    package writes its own instruction; the built-in ones render theirs with ``user_prompt``)."""
    return [
        {
            "role": "user",
            "content": [
                *({"type": "image", "text": None} for _ in range(n_images)),
                {"type": "text", "text": instruction},
            ],
        }
    ]


def styles_dir(task: str) -> Path:
    """``templates/mrsi/<task>/``: the task's reasoning styles."""
    return Path(str(files("mcr.templates"))) / STYLES_DIR / task


def available_styles(task: str) -> list[str]:
    return sorted(p.stem for p in styles_dir(task).glob("*.jinja"))


@cache
def _styles(task: str) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(styles_dir(task)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
    )


# No reasoning at all: an empty <think></think> before the answer. Not a template, so it is never
# among a task's styles; a recipe names it to train answers alone (the ablation's baseline).
ANSWER_ONLY = "answer_only"


def _style_source(task: str, style: str) -> str:
    env = _styles(task)
    try:
        return env.loader.get_source(env, f"{style}.jinja")[0]
    except jinja2.TemplateNotFound:
        raise ValueError(
            f"no reasoning style {style!r} for task {task!r}; available: {available_styles(task)} "
            f"(add one as {styles_dir(task)}/{style}.jinja)"
        ) from None


def render_style(task: str, style: str, **context: Any) -> str:
    """The reasoning of one style for one example (empty for ``answer_only``)."""
    if style == ANSWER_ONLY:
        return ""
    _style_source(task, style)  # a clear error for a style with no template
    return _styles(task).get_template(f"{style}.jinja").render(**context).strip()


@cache
def style_reads(task: str, style: str) -> frozenset[str]:
    """The attributes a style reads of its context's items (``e.look`` -> "look"), so that a
    context computes what is costly (``look`` reads the image) only for the styles that use it."""
    if style == ANSWER_ONLY:
        return frozenset()
    tree = _styles(task).parse(_style_source(task, style))
    return frozenset(node.attr for node in tree.find_all(jinja2.nodes.Getattr))
