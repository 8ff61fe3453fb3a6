"""Recipes: YAML files in ``recipes/`` checked against the schema's dataclasses.

A run is chosen as ``recipe=NAME`` (a file ``recipes/NAME.yaml`` or a path to a YAML file)
plus dotted overrides such as ``grpo.learning_rate=1e-6`` or ``lora.r=8``. Every key is
checked: an unknown one fails with the close matches and the valid keys of its section.
The ``grpo`` section holds keyword arguments of ``trl.GRPOConfig`` and is checked against
that class's fields.

| module | its job |
|---|---|
| ``schema`` | the sections as dataclasses, each field with its default and help text |
| ``loading`` | recipe files, ``base:`` inheritance, command-line overrides, key checks |
| ``checks`` | the values: users' modules, rewards, task, family, probes, monitors, TRL fields |
| ``help`` | ``--help``: every key with its default and help text |
| ``errors`` | ``RecipeError`` and the unknown-key message |
"""

from mcr.config.errors import RecipeError
from mcr.config.help import recipe_help
from mcr.config.loading import (
    ALIASES,
    available_recipes,
    load_file,
    load_recipe,
    recipe_path,
    recipes_dir,
    split_recipe_args,
)
from mcr.config.schema import (
    DEFAULT_RECIPE,
    BenchmarkArgs,
    BenchmarkDataArgs,
    DataArgs,
    EvalArgs,
    FamilyArgs,
    GrpoGenerationArgs,
    LoraArgs,
    ModelArgs,
    MonitorArgs,
    MrsiArgs,
    Recipe,
    RewardArgs,
    SynthArgs,
    recipe_to_dict,
)

__all__ = [
    "ALIASES",
    "DEFAULT_RECIPE",
    "BenchmarkArgs",
    "BenchmarkDataArgs",
    "DataArgs",
    "EvalArgs",
    "FamilyArgs",
    "GrpoGenerationArgs",
    "LoraArgs",
    "ModelArgs",
    "MonitorArgs",
    "MrsiArgs",
    "Recipe",
    "RecipeError",
    "RewardArgs",
    "SynthArgs",
    "available_recipes",
    "load_file",
    "load_recipe",
    "recipe_help",
    "recipe_path",
    "recipe_to_dict",
    "recipes_dir",
    "split_recipe_args",
]
