"""CVO GRPO from a clone: ``accelerate launch train_grpo.py recipe=mcr_qwen``.

The stage itself is ``mcr.train_grpo``, which an install runs as ``mcr grpo recipe=...`` or
``accelerate launch -m mcr.train_grpo recipe=...``; ``--help`` prints every recipe key.
"""

from mcr.train_grpo import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    run()
