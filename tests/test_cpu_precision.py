"""Trainers on a CPU run in fp32 without activation checkpointing unless the recipe says otherwise
(TRL's configs default to bf16 and checkpointing, which a CPU without native bf16 emulates ~20x
slower)."""

from __future__ import annotations

import pytest
import torch
from trl import GRPOConfig, SFTConfig

from mcr.training import on_cpu_defaults


@pytest.mark.parametrize("config", [SFTConfig, GRPOConfig])
def test_a_cpu_trainer_defaults_to_fp32(config, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    args = config(**on_cpu_defaults({"output_dir": str(tmp_path), "use_cpu": True}))
    assert args.bf16 is False and args.fp16 is False and args.activation_checkpointing is False
    # what TRL would have done without it
    trl_default = config(output_dir=str(tmp_path), use_cpu=True)
    assert trl_default.bf16 is True and trl_default.activation_checkpointing is True


def test_a_recipe_that_asks_for_bf16_or_checkpointing_keeps_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert on_cpu_defaults({"bf16": True})["bf16"] is True
    kept = on_cpu_defaults({"gradient_checkpointing": True})
    assert kept["gradient_checkpointing"] is True and "activation_checkpointing" not in kept
    assert on_cpu_defaults({"activation_checkpointing": True})["activation_checkpointing"] is True


def test_on_a_gpu_the_configs_defaults_stay(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert on_cpu_defaults({"output_dir": "x"}) == {"output_dir": "x"}
    # use_cpu on a GPU machine is a CPU run
    assert on_cpu_defaults({"use_cpu": True})["bf16"] is False
