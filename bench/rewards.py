"""Throughput of the CVO reward set on one core, its cost relative to the format reward alone,
and what the reward-hacking monitors add to it.

Scores a realistic mix of GMNER completions (valid, partly wrong, malformed; 1-4 entities;
reasoning in the checklist style; 8 generations per prompt) the way TRL calls rewards: each
reward function over a whole generation batch, one after another (``bench/reward_timing.py``,
which the GPU bench shares). Parse caches are cleared before every timed pass, so each pass
parses every completion once, as in training. Targets: >= 20,000
completions/s for the full set; full set / format alone <= 2; full set with the monitors /
full set <= 1.10 (they read the same cached parse).

    python bench/rewards.py [--n 4096] [--batch 512] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics

from mcr.contract.parse import parse_completion
from mcr.rewards import CVO_GMNER, REGISTRY
from mcr.rewards.monitors import MONITOR_REWARDS

from reward_timing import timed_pass  # bench/reward_timing.py: the GPU bench times rewards the same way

FULL_SET = list(CVO_GMNER)
NAMES = ["Kevin Durant", "Oakland", "Warriors", "Lake Voss", "Marla", "Nordbank United", "Skyline Cup"]
TYPES = ["PER", "LOC", "ORG", "OTHER"]


def make_prompt(rng: random.Random) -> tuple[list[dict], str]:
    """A prompt's gold entities and input text."""
    names = rng.sample(NAMES, rng.randint(1, 4))
    gold = []
    for name in names:
        shown = rng.random() < 0.6
        x, y = rng.randint(0, 150), rng.randint(0, 150)
        gold.append(
            {"entity": name, "type": rng.choice(TYPES), "bbox": [[x, y, x + 40, y + 40]] if shown else []}
        )
    text = "RT @user : " + " and ".join(f"{n} in red" for n in names) + " #tag"
    return gold, text


def make_completion(rng: random.Random, gold: list[dict]) -> str:
    """One completion for a prompt: right, partly wrong or malformed."""
    answer = []
    for g in gold:
        box = g["bbox"][0] if g["bbox"] else None
        kind = rng.random()
        if kind < 0.15 and box:  # a box that misses
            box = [v + 60 for v in box]
        elif kind < 0.25:  # a wrong type
            g = {**g, "type": rng.choice(TYPES)}
        elif kind < 0.3:  # a textual shortcut
            box = box or [1, 1, 30, 30]
        answer.append({"entity": g["entity"], "type": g["type"], "bbox": box})
    if rng.random() < 0.1:
        answer.append({"entity": "Lakers", "type": "ORG", "bbox": None})  # a visual shortcut
    think = "\n".join(
        f"{a['entity']}: type {a['type']}, {'shown' if a['bbox'] else 'not shown'}." for a in answer
    )
    completion = f"<think>\n{think}\n</think>\n<answer>{json.dumps(answer)}</answer>"
    malformed = rng.random()
    if malformed < 0.1:
        completion = completion[: rng.randint(10, len(completion))]  # cut off by the length limit
    elif malformed < 0.2:
        completion = completion.replace('"', "'")  # not JSON
    return completion


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=4096, help="completions per pass")
    parser.add_argument(
        "--batch", type=int, default=512, help="completions per reward call (a generation batch)"
    )
    parser.add_argument("--generations", type=int, default=8, help="completions per prompt")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    rng = random.Random(0)
    # as in GRPO, each prompt's gold and text are shared by its group of generations
    examples = []
    while len(examples) < args.n:
        gold, text = make_prompt(rng)
        examples += [(make_completion(rng, gold), json.dumps(gold), text) for _ in range(args.generations)]
    examples = examples[: args.n]
    batches = []
    for i in range(0, args.n, args.batch):
        chunk = examples[i : i + args.batch]
        n = len(chunk)
        columns = {
            "gold": [g for _, g, _ in chunk],
            "text": [t for _, _, t in chunk],
            "task": ["gmner"] * n,
            "box_frame": [[252, 196]] * n,
        }
        batches.append(([c for c, _, _ in chunk], columns))

    def rewards(names: list[str]) -> list:
        return [REGISTRY[name] for name in names]

    full, fmt, monitored = [], [], []
    for _ in range(args.repeats):  # interleaved so that all see the same machine state
        full.append(timed_pass(rewards(FULL_SET), batches))
        fmt.append(timed_pass(rewards(["format"]), batches))
        monitored.append(timed_pass(rewards([*FULL_SET, *MONITOR_REWARDS]), batches))
    full_s, fmt_s, monitored_s = statistics.median(full), statistics.median(fmt), statistics.median(monitored)
    valid = sum(parse_completion(c).well_formed for c, _, _ in examples) / args.n
    print(
        f"{args.n} completions ({valid:.0%} well formed), batches of {args.batch}, one core, median of "
        f"{args.repeats}:"
    )
    print(
        f"  full set ({len(FULL_SET)} rewards)  {args.n / full_s:10,.0f} completions/s   (target >= 20,000)"
    )
    print(f"  format alone            {args.n / fmt_s:10,.0f} completions/s")
    print(f"  ratio full / format     {full_s / fmt_s:10.2f}             (target <= 2)")
    print(
        f"  with the {len(MONITOR_REWARDS)} monitors   {args.n / monitored_s:10,.0f} completions/s, "
        f"{monitored_s / full_s:.2f}x the full set   (target <= 1.10)"
    )


if __name__ == "__main__":
    main()
