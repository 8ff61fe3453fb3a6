"""The format reward: does the completion follow the output contract?"""

from __future__ import annotations

from mcr.rewards.parse import parse_completion


def format_score(completion: str, task: str | None = None) -> float:
    """1.0 for ``<think>…</think><answer>JSON</answer>`` with nothing around it and an answer of
    the task's shape (``gmner``: a valid entity list; ``mate``: ``{"answer": …}``; None: either)."""
    parsed = parse_completion(completion)
    if not parsed.well_formed:
        return 0.0
    is_gmner = parsed.entities is not None
    is_mate = isinstance(parsed.answer, dict) and set(parsed.answer) == {"answer"}
    if task == "gmner":
        return float(is_gmner)
    if task == "mate":
        return float(is_mate)
    return float(is_gmner or is_mate)
