"""A recipe's rewards as callables: each registered reward with its recipe parameters bound.

``rewards.iou_threshold`` (σ) goes to every reward that takes it, and
``rewards.params.<name>.<key>`` to that reward alone, checked against the reward's signature.
``reward_set`` is the one function that training and evaluation build their rewards with. A
``Reward`` pickles by its name, its parameters and where it came from (``reward_source``), so
that a process that unpickles it (TRL's reward workers) imports a user's reward module first.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from mcr.rewards.loading import load_reward_module, load_reward_modules, reward_source
from mcr.rewards.registry import REGISTRY

# dataset columns and TRL's own arguments: never a recipe parameter
_COLUMNS = {"completions", "gold", "text", "task", "prompts", "completion_ids"}


def reward_parameters(name: str) -> list[str]:
    """The keyword parameters a recipe may set for reward ``name``."""
    signature = inspect.signature(REGISTRY[name])
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return [p.name for p in signature.parameters.values() if p.kind in kinds and p.name not in _COLUMNS]


class Reward:
    """A registered reward with its recipe parameters bound; pickles by the reward's name (and
    the module it came from, for a reward of ``rewards.modules``)."""

    def __init__(self, name: str, params: Mapping[str, Any] | None = None) -> None:
        if name not in REGISTRY:
            raise ValueError(f"unknown reward {name!r}; registered: {sorted(REGISTRY)}")
        unknown = sorted(set(params or {}) - set(reward_parameters(name)))
        if unknown:
            raise ValueError(
                f"reward {name!r} takes no parameter {unknown[0]!r}; its parameters: "
                f"{reward_parameters(name) or 'none'}"
            )
        self.__name__ = name
        self.params = dict(params or {})

    def __call__(self, completions: list[Any], **kwargs: Any) -> list[float | None]:
        return REGISTRY[self.__name__](completions, **{**self.params, **kwargs})

    def __reduce__(self):
        return restore_reward, (self.__name__, self.params, reward_source(self.__name__))

    def __repr__(self) -> str:
        return f"Reward({self.__name__!r}, {self.params})"


def restore_reward(name: str, params: Mapping[str, Any], source: str | None = None) -> Reward:
    """A pickled ``Reward``: its module (``source``) imported first when this process lacks it."""
    if name not in REGISTRY and source is not None:
        load_reward_module(source)
    return Reward(name, params)


def get_reward_funcs(
    weights: Mapping[str, float],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    iou_threshold: float | None = None,
    modules: Iterable[str] = (),
) -> tuple[list[Reward], list[float]]:
    """The rewards named in ``weights`` with their parameters bound, and their weights.

    ``modules`` (``rewards.modules``) are imported first; ``iou_threshold`` (σ) goes to every
    reward that takes it; ``params[name]`` to one reward, over σ.
    """
    load_reward_modules(modules)
    unknown = [name for name in weights if name not in REGISTRY]
    if unknown:
        raise ValueError(f"unknown reward(s) {unknown}; registered: {sorted(REGISTRY)}")
    stray = sorted(set(params or {}) - set(weights))
    if stray:
        raise ValueError(f"rewards.params names {stray}, which rewards.funcs does not use")
    funcs = []
    for name in weights:
        bound = {}
        if iou_threshold is not None and "iou_threshold" in reward_parameters(name):
            bound["iou_threshold"] = iou_threshold
        bound.update((params or {}).get(name, {}))
        funcs.append(Reward(name, bound))
    return funcs, [float(w) for w in weights.values()]


def reward_set(section: Any) -> tuple[list[Reward], list[float]]:
    """The rewards of a recipe's ``rewards`` section (``modules``, ``funcs``, ``params``,
    ``iou_threshold``): what GRPO trains with and what evaluation reports, through this one function."""
    return get_reward_funcs(
        section.funcs,
        params=section.params,
        iou_threshold=section.iou_threshold,
        modules=getattr(section, "modules", ()),
    )
