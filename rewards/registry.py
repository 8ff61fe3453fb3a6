"""The reward registry: a reward's name, as recipes use it, to its function, and the tasks whose
rows each reward scores."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from mcr.rewards.tasks import check_tasks

RewardFunc = Callable[..., list[float | None]]
REGISTRY: dict[str, RewardFunc] = {}


def register(name: str, *, tasks: Sequence[str] | None = None) -> Callable[[RewardFunc], RewardFunc]:
    """Add a reward function to ``REGISTRY`` under ``name`` (also its ``__name__``, which TRL logs).

    ``tasks`` declares the tasks whose rows the reward scores, for a function that does not
    declare them itself (``for_task`` does, as the function's ``tasks`` attribute); declared by
    neither, the reward scores rows of every task. Registering the same function again is a
    no-op; another function under a name already taken is an error.
    """

    def decorator(fn: RewardFunc) -> RewardFunc:
        known = REGISTRY.get(name)
        if known is not None and known is not fn:
            raise ValueError(
                f"reward {name!r} is already registered (by {_origin(known)}; now by {_origin(fn)}: "
                "a module imported twice, for example by its file path and by its dotted name?)"
            )
        if tasks is not None:
            fn.tasks = check_tasks(tasks, f"reward {name!r}")  # type: ignore[attr-defined]
        fn.__name__ = name
        REGISTRY[name] = fn
        return fn

    return decorator


def _origin(fn: RewardFunc) -> str:
    return f"{getattr(fn, '__module__', None)}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def reward_tasks(name: str) -> tuple[str, ...] | None:
    """The tasks whose rows reward ``name`` scores (None: every task's)."""
    return getattr(REGISTRY[name], "tasks", None)


def task_rewards(task: str) -> tuple[str, ...]:
    """The registered rewards declared for ``task``'s rows, in registration order (rewards that
    declare no task, such as the monitors, score every task's rows and are not listed)."""
    return tuple(name for name, fn in REGISTRY.items() if task in (getattr(fn, "tasks", None) or ()))
