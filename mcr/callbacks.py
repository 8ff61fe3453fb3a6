"""Trainer callbacks that make runs safe to kill and easy to audit.

* ``CompleteCheckpointCallback`` marks a checkpoint complete once every process has written
  its part; resuming only considers marked checkpoints, so a save cut short by a crash is
  never picked up.
* ``SigtermCallback`` turns SIGTERM (a scheduler's pre-emption) into "save a checkpoint at the
  end of this step, then stop".
* ``RankReportCallback`` writes, per process, how many optimizer steps it took and the world
  size, under ``<output_dir>/ranks/``.
* ``MonitorCallback`` warns when a reward-hacking monitor crosses its threshold.
* ``BoxSamplesCallback`` draws a few of GRPO's latest completions on their images, with gold
  and predicted boxes, in a W&B table.
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


class MonitorCallback(TrainerCallback):
    """Warn, naming the monitor and the step, when a logged monitor crosses its threshold: once
    when it goes above, again only after it has come back under (a warning per logged step would
    bury the crossing).

    ``monitors`` maps a monitor to the log key holding its value (``mcr.rewards.monitors``);
    ``completion_length`` is compared as a share of ``max_completion_length``.
    """

    def __init__(self, thresholds: dict[str, float], monitors: dict[str, str]) -> None:
        self.thresholds, self.monitors = thresholds, monitors
        self.crossed: list[tuple[int, str, float]] = []
        self._above: set[str] = set()

    def on_log(self, args, state, control, logs=None, **kwargs):
        for name, threshold in self.thresholds.items():
            value = (logs or {}).get(self.monitors[name])
            if value is None or value != value:  # absent, or NaN where no row had a value
                continue
            if name == "completion_length":
                value = value / args.max_completion_length
            if value <= threshold:
                self._above.discard(name)
            elif name not in self._above:
                self._above.add(name)
                self.crossed.append((state.global_step, name, value))
                logger.warning(
                    "monitor %s = %.3f crosses its threshold %g at step %d",
                    name,
                    value,
                    threshold,
                    state.global_step,
                )
        return control


class BoxSamplesCallback(TrainerCallback):
    """Every logging step, the first ``count`` completions of GRPO's latest generation batch on
    their images with their gold and predicted boxes, as W&B table ``grpo/boxes`` (a row per
    image of a sample). Needs W&B running and TRL's images (``log_multimodal``).

    ``rows`` are the training rows (``prompt``, ``gold``, ``task``, sizes): a completion finds its
    row through its prompt's text.
    """

    def __init__(self, trainer, rows: list[dict], count: int) -> None:
        self.trainer, self.count = trainer, count
        self.rows = {_prompt_text(row["prompt"]): row for row in rows}

    def on_log(self, args, state, control, logs=None, **kwargs):
        import wandb

        from mcr.benchmarks import get_benchmark
        from mcr.contract.parse import completion_text
        from mcr.wandb_boxes import boxed_image

        if (
            not state.is_world_process_zero
            or wandb.run is None
            or not self.count
            or "reward" not in (logs or {})
        ):
            return control  # only a training step's log has new completions
        latest = self.trainer._logs
        samples = list(zip(latest["prompt"], latest["completion"], latest["images"], strict=False))
        table = wandb.Table(columns=["step", "sample", "image_index", "image", "completion"])
        for k, (prompt, completion, images) in enumerate(samples[: self.count]):
            row, text = self.rows.get(_prompt_text(prompt)), completion_text(completion)
            benchmark = get_benchmark(row["task"]) if row else None
            overlay = benchmark.box_overlay(row, text) if benchmark else None
            for i, image in enumerate(images or []):
                table.add_data(
                    state.global_step, k, i, boxed_image(wandb, image, overlay if i == 0 else None), text
                )
        wandb.run.log({"grpo/boxes": table})
        return control


def _prompt_text(prompt: list[dict]) -> str:
    """The text parts of a conversational prompt, joined."""
    parts = []
    for message in prompt:
        content = message["content"]
        parts += [content] if isinstance(content, str) else [p.get("text") or "" for p in content]
    return "\n".join(parts)
