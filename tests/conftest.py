"""Shared fixtures: the tiny model and a small synthetic data set, built once per session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Nothing in the tests may reach a hub; W&B logs offline.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # the entry points (train_grpo.py) live at the repository root
    sys.path.insert(0, str(REPO))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from mcr.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "model", seed=0)


@pytest.fixture(scope="session")
def synth_root(tmp_path_factory) -> Path:
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner

    return write_synthetic_gmner(tmp_path_factory.mktemp("synth") / "gmner", n=60, seed=0, progress=False)
