"""Models shipped with the package. A recipe's ``model.name_or_path`` of ``mcr:NAME`` names the
folder ``assets/NAME`` of the repository, installed as ``mcr.assets`` (``mcr:tiny-base``: the
pretrained tiny base, ``mcr pretrain-tiny``)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

SHIPPED = "mcr:"


def shipped_model(name: str) -> Path:
    """The folder of the shipped model ``name``; a clear error when it is not there."""
    folder = Path(str(files("mcr.assets"))) / name
    if not (folder / "config.json").is_file():
        found = sorted(p.name for p in folder.parent.iterdir() if (p / "config.json").is_file())
        raise FileNotFoundError(f"no shipped model {SHIPPED}{name} in {folder.parent}; shipped: {found}")
    return folder


def resolve_model_path(name_or_path: str) -> str:
    """``mcr:NAME`` as the shipped model's folder; any other path or hub id unchanged."""
    if name_or_path.startswith(SHIPPED):
        return str(shipped_model(name_or_path[len(SHIPPED) :]))
    return name_or_path
