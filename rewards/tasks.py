"""Task gating: a per-completion score function made into a TRL reward for one task's rows.

A batch may mix rows of several tasks (its ``task`` column says which). A reward made by
``for_task`` scores the rows of its tasks and returns None for the others, which TRL leaves out
of the weighted sum; without a ``task`` column every row is taken to be of the reward's task.
The tasks it declares (its ``tasks`` attribute) are also what a recipe is checked against: a
GMNER recipe cannot train with a reward of MATE's rows only.

    @register("brevity")
    @for_task("gmner")
    def brevity(completion: str, gold: str, limit: int = 400) -> float:
        return 1.0 if len(completion) <= limit else 0.0

The score function takes the completion's text, then one value per column named in
``columns`` (default: the ``gold`` column), then its own keyword parameters (``limit``), which a
recipe sets as ``rewards.params.brevity.limit``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from mcr.benchmarks import BENCHMARKS
from mcr.contract.parse import completion_text

ScoreFunc = Callable[..., float]
TaskReward = Callable[..., list[float | None]]  # a RewardFunc with ``tasks`` and ``columns``

# what a missing column holds, for the error that asks for it
_COLUMN_MEANS = {"gold": "the gold answer", "text": "the input text"}
_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def check_tasks(tasks: Sequence[str], who: str) -> tuple[str, ...]:
    """``tasks`` as a tuple, each checked to be a benchmark's name (``mcr.benchmarks``)."""
    if isinstance(tasks, str):
        tasks = (tasks,)
    unknown = [t for t in tasks if t not in BENCHMARKS]
    if not tasks or unknown:
        named = f"unknown task(s) {unknown}" if unknown else "no task named"
        raise ValueError(f"{who}: {named}; the tasks: {sorted(BENCHMARKS)}")
    return tuple(tasks)


def for_task(*tasks: str, columns: Sequence[str] = ("gold",)) -> Callable[[ScoreFunc], TaskReward]:
    """Make ``score(completion_text, *columns, **params) -> float`` a TRL reward
    ``reward(completions, task=None, **kwargs) -> list[float | None]`` for the rows of ``tasks``.

    Rows of other tasks get None; without a ``task`` column every row is scored. The reward's
    signature shows the score function's keyword parameters (what ``reward_parameters`` lists and a
    recipe may set); a missing column is an error that names it.
    """
    declared = check_tasks(tasks, "for_task")
    columns = tuple(columns)

    def decorator(score: ScoreFunc) -> TaskReward:
        parameters = list(inspect.signature(score).parameters.values())
        if len([p for p in parameters if p.kind in _POSITIONAL]) < 1 + len(columns):
            raise TypeError(
                f"{score.__qualname__} must take the completion's text, then one argument per column "
                f"{list(columns)}, then its keyword parameters"
            )
        knobs = [p for p in parameters[1 + len(columns) :] if p.kind in _NAMED]
        names = tuple(p.name for p in knobs)

        @functools.wraps(score)
        def reward(
            completions: list[Any], task: Sequence[str] | None = None, **kwargs: Any
        ) -> list[float | None]:
            for column in columns:
                if kwargs.get(column) is None:
                    means = _COLUMN_MEANS.get(column, f"the {column!r} column")
                    raise ValueError(
                        f"the {reward.__name__} reward needs {means}: add a {column!r} column to the dataset"
                    )
            params = {k: kwargs[k] for k in names if k in kwargs}
            call = functools.partial(score, **params) if params else score
            if task is None:  # no task column: every row is of the reward's own task
                task = declared[:1] * len(completions)
            if len(columns) == 1:  # the usual case, once per completion of every GRPO step
                return [
                    call(completion_text(c), v) if t in declared else None
                    for c, t, v in zip(completions, task, kwargs[columns[0]], strict=True)
                ]
            rows = zip(*(kwargs[c] for c in columns), strict=True) if columns else [()] * len(completions)
            return [
                call(completion_text(c), *row) if t in declared else None
                for c, t, row in zip(completions, task, rows, strict=True)
            ]

        keyword = inspect.Parameter.KEYWORD_ONLY
        reward.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter("completions", inspect.Parameter.POSITIONAL_OR_KEYWORD),
                inspect.Parameter("task", keyword, default=None),
                *(p.replace(kind=keyword) for p in knobs),
                inspect.Parameter("kwargs", inspect.Parameter.VAR_KEYWORD),
            ]
        )
        reward.tasks = declared  # type: ignore[attr-defined]
        reward.columns = columns  # type: ignore[attr-defined]
        return reward

    return decorator
