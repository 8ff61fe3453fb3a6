"""train_grpo.py with one more reward registered: a dense signal for tests of a few steps.

An untrained tiny model scores 0 on every task reward, so its first steps carry no gradient;
``test_distinct_chars`` differs between any two completions.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import train_grpo
from mcr.config import load_recipe
from mcr.rewards import REGISTRY, register
from mcr.runtime import leave_process_group

if "test_distinct_chars" not in REGISTRY:

    @register("test_distinct_chars")
    def distinct_chars(completions, **kwargs):
        texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
        return [len(set(t)) / (len(t) + 1) for t in texts]


if __name__ == "__main__":
    train_grpo.main(load_recipe(sys.argv[1:]))
    leave_process_group()
