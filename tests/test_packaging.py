"""A non-editable install carries everything: every module, template, recipe and config file, and
the stages run from it without a clone (``mcr sft``, ``mcr grpo``, ``mcr evaluate``,
``accelerate launch -m mcr.<stage>``)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

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
# the installed entry points: mcr <command> -> the module `accelerate launch -m` runs, its source
STAGES = {
    "sft": ("mcr.train_sft", "mcr/train_sft.py"),
    "grpo": ("mcr.train_grpo", "mcr/train_grpo.py"),
    "evaluate": ("mcr.eval.evaluate", "eval/evaluate.py"),
    "pipeline": ("mcr.pipeline", "mcr/pipeline.py"),
}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("mcr-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_every_module_template_recipe_and_config(wheel):
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


def test_each_stage_runs_as_a_module_and_a_command():
    """``accelerate launch -m mcr.<stage>`` needs a ``__main__`` block, ``mcr <stage>`` a ``run``
    function; a clone's scripts only call the package's."""
    from mcr import cli

    assert {name: module for name, (module, _) in cli.STAGES.items()} == {
        name: module for name, (module, _) in STAGES.items()
    }
    for module, source in STAGES.values():
        tree = ast.parse((REPO / source).read_text())
        assert "run" in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}, module
        assert any(
            isinstance(node, ast.If) and ast.unparse(node.test) == "__name__ == '__main__'"
            for node in tree.body
        ), f"{module} has no __main__ block"
    for script in ("train_sft.py", "train_grpo.py"):
        source = (REPO / script).read_text()
        assert f"from mcr.{script[:-3]} import main, run" in source and len(source.splitlines()) < 15


def _installed(tmp_path: Path, wheel: Path) -> Path:
    """A fresh virtual environment with the wheel installed; its dependencies are this
    environment's (a .pth file names our site-packages after its own)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "mcr_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "-q",
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    return venv


@pytest.mark.slow
def test_the_stages_run_from_an_install_without_a_clone(tmp_path, wheel):
    """From a folder outside the repository, with the wheel installed in a fresh environment:
    `mcr sft`, `mcr grpo` from its adapter, `mcr evaluate` of all three checkpoints, a few steps
    and samples each, on the shipped tiny base; and `accelerate launch -m` runs a stage's module."""
    venv = _installed(tmp_path, wheel)
    project = tmp_path / "project"
    project.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*command: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{command[:3]}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
        return proc

    python, mcr = str(venv / "bin" / "python"), str(venv / "bin" / "mcr")
    where = run(python, "-c", "import mcr, mcr.train_grpo; print(mcr.__file__)").stdout.splitlines()[-1]
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(REPO)

    tiny = ["recipe=tiny", "data.synth.n=20", "data.synth.splits=[0.8,0.1,0.1]"]
    run(mcr, "sft", *tiny, "sft.max_steps=2", "sft.per_device_train_batch_size=4", "sft.report_to=none")
    assert (project / "outputs" / "tiny-sft" / "adapter_model.safetensors").is_file()
    grpo = run(
        mcr,
        "grpo",
        *tiny,
        "model.init_adapter=outputs/tiny-sft",
        "grpo.max_steps=2",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=16",
        "grpo.report_to=none",
    )
    assert "== MCR GRPO run 'tiny' done" in grpo.stdout
    assert (project / "outputs" / "tiny-grpo" / "adapter_model.safetensors").is_file()
    evaluation = run(
        mcr,
        "evaluate",
        *tiny,
        "checkpoints=[base,outputs/tiny-sft,outputs/tiny-grpo]",
        "eval.max_samples=2",
        "eval.max_new_tokens=16",
        "eval.batch_size=2",
        "eval.report_to=[]",
        "eval.probes=[]",
    )
    assert "== MCR evaluation 'tiny': gmner" in evaluation.stdout
    comparison = json.loads((project / "outputs" / "tiny" / "eval" / "comparison.json").read_text())
    assert set(comparison["gmner"]) == {"untrained", "tiny-sft", "tiny-grpo"}

    # the pipeline's plan and a stage under `accelerate launch -m`, as from a clone
    plan = [line.split("\t") for line in run(mcr, "pipeline", "plan", *tiny).stdout.splitlines()]
    assert [stage[0] for stage in plan] == ["sft", "grpo", "evaluation"]
    launched = run(
        python,
        "-m",
        "accelerate.commands.launch",
        "--cpu",
        "--num_processes",
        "1",
        "-m",
        "mcr.train_grpo",
        "--help",
    )
    assert "\nCVO: GRPO training" in f"\n{launched.stdout}" and "model.init_adapter" in launched.stdout
