"""Task instructions, rendered from the Jinja files in ``templates/prompts/``."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import jinja2


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
