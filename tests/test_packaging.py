"""A non-editable install carries everything: every module, template, recipe and config file."""

from __future__ import annotations

import subprocess
import sys
import zipfile

import pytest

from helpers.runs import REPO

# repository folder -> where it lands in the wheel (pyproject's package-dir)
INSTALLED_AS = {
    "mcr": "mcr",
    "rewards": "mcr/rewards",
    "eval": "mcr/eval",
    "templates": "mcr/templates",
    "recipes": "mcr/recipes",
    "assets": "mcr/assets",
}


@pytest.mark.slow
def test_the_wheel_holds_every_module_template_recipe_and_config(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("mcr-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"{target}/{path.relative_to(REPO / folder).as_posix()}"
        for folder, target in INSTALLED_AS.items()
        for pattern in ("*.py", "*.jinja", "*.yaml")
        for path in (REPO / folder).rglob(pattern)
        if "__pycache__" not in path.parts
    }
    assert len([n for n in expected if n.endswith(".jinja")]) >= 13  # 5 prompts, 4 + 4 styles
    assert len([n for n in expected if n.endswith(".yaml")]) >= 9  # recipes and accelerate configs
    assert not expected - names, sorted(expected - names)
    # the shipped tiny base, every file of it (mcr:tiny-base)
    shipped = {f"mcr/assets/tiny-base/{p.name}" for p in (REPO / "assets" / "tiny-base").iterdir()}
    assert "mcr/assets/tiny-base/model.safetensors" in shipped and not shipped - names, sorted(
        shipped - names
    )
