"""Where rewards come from: the modules of this package, and the modules and files a recipe
names in ``rewards.modules``.

An entry of ``rewards.modules`` is a dotted module importable on ``sys.path``
(``my_pkg.rewards``) or a Python file (``./my_rewards.py``: it ends in ``.py`` or holds a path
separator; a relative path is read from the current directory), imported by
``mcr.user_modules`` as benchmark modules are. Importing it runs its ``@register`` decorators, as
the package's own modules do. Each file is imported once, whatever path names it; an entry that
cannot be found or imported is an error that names it.

The entry each reward came from is kept (``reward_source``), so that a ``Reward`` unpickled in
another process (TRL's reward workers) imports it there first.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from types import ModuleType

from mcr.rewards.registry import REGISTRY
from mcr.user_modules import UserModuleError, entry_path, import_user_module


class RewardModuleError(UserModuleError):
    """An entry of ``rewards.modules`` that cannot be found or imported."""


# reward name -> the entry (a resolved file path or a dotted module) that registered it
_ORIGINS: dict[str, str] = {}


def load_reward_modules(entries: Iterable[str]) -> list[ModuleType]:
    """Import every entry of ``rewards.modules`` (each once), registering its rewards."""
    return [load_reward_module(entry) for entry in entries]


def load_reward_module(entry: str) -> ModuleType:
    """Import one ``rewards.modules`` entry: a dotted module or a ``.py`` file."""
    before = set(REGISTRY)
    module = import_user_module(entry, "rewards.modules", RewardModuleError)
    path = entry_path(entry)
    for name in set(REGISTRY) - before:
        _ORIGINS[name] = entry if path is None else str(path)
    return module


def reward_source(name: str) -> str | None:
    """What another process imports to register reward ``name``: the ``rewards.modules`` entry
    that registered it (a file as its resolved path), else the module defining it; None for the
    package's own rewards (``mcr.rewards`` registers them) and for a script's ``__main__``."""
    if name in _ORIGINS:
        return _ORIGINS[name]
    module = getattr(REGISTRY[name], "__module__", None)
    if not module or module == "__main__" or module == "mcr.rewards" or module.startswith("mcr.rewards."):
        return None
    return module


def import_package_modules(package: str, path: Iterable[str]) -> None:
    """Import every module of a package (``mcr.rewards``): a new reward module there needs no other edit."""
    for module in pkgutil.iter_modules(path):
        importlib.import_module(f"{package}.{module.name}")
