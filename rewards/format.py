"""The format reward: does the completion follow the output contract?"""

from __future__ import annotations

from mcr.rewards.parse import parse_completion


def format_score(completion: str) -> float:
    """1.0 for ``<think>…</think><answer>JSON</answer>`` with nothing around it and an answer
    that is a valid GMNER list or a ``{"answer": …}`` object; else 0.0."""
    parsed = parse_completion(completion)
    if not parsed.well_formed:
        return 0.0
    is_mate = isinstance(parsed.answer, dict) and set(parsed.answer) == {"answer"}
    return 1.0 if parsed.entities is not None or is_mate else 0.0
