"""``--help`` for recipes: every section's keys with their defaults and help text."""

from __future__ import annotations

import dataclasses
from typing import Any

from omegaconf import OmegaConf

from mcr.config.loading import available_recipes, load_file, recipe_path
from mcr.config.schema import Recipe


def _field_help(f: dataclasses.Field) -> str:
    return f.metadata.get("help", "")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return value if not dataclasses.is_dataclass(value) else None
    return None


def recipe_help(name: str | None = None) -> str:
    """Every section's keys with their defaults and help text (and, with ``name``, the recipe's values)."""
    values = OmegaConf.to_container(load_file(recipe_path(name)), resolve=False) if name else {}
    lines = [
        "Recipe keys (recipe=NAME, then key=value overrides; a YAML recipe sets the same keys):",
        "",
    ]

    def section(schema: Any, prefix: str, given: dict) -> None:
        for f in dataclasses.fields(schema):
            value = getattr(schema, f.name)
            if dataclasses.is_dataclass(value):
                lines.append(f"{prefix}{f.name}:")
                section(value, f"{prefix}{f.name}.", given.get(f.name) or {})
                continue
            shown = given.get(f.name, _default(f))
            text = _field_help(f)
            if f.name in ("sft", "grpo"):
                config = "SFTConfig" if f.name == "sft" else "GRPOConfig"
                given_keys = ", ".join(sorted(shown or {})) or "-"
                text = f"{text} Any field of trl.{config}; the recipe sets: {given_keys}"
                shown = "{...}"
            lines.append(f"  {prefix}{f.name} = {shown!r}" + (f"\n      {text}" if text else ""))

    section(Recipe(), "", values)
    lines += ["", f"Recipes: {', '.join(available_recipes())} (or a path to a YAML file)."]
    return "\n".join(lines)
