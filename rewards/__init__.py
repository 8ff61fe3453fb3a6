"""CVO reward functions, importable as ``mcr.rewards``.

The reward contract
-------------------
A reward is a function with TRL's reward signature ``fn(completions, **kwargs) ->
list[float | None]``, registered under the name recipes use (``@register("name")``).
``completions`` are strings or TRL's conversational lists (``completion_text`` reads either);
the other arguments are the dataset's columns: ``gold`` (a JSON string: a GMNER list
``[{"entity", "type", "bbox": [[x1, y1, x2, y2], ...] | []}]`` with boxes in the model's
resized-image pixels, or a MATE object ``{"answer": ...}``), ``text`` (the input text) and
``task`` (the row's task, as ``mcr.benchmarks`` writes it). A reward is pure: no model, no
torch, no I/O, and an unparsable completion scores 0, never an exception.

*Task gating.* A reward that applies to one task's rows returns None for other rows, which TRL
leaves out of the weighted sum; without a ``task`` column every row is taken to be of the
reward's own task. ``for_task("gmner")`` does this for a per-completion score function
``score(completion_text, gold, **params) -> float`` and declares the reward's task, which a
recipe is checked against (a MATE recipe cannot train with a GMNER reward); ``task_rewards``
lists the rewards declared for a task. A reward that declares no task scores every task's rows.

*Parameters.* A reward's keyword parameters (``iou_threshold`` of ``grounding``, or a new
reward's own) are set per recipe: ``rewards.iou_threshold`` (σ) goes to every reward that takes
it, and ``rewards.params.<name>.<key>`` to that reward alone; a key the reward's signature does
not name is an error. ``reward_set`` turns a recipe's rewards section into callables, for
training and evaluation alike; they pickle (TRL's asynchronous reward workers need that).

*Caches.* TRL calls each reward separately, so work shared by several rewards is computed once
per completion and cached: ``@cached`` (``functools.lru_cache`` that registers itself) for a
cache, ``on_clear`` for other per-batch state. ``clear_caches()`` empties them all.

*Rewards of your own.* A reward module outside this package is named in a recipe, as a dotted
module on ``sys.path`` or a ``.py`` file (a relative path is read from the current directory)::

    rewards:
      modules: [my_pkg.rewards, ./my_rewards.py]
      funcs: {format: 1.0, brevity: 0.2}
      params: {brevity: {limit: 300}}

    # my_rewards.py
    from mcr.rewards import for_task, register

    @register("brevity")
    @for_task("gmner")
    def brevity(completion: str, gold: str, limit: int = 400) -> float:
        return 1.0 if len(completion) <= limit else 0.0

The modules are imported before the recipe's ``rewards.funcs`` are checked, by training and
evaluation alike, and again by any process that unpickles one of their rewards. A module of
this package is imported below, so a new file here needs no other edit either.

The built-in rewards
--------------------
| name | range | what it scores |
|---|---|---|
| format | {0, 1} | the output contract is followed exactly |
| count | [0, 1] | R_c = 1 - min(1, abs(n_pred - n_gold) / max(1, n_gold)) |
| span | [0, 1] | F1 of predicted vs gold spans |
| type | [0, 1] | share of span-matched entities with the right type |
| entailment | [0, 1] | share of span-matched entities with gold's shown-or-not decision |
| grounding | [0, 1] | share of matched groundable entities with IoU >= σ |
| consistency | [0, 1] | the reasoning's verdicts agree with the answer |
| textual_shortcut | [0, 1] | penalty: boxes for entities the image does not show |
| visual_shortcut | [0, 1] | penalty: answered entities absent from the text (needs a ``text`` column) |
| gmner_f1 | [0, 1] | GMNER F1 by the evaluation's rule (IoU > 0.5, no case folding) |
| mate | {0, 1} | MATE's official exact match |

Penalties are 0 for a clean completion and reach 1 when every answered entity is a
shortcut; recipes give them negative weights. The scoring lives in pure per-completion
functions (``constraints``, ``consistency``, ``format``, ``gmner``, ``mate``), registered in
``adapters``; ``monitors`` adds the reward-hacking monitors. The rest is machinery:
``registry`` (names and tasks), ``tasks`` (``for_task``), ``binding`` (parameters, ``Reward``,
``reward_set``), ``loading`` (``rewards.modules``) and ``mcr.caches``.
"""

from __future__ import annotations

from mcr.caches import cached, clear_caches, on_clear
from mcr.contract.parse import completion_text, parse_completion
from mcr.rewards.adapters import CVO_GMNER
from mcr.rewards.binding import Reward, get_reward_funcs, reward_parameters, reward_set
from mcr.rewards.loading import RewardModuleError, import_package_modules, load_reward_modules
from mcr.rewards.registry import REGISTRY, RewardFunc, register, reward_tasks, task_rewards
from mcr.rewards.tasks import for_task

if __name__ != "mcr.rewards":  # the folder imported by its path, e.g. from the repository root
    raise ImportError(
        f"the rewards package is mcr.rewards: import mcr.rewards (or mcr.rewards.<module>), not "
        f"{__name__!r}; a second copy would register every reward twice"
    )

import_package_modules(__name__, __path__)

__all__ = [
    "CVO_GMNER",
    "REGISTRY",
    "Reward",
    "RewardFunc",
    "RewardModuleError",
    "cached",
    "clear_caches",
    "completion_text",
    "for_task",
    "get_reward_funcs",
    "load_reward_modules",
    "on_clear",
    "parse_completion",
    "register",
    "reward_parameters",
    "reward_set",
    "reward_tasks",
    "task_rewards",
]
