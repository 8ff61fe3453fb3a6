"""Importing a user's module by name or path: what ``rewards.modules``, ``benchmarks.modules``
and ``mcr --benchmark-module`` take.

An entry is a dotted module importable on ``sys.path`` (``my_pkg.rewards``) or a Python file
(``./my_rewards.py``: it ends in ``.py`` or holds a path separator; a relative path is read from
the current directory). Each file is imported once, whatever path names it, and kept in
``sys.modules`` under one name per file (dataclasses and pickle look modules up there). An entry
that cannot be found or imported is an error that names the setting and the entry.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType


class UserModuleError(ImportError):
    """An entry of ``rewards.modules``, ``benchmarks.modules`` or ``--benchmark-module`` that
    cannot be found or imported."""


# file path -> the module imported from it
_FILES: dict[Path, ModuleType] = {}


def is_file_entry(entry: str) -> bool:
    """Whether an entry names a file (else a dotted module)."""
    return entry.endswith(".py") or "/" in entry or os.sep in entry


def entry_path(entry: str) -> Path | None:
    """The resolved file a file entry names (relative paths from the current directory); None for
    a dotted module."""
    if not is_file_entry(entry):
        return None
    path = Path(entry).expanduser()
    return (path if path.is_absolute() else Path.cwd() / path).resolve()


def import_user_module(
    entry: str, setting: str, error: type[UserModuleError] = UserModuleError
) -> ModuleType:
    """Import one entry, a dotted module or a ``.py`` file; ``setting`` (``rewards.modules``) starts
    the message of the ``error`` raised when it cannot be found or imported."""
    path = entry_path(entry)
    if path is None:
        return _import_dotted(entry, setting, error)
    return _import_file(entry, path, setting, error)


def _import_file(entry: str, path: Path, setting: str, error: type[UserModuleError]) -> ModuleType:
    if path in _FILES:
        return _FILES[path]
    if not path.is_file():
        what = "a folder; name a .py file, or the package as a dotted module" if path.is_dir() else "no file"
        raise error(f"{setting}: {entry!r}: {what} ({path})")
    for module in list(sys.modules.values()):  # already imported by its dotted name
        # read __dict__, not the attribute: lazy modules compute missing attributes
        if getattr(module, "__dict__", {}).get("__file__") == str(path):
            _FILES[path] = module
            return module
    stem, digest = re.sub(r"\W", "_", path.stem), hashlib.sha1(str(path).encode()).hexdigest()[:10]
    name = f"mcr_user_file_{stem}_{digest}"  # one module per file, whatever path named it
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise error(f"{setting}: {entry!r}: not a Python file ({path})")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # as an import does: dataclasses and pickle look modules up there
    try:
        spec.loader.exec_module(module)
    except Exception as err:
        del sys.modules[name]
        raise error(f"{setting}: {entry!r}: importing {path} raised {type(err).__name__}: {err}") from err
    _FILES[path] = module
    return module


def _import_dotted(entry: str, setting: str, error: type[UserModuleError]) -> ModuleType:
    try:
        return importlib.import_module(entry)
    except Exception as err:
        missing = getattr(err, "name", None) if isinstance(err, ModuleNotFoundError) else None
        if missing is not None and (entry == missing or entry.startswith(missing + ".")):
            raise error(
                f"{setting}: {entry!r}: no module of that name on sys.path (a file: give its "
                "path, ending in .py)"
            ) from err
        raise error(f"{setting}: {entry!r}: importing it raised {type(err).__name__}: {err}") from err
