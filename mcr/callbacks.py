"""Trainer callbacks that make runs safe to kill and easy to audit.

* ``CompleteCheckpointCallback`` marks a checkpoint complete once every process has written
  its part; resuming only considers marked checkpoints, so a save cut short by a crash is
  never picked up.
* ``SigtermCallback`` turns SIGTERM (a scheduler's pre-emption) into "save a checkpoint at the
  end of this step, then stop".
* ``RankReportCallback`` writes, per process, how many optimizer steps it took and the world
  size, under ``<output_dir>/ranks/``.
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path

import torch.distributed as dist
from transformers import TrainerCallback
from transformers.trainer_utils import PREFIX_CHECKPOINT_DIR

logger = logging.getLogger(__name__)

COMPLETE_MARKER = ".complete"


def _barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


class CompleteCheckpointCallback(TrainerCallback):
    def on_save(self, args, state, control, **kwargs):
        _barrier()  # every rank has written its shards (optimizer states under DeepSpeed)
        if state.is_world_process_zero:
            folder = Path(args.output_dir) / f"{PREFIX_CHECKPOINT_DIR}-{state.global_step}"
            if folder.is_dir():
                (folder / COMPLETE_MARKER).write_text(json.dumps({"global_step": state.global_step}))
        _barrier()
        return control


class SigtermCallback(TrainerCallback):
    def __init__(self) -> None:
        self.terminated = False
        self._previous = None

    def _handle(self, signum, frame) -> None:
        logger.warning("SIGTERM: saving a checkpoint at the end of this step, then stopping")
        self.terminated = True

    def on_train_begin(self, args, state, control, **kwargs):
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return control

    def on_step_end(self, args, state, control, **kwargs):
        if self.terminated:
            control.should_save = True
            control.should_training_stop = True
        return control

    def on_train_end(self, args, state, control, **kwargs):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
        return control


class RankReportCallback(TrainerCallback):
    def __init__(self) -> None:
        self.steps = 0

    def on_step_end(self, args, state, control, **kwargs):
        self.steps += 1
        return control

    def on_train_end(self, args, state, control, **kwargs):
        rank = dist.get_rank() if dist.is_available() and dist.is_initialized() else 0
        world = dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
        folder = Path(args.output_dir) / "ranks"
        folder.mkdir(parents=True, exist_ok=True)
        report = {
            "rank": rank,
            "world_size": world,
            "steps_this_run": self.steps,
            "global_step": state.global_step,
            **_backend(),
        }
        (folder / f"rank{rank}.json").write_text(json.dumps(report))
        return control


def _backend() -> dict:
    """How this process is distributed: accelerate's distributed type and the ZeRO stage, if any."""
    from accelerate.state import AcceleratorState

    if not AcceleratorState._shared_state:
        return {"distributed_type": "NO", "zero_stage": None}
    state = AcceleratorState()
    plugin = getattr(state, "deepspeed_plugin", None)
    return {
        "distributed_type": str(state.distributed_type.value),
        "zero_stage": plugin.zero_stage if plugin else None,
    }


def complete_checkpoints(output_dir: str | Path) -> list[Path]:
    """The run's complete checkpoints, oldest first."""
    folder = Path(output_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX_CHECKPOINT_DIR}-*"):
        suffix = path.name.removeprefix(f"{PREFIX_CHECKPOINT_DIR}-")
        if suffix.isdigit() and (path / COMPLETE_MARKER).is_file():
            found.append((int(suffix), path))
    return [path for _, path in sorted(found)]
