"""MRSI SFT from a clone: ``accelerate launch train_sft.py recipe=tiny``.

The stage itself is ``mcr.train_sft``, which an install runs as ``mcr sft recipe=...`` or
``accelerate launch -m mcr.train_sft recipe=...``; ``--help`` prints every recipe key.
"""

from mcr.train_sft import main, run

__all__ = ["main", "run"]

if __name__ == "__main__":
    run()
