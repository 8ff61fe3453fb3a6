"""Installing the packages a GPU machine lacks (TRL, datasets, qwen-vl-utils, omegaconf...) from a
folder of wheels, with no index, then running the bench again with them on ``PYTHONPATH``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def install_wheels(folder: Path, target: Path) -> None:
    """Install every wheel of ``folder`` into ``target`` (no index, no dependencies resolved)."""
    wheels = sorted(str(p) for p in folder.glob("*.whl"))
    if not wheels:
        sys.exit(f"error: no wheels in {folder}")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-index",
            "--no-deps",
            "--no-compile",
            "--upgrade",
            "--target",
            str(target),
            *wheels,
        ],
        check=True,
    )


def rerun_with_wheels(script: Path, argv: list[str], folder: Path, work: Path) -> None:
    """Install ``folder``'s wheels into ``work/site`` and replace this process with ``script`` run
    on ``argv`` less ``--wheels``, the site first on ``PYTHONPATH`` (children inherit it)."""
    site = work / "site"
    install_wheels(folder, site)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))
    rest = [a for i, a in enumerate(argv) if a != "--wheels" and (i == 0 or argv[i - 1] != "--wheels")]
    rest = [a for a in rest if not a.startswith("--wheels=")]
    os.execv(sys.executable, [sys.executable, str(script), *rest])
