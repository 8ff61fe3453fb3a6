"""Helpers shared by the test modules."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def tiny_run_args(tmp_path: Path, model_dir: Path, posts: int) -> list[str]:
    """The tiny recipe on a given model and a fresh synthetic data set (and MRSI data) under tmp_path."""
    return [
        "recipe=tiny",
        f"model.name_or_path={model_dir}",
        "model.build_tiny=false",
        f"data.root={tmp_path / 'data'}",
        f"data.images={tmp_path / 'data' / 'images'}",
        f"data.synth.n={posts}",
        "data.synth.splits=[0.8,0.1,0.1]",  # the release's shares: the tests count on them
        f"mrsi.output_dir={tmp_path / 'mrsi'}",
    ]


def load_bench(name: str) -> ModuleType:
    """The script ``bench/<name>.py`` as a module (bench/ is no package), as ``bench_<name>``; bench/
    goes on ``sys.path`` (last) for the modules a script imports beside it (``bench/gpu_*.py``)."""
    if str(REPO / "bench") not in sys.path:
        sys.path.append(str(REPO / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
