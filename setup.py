"""Package discovery for the ``mcr`` namespace; everything else is in pyproject.toml.

Each folder of pyproject.toml's ``package-dir`` (``mcr/``, and ``rewards/``, ``eval/``,
``recipes/``, ``templates/``, ``assets/`` installed as ``mcr.rewards`` ...) is one package, and every
folder under it a subpackage of that name (``mcr/benchmarks/gmner/`` -> ``mcr.benchmarks.gmner``,
``templates/mrsi/gmner/`` -> ``mcr.templates.mrsi.gmner``): a new benchmark home installs, editable
or from a wheel, with no list to edit. setuptools' own discovery (``packages.find``) cannot name a
top-level folder inside another package, hence these lines.
"""

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = Path(__file__).resolve().parent
PACKAGE_DIR = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]


def subpackages(folder: str) -> list[str]:
    """The folders under ``folder`` as dotted names; a folder whose name is no Python name
    (``assets/tiny-base/``) is data of its package (pyproject.toml's ``package-data``)."""
    found = find_namespace_packages(str(ROOT / folder), exclude=["__pycache__", "*.__pycache__"])
    return [name for name in found if all(part.isidentifier() for part in name.split("."))]


setup(
    packages=[
        f"{package}.{sub}" if sub else package
        for package, folder in PACKAGE_DIR.items()
        for sub in ["", *subpackages(folder)]
    ]
)
