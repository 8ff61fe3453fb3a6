"""Checkpoints as chains of adapters: load any stage of a run, or export it as a full model.

A run that starts from an earlier stage's adapter merged into the weights (GRPO after SFT)
writes ``mcr_lineage.json`` beside its own adapter: the base model and the adapters merged
before it, in order. Loading follows that chain, so a GRPO checkpoint evaluates on exactly the
weights it was trained on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LINEAGE_FILE = "mcr_lineage.json"


def write_lineage(output_dir: str | Path, base_model: str, merged_adapters: list[str]) -> None:
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    lineage = {"base_model": base_model, "merged_adapters": [str(Path(a).resolve()) for a in merged_adapters]}
    (Path(output_dir) / LINEAGE_FILE).write_text(json.dumps(lineage, indent=2))


def adapter_chain(checkpoint: str | Path) -> tuple[str | None, list[str]]:
    """(base model recorded by the run or None, adapters to merge in order, the checkpoint's own last)."""
    path = Path(checkpoint)
    for candidate in (path, path.parent):  # a checkpoint-N folder sits inside the run's folder
        lineage_file = candidate / LINEAGE_FILE
        if lineage_file.is_file():
            lineage = json.loads(lineage_file.read_text())
            return lineage["base_model"], [*lineage["merged_adapters"], str(path)]
    return None, [str(path)]


def load_checkpoint(checkpoint: str | None, base_model: str, **model_kwargs: Any):
    """The model of a checkpoint with every adapter of its chain merged in (None: the base model)."""
    from peft import PeftModel
    from transformers import AutoModelForImageTextToText

    if checkpoint is None:
        return AutoModelForImageTextToText.from_pretrained(base_model, **model_kwargs)
    if not (Path(checkpoint) / "adapter_config.json").is_file():
        # a full model directory (for example an export)
        return AutoModelForImageTextToText.from_pretrained(checkpoint, **model_kwargs)
    recorded_base, adapters = adapter_chain(checkpoint)
    model = AutoModelForImageTextToText.from_pretrained(recorded_base or base_model, **model_kwargs)
    for adapter in adapters:
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    return model


def export_merged(checkpoint: str, base_model: str, out: str | Path, **model_kwargs: Any) -> Path:
    """Write the checkpoint's merged weights as a full model directory, loadable with from_pretrained."""
    from transformers import AutoProcessor

    model = load_checkpoint(checkpoint, base_model, **model_kwargs)
    model.save_pretrained(out)
    processor_source = checkpoint if (Path(checkpoint) / "processor_config.json").is_file() else base_model
    AutoProcessor.from_pretrained(processor_source).save_pretrained(out)
    return Path(out)
