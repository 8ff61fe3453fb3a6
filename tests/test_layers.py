"""The layering contract: imports flow one way, down the layers, and never in a cycle.

    1. entry points   mcr.train_sft, mcr.train_grpo, mcr.eval.evaluate, mcr.pipeline, the mcr
                      command, and a clone's scripts calling them (train_sft.py, train_grpo.py)
    2. runtime        process set-up, models, checkpoints, MRSI data, generation, reporting
    3. benchmarks     one home per benchmark (mcr.benchmarks.<name>), and the CVO rewards
    4. foundations    the output contract, the record schema and data readers, templates,
                      the image space, the registry of per-completion caches, the importer
                      of users' modules

Every import counts: at module level, inside functions, and under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

from helpers.runs import REPO

# folder in the repository -> its name once installed (pyproject's package-dir)
PACKAGES = {
    "mcr": "mcr",
    "rewards": "mcr.rewards",
    "eval": "mcr.eval",
    "templates": "mcr.templates",
    "recipes": "mcr.recipes",
    "assets": "mcr.assets",
}
ENTRY_SCRIPTS = ("train_sft", "train_grpo")
LAYERS = (
    (
        "entry points",
        (
            "train_sft",
            "train_grpo",
            "mcr.train_sft",
            "mcr.train_grpo",
            "mcr.eval.evaluate",
            "mcr.pipeline",
            "mcr.cli",
        ),
    ),
    (
        "runtime",
        (
            "mcr.runtime",
            "mcr.models",
            "mcr.checkpoints",
            "mcr.callbacks",
            "mcr.training",
            "mcr.generation",
            "mcr.mrsi",
            "mcr.task_data",
            "mcr.lengths",
            "mcr.tiny_model",
            "mcr.pretrain",
            "mcr.wandb_boxes",
            "mcr.config",
            "mcr.eval",
        ),
    ),
    ("benchmarks", ("mcr.benchmarks", "mcr.rewards")),
    (
        "foundations",
        (
            "mcr.contract",
            "mcr.caches",
            "mcr.families",
            "mcr.data",
            "mcr.prompts",
            "mcr.image_space",
            "mcr.templates",
            "mcr.recipes",
            "mcr.shipped",
            "mcr.user_modules",
            "mcr.assets",
            "mcr",
        ),
    ),
)


def modules() -> dict[str, Path]:
    found = {name: REPO / f"{name}.py" for name in ENTRY_SCRIPTS}
    for folder, package in PACKAGES.items():
        for path in (REPO / folder).rglob("*.py"):
            parts = list(path.relative_to(REPO / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([package, *parts])] = path
    return found


def layer(module: str) -> int:
    """The layer of a module: the one naming the longest prefix of it (bare ``mcr`` names the
    package's own __init__ only)."""
    best = max(
        (
            (len(prefix), index)
            for index, (_, prefixes) in enumerate(LAYERS)
            for prefix in prefixes
            if module == prefix or (prefix != "mcr" and module.startswith(prefix + "."))
        ),
        default=None,
    )
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def imports(path: Path, name: str, known: set[str]) -> set[str]:
    """The project modules ``name`` imports, wherever in the file the import stands."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imports(path, name, set(found)) for name, path in found.items()}


def test_every_module_has_a_layer_and_imports_only_its_own_or_lower_ones():
    upward = [
        f"{source} ({LAYERS[layer(source)][0]}) imports {target} ({LAYERS[layer(target)][0]})"
        for source, targets in graph().items()
        for target in sorted(targets)
        if layer(target) < layer(source)
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    edges = graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if state.get(target) == 1:
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)


def test_the_checks_see_lazy_and_type_checking_imports(tmp_path):
    """A planted upward import inside a function and one under TYPE_CHECKING are both found."""
    planted = tmp_path / "planted.py"
    planted.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from mcr.config import Recipe\n"
        "def f():\n    from mcr.eval import evaluate\n"
    )
    found = imports(planted, "mcr.contract.planted", {"mcr.config", "mcr.eval", "mcr.eval.evaluate"})
    assert found == {"mcr.config", "mcr.eval.evaluate"}
    assert layer("mcr.contract.planted") > layer("mcr.config") > layer("mcr.eval.evaluate")
