"""Loading a recipe: ``recipe=NAME`` (a file in ``recipes/`` or a YAML path), the recipes it
extends (``base:``) merged under it, then the command line's dotted overrides; every key
checked against the schema, then every value (``mcr.config.checks``)."""

from __future__ import annotations

import dataclasses
from importlib.resources import files
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from mcr.config.checks import YAML_WORDS, check_recipe
from mcr.config.errors import RecipeError, key_error
from mcr.config.schema import DEFAULT_RECIPE, Recipe
from mcr.shipped import resolve_model_path


def recipes_dir() -> Path:
    return Path(str(files("mcr.recipes")))


def available_recipes() -> list[str]:
    return sorted(p.stem for p in recipes_dir().glob("*.yaml"))


def recipe_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = recipes_dir() / f"{name}.yaml"
    if not candidate.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {available_recipes()} (or a path to a YAML file)"
        )
    return candidate


def _valid_keys(node: Any) -> list[str]:
    if dataclasses.is_dataclass(node):
        return [f.name for f in dataclasses.fields(node)]
    return []


def _check_keys(cfg: dict[str, Any], schema: Any, prefix: str, where: str) -> None:
    valid = _valid_keys(schema)
    for key, value in cfg.items():
        dotted = f"{prefix}{key}"
        if key not in valid:
            raise key_error(dotted, valid, where)
        sub = getattr(schema, key)
        if dataclasses.is_dataclass(sub) and isinstance(value, dict):
            _check_keys(value, sub, dotted + ".", where)
        elif dataclasses.is_dataclass(sub) and value is not None:
            hint = {
                "benchmarks": " (the benchmarks to evaluate are eval.benchmarks)",
                "families": " (the model's family is model.family)",
            }.get(dotted, "")
            raise RecipeError(
                f"{where}: {dotted} is a section with keys {_valid_keys(sub)}, not a value{hint}"
            )


def _set_keys(cfg: Any, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in OmegaConf.to_container(cfg, resolve=False).items():
        keys.add(prefix + str(key))
        if isinstance(value, dict):
            keys |= _set_keys(OmegaConf.create(value), f"{prefix}{key}.")
    return keys


# command-line shorthands for keys of the eval section
ALIASES = {
    "checkpoints": "eval.checkpoints",
    "checkpoint": "eval.checkpoints",
    "benchmarks": "eval.benchmarks",
}


def split_recipe_args(argv: list[str]) -> tuple[str, list[str]]:
    """``["recipe=tiny", "a.b=1"]`` -> ``("tiny", ["a.b=1"])``; every argument must be key=value."""
    name, overrides = DEFAULT_RECIPE, []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise RecipeError(
                f"expected key=value, got {arg!r} (example: recipe=tiny grpo.learning_rate=1e-6)"
            )
        key = key.removeprefix("+")
        if key == "recipe":
            name = value
        elif key in ALIASES:
            items = [v.strip() for v in value.strip().strip("[]").split(",") if v.strip()]
            overrides.append(f"{ALIASES[key]}=[{','.join(items)}]")
        elif value.lower() in YAML_WORDS and value.lower() not in ("true", "false"):
            # keep yes/no/on/off as written (save_strategy=no); boolean fields convert them later
            overrides.append(f"{key}='{value}'")
        else:
            overrides.append(f"{key}={value}")
    return name, overrides


def load_file(path: Path, chain: tuple[Path, ...] = ()) -> Any:
    """A recipe file with the recipes it extends (``base:``) merged under it, every key checked."""
    if path.resolve() in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise RecipeError(f"recipes extend each other in a cycle: {cycle}")
    try:
        cfg = OmegaConf.load(path)
    except OmegaConfBaseException as err:
        raise RecipeError(f"{path}: {err}") from None
    _check_keys(OmegaConf.to_container(cfg, resolve=False), Recipe(), "", str(path))
    base = cfg.get("base")
    if base is None:
        return cfg
    parent = recipe_path(str(base)) if not Path(str(base)).is_absolute() else Path(str(base))
    if not Path(str(base)).suffix and not parent.is_file():
        raise RecipeError(f"{path}: base recipe {base!r} not found; available: {available_recipes()}")
    return OmegaConf.merge(load_file(parent, (*chain, path.resolve())), cfg)


def load_recipe(argv: list[str] | None = None) -> Recipe:
    """Load ``recipe=NAME`` (with the recipes it extends) and its dotted overrides; check every key,
    then every value (importing the reward modules of ``rewards.modules`` on the way)."""
    name, overrides = split_recipe_args(list(argv or []))
    path = recipe_path(name)
    from_file = load_file(path)
    try:
        from_cli = OmegaConf.from_dotlist(overrides)
    except OmegaConfBaseException as err:
        raise RecipeError(f"the command line: {err}") from None
    _check_keys(OmegaConf.to_container(from_cli, resolve=False), Recipe(), "", "the command line")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Recipe), from_file, from_cli)
    except ConfigKeyError as err:  # pragma: no cover - the checks above catch unknown keys first
        raise RecipeError(str(err)) from None
    except OmegaConfBaseException as err:
        raise RecipeError(
            f"{path} with overrides {overrides}: {err.msg if hasattr(err, 'msg') else err}"
        ) from None
    # "???" in a recipe marks a value the user must give (a merge would silently keep the default)
    missing = sorted(OmegaConf.missing_keys(from_file) - _set_keys(from_cli))
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        example = " ".join(f"{key}=..." for key in missing)
        raise RecipeError(f"{path}: {', '.join(missing)} {verb} required; pass {example} on the command line")
    recipe: Recipe = OmegaConf.to_object(merged)
    try:
        recipe.model.name_or_path = resolve_model_path(recipe.model.name_or_path)
    except FileNotFoundError as err:
        raise RecipeError(f"{path}: model.name_or_path: {err}") from None
    check_recipe(recipe, path)
    if "name" not in OmegaConf.load(path) and "name" not in from_cli:
        recipe.name = path.stem
    return recipe
