"""Where rewards come from: the modules of this package, and the modules and files a recipe
names in ``rewards.modules``.

An entry of ``rewards.modules`` is a dotted module importable on ``sys.path``
(``my_pkg.rewards``) or a Python file (``./my_rewards.py``: it ends in ``.py`` or holds a path
separator; a relative path is read from the current directory). Importing it runs its
``@register`` decorators, as the package's own modules do. Each file is imported once, whatever
path names it; an entry that cannot be found or imported is an error that names it.

The entry each reward came from is kept (``reward_source``), so that a ``Reward`` unpickled in
another process (TRL's reward workers) imports it there first.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pkgutil
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

from mcr.rewards.registry import REGISTRY


class RewardModuleError(ImportError):
    """An entry of ``rewards.modules`` that cannot be found or imported."""


# reward name -> the entry (a resolved file path or a dotted module) that registered it
_ORIGINS: dict[str, str] = {}
# file path -> the module imported from it
_FILES: dict[Path, ModuleType] = {}


def is_file_entry(entry: str) -> bool:
    """Whether a ``rewards.modules`` entry names a file (else a dotted module)."""
    return entry.endswith(".py") or "/" in entry or os.sep in entry


def load_reward_modules(entries: Iterable[str]) -> list[ModuleType]:
    """Import every entry of ``rewards.modules`` (each once), registering its rewards."""
    return [load_reward_module(entry) for entry in entries]


def load_reward_module(entry: str) -> ModuleType:
    """Import one ``rewards.modules`` entry: a dotted module or a ``.py`` file."""
    before = set(REGISTRY)
    if is_file_entry(entry):
        path = Path(entry).expanduser()
        path = (path if path.is_absolute() else Path.cwd() / path).resolve()
        module, origin = _import_file(entry, path), str(path)
    else:
        module, origin = _import_dotted(entry), entry
    for name in set(REGISTRY) - before:
        _ORIGINS[name] = origin
    return module


def _import_file(entry: str, path: Path) -> ModuleType:
    if path in _FILES:
        return _FILES[path]
    if not path.is_file():
        what = "a folder; name a .py file, or the package as a dotted module" if path.is_dir() else "no file"
        raise RewardModuleError(f"rewards.modules: {entry!r}: {what} ({path})")
    for module in list(sys.modules.values()):  # already imported by its dotted name
        # read __dict__, not the attribute: lazy modules compute missing attributes
        if getattr(module, "__dict__", {}).get("__file__") == str(path):
            _FILES[path] = module
            return module
    stem, digest = re.sub(r"\W", "_", path.stem), hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"mcr_reward_file_{stem}_{digest}"  # one module per file, whatever path named it
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise RewardModuleError(f"rewards.modules: {entry!r}: not a Python file ({path})")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does: dataclasses and pickle look modules up there
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise RewardModuleError(
            f"rewards.modules: {entry!r}: importing {path} raised {type(err).__name__}: {err}"
        ) from err
    _FILES[path] = module
    return module


def _import_dotted(entry: str) -> ModuleType:
    try:
        return importlib.import_module(entry)
    except Exception as err:
        missing = getattr(err, "name", None) if isinstance(err, ModuleNotFoundError) else None
        if missing is not None and (entry == missing or entry.startswith(missing + ".")):
            raise RewardModuleError(
                f"rewards.modules: {entry!r}: no module of that name on sys.path (a file: give its "
                "path, ending in .py)"
            ) from err
        raise RewardModuleError(
            f"rewards.modules: {entry!r}: importing it raised {type(err).__name__}: {err}"
        ) from err


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
