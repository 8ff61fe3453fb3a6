"""Rewards from outside the repository: a recipe names their modules (``rewards.modules``), as a
dotted module or a file, and they register, take parameters, cache, gate by task and pickle
like the built-in ones."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from mcr.config import RecipeError, load_recipe
from mcr.rewards import (
    REGISTRY,
    RewardModuleError,
    clear_caches,
    for_task,
    load_reward_modules,
    reward_parameters,
    reward_set,
    reward_tasks,
)

from helpers.runs import REPO, tiny_run_args

GOLD = json.dumps([{"entity": "Kevin Durant", "type": "PER", "bbox": []}])
ANSWER = (
    "<think>Kevin Durant PER not shown</think>"
    '<answer>[{"entity": "Kevin Durant", "type": "PER", "bbox": null}]</answer>'
)

# a reward module as a user writes it, in their own project: a name per test keeps tests apart
USER_MODULE = '''
from mcr.rewards import cached, for_task, register

CALLS = []


@cached(maxsize=64)
def length(text: str) -> int:
    return len(text)


@register("{name}")
@for_task("gmner")
def brevity(completion: str, gold: str, limit: int = 400) -> float:
    """1.0 for completions of at most ``limit`` characters, else 0.0."""
    CALLS.append(completion)
    return 1.0 if length(completion) <= limit else 0.0
'''


@pytest.fixture(autouse=True)
def _forget_test_rewards():
    """The rewards a test registers leave the registry with it."""
    before = set(REGISTRY)
    yield
    for name in set(REGISTRY) - before:
        del REGISTRY[name]


def write_module(folder, name: str, file: str = "my_rewards.py", source: str = USER_MODULE):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / file
    path.write_text(textwrap.dedent(source).format(name=name))
    return path


def test_a_missing_or_broken_module_is_an_error_that_names_it(tmp_path, monkeypatch):
    missing = tmp_path / "nowhere" / "mine.py"
    where = re.escape(str(missing))
    with pytest.raises(RecipeError, match=rf"rewards\.modules: '{where}': no file \({where}\)"):
        load_recipe(["recipe=tiny", f"rewards.modules=[{missing}]"])
    with pytest.raises(RecipeError, match=r"'no_such_pkg_mcr\.rewards': no module of that name on sys\.path"):
        load_recipe(["recipe=tiny", "rewards.modules=[no_such_pkg_mcr.rewards]"])
    broken = write_module(tmp_path, "unused", "broken.py", "import math\nmath.log(0)\n")
    where = re.escape(str(broken))
    with pytest.raises(RewardModuleError, match=rf"'{where}': importing {where} raised ValueError"):
        load_reward_modules([str(broken)])
    # a module that exists but imports something missing: the missing dependency is named
    write_module(tmp_path / "pkg_with_missing_dep", "unused", "__init__.py", "import not_installed_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        RewardModuleError, match=r"'pkg_with_missing_dep': importing it raised .*not_installed_xyz"
    ):
        load_reward_modules(["pkg_with_missing_dep"])
    # a reward name the registry lacks is refused when the recipe loads, with where to add one
    with pytest.raises(
        RecipeError, match=r"unknown reward\(s\) \['nope'\].*name its module or file in rewards"
    ):
        load_recipe(["recipe=tiny", "rewards.funcs.nope=1.0"])


def test_a_user_reward_registers_and_its_parameters_are_checked(tmp_path, monkeypatch):
    path = write_module(tmp_path / "project", "user_brevity")
    monkeypatch.chdir(tmp_path)
    args = ["recipe=tiny", "rewards.modules=[./project/my_rewards.py]", "rewards.funcs.user_brevity=0.2"]
    recipe = load_recipe([*args, "rewards.params.user_brevity.limit=5"])
    assert reward_parameters("user_brevity") == ["limit"] and reward_tasks("user_brevity") == ("gmner",)
    funcs, weights = reward_set(recipe.rewards)
    assert funcs[-1].__name__ == "user_brevity" and funcs[-1].params == {"limit": 5} and weights[-1] == 0.2
    assert funcs[-1](["short", "much too long"], gold=["[]", "[]"]) == [1.0, 0.0]
    # the same file again, by another path: imported once, registered once
    registered = REGISTRY["user_brevity"]
    load_recipe([*args[:1], f"rewards.modules=[{path}]", *args[2:]])
    load_reward_modules([str(tmp_path / "project" / ".." / "project" / "my_rewards.py")])
    assert REGISTRY["user_brevity"] is registered
    recipe = load_recipe([*args, "rewards.params.user_brevity.limt=5"])
    with pytest.raises(
        ValueError, match=r"'user_brevity' takes no parameter 'limt'; its parameters: \['limit'\]"
    ):
        reward_set(recipe.rewards)


def test_a_dotted_module_on_sys_path_registers_too(tmp_path, monkeypatch):
    write_module(tmp_path / "user_pkg", "dotted_brevity", "rewards.py")
    (tmp_path / "user_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    recipe = load_recipe(
        ["recipe=tiny", "rewards.modules=[user_pkg.rewards]", "rewards.funcs.dotted_brevity=1"]
    )
    funcs, _ = reward_set(recipe.rewards)
    assert (
        funcs[-1].__name__ == "dotted_brevity" and REGISTRY["dotted_brevity"].__module__ == "user_pkg.rewards"
    )


def test_a_user_cache_and_the_monitors_batch_are_cleared(tmp_path):
    from mcr.rewards import monitors

    (module,) = load_reward_modules([str(write_module(tmp_path, "cached_brevity"))])
    REGISTRY["cached_brevity"](["abc", "abcd"], gold=["[]", "[]"])
    REGISTRY["monitor_empty_answer"]([ANSWER], gold=[GOLD])
    assert module.length.cache_info().currsize == 2 and monitors._last_batch[0] is not None
    clear_caches()
    assert module.length.cache_info().currsize == 0 and monitors._last_batch == [None, None]


def test_task_gating_scores_its_own_tasks_rows_and_none_of_the_others():
    @for_task("mate")
    def exact(completion: str, gold: str) -> float:
        return float(gold in completion)

    mate_gold = json.dumps({"answer": "red"})
    both = {"gold": [mate_gold, GOLD], "task": ["mate", "gmner"]}
    assert exact([mate_gold, ANSWER], **both) == [1.0, None]
    assert exact([mate_gold], gold=[mate_gold]) == [1.0]  # no task column: the reward's own task
    assert exact.tasks == ("mate",)
    with pytest.raises(ValueError, match=r"the exact reward needs the gold answer: add a 'gold' column"):
        exact([ANSWER], task=["mate"])

    @for_task("gmner", "mate", columns=("text",))
    def echoes(completion: str, text: str, *, weight: float = 1.0) -> float:
        return weight * (text in completion)

    rows = {"text": ["red", "Kevin", "x"], "task": ["mate", "gmner", "mmra"]}
    assert echoes(["red", ANSWER, "x"], weight=0.5, **rows) == [0.5, 0.5, None]
    with pytest.raises(ValueError, match=r"for_task: unknown task\(s\) \['gmnr'\]"):
        for_task("gmnr")


def test_a_recipe_refuses_a_user_reward_declared_for_another_task(tmp_path):
    path = write_module(tmp_path, "gmner_only")
    with pytest.raises(
        RecipeError, match=r"reward\(s\) \['gmner_only'\] score gmner rows only, none of the mate"
    ):
        load_recipe(["recipe=tiny_mate", f"rewards.modules=[{path}]", "rewards.funcs.gmner_only=1.0"])


@pytest.mark.parametrize("kind", ["file", "dotted"])
def test_a_user_reward_unpickles_in_a_fresh_interpreter(tmp_path, monkeypatch, kind):
    """TRL's reward workers unpickle the reward set: a user reward carries its module with it."""
    name = f"pickled_brevity_{kind}"
    path = write_module(tmp_path / "project", name, "pickled_rewards.py")
    entry = str(path)
    env = {**os.environ}
    if kind == "dotted":
        monkeypatch.syspath_prepend(str(tmp_path / "project"))
        entry, env["PYTHONPATH"] = "pickled_rewards", str(tmp_path / "project")
    recipe = load_recipe(["recipe=tiny", f"rewards.modules=[{entry}]", f"rewards.funcs.{name}=1.0"])
    funcs, _ = reward_set(recipe.rewards)
    (tmp_path / "rewards.pkl").write_bytes(pickle.dumps(funcs))
    columns = {"gold": ["[]", "[]"], "text": ["", ""], "task": ["gmner", "gmner"]}
    script = textwrap.dedent(f"""
        import json, pickle
        from mcr.rewards import REGISTRY
        assert {name!r} not in REGISTRY
        funcs = pickle.loads(open({str(tmp_path / "rewards.pkl")!r}, "rb").read())
        print(json.dumps([[f.__name__, f(["x" * 500, "short"], **{columns!r})] for f in funcs]))
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    here = [[f.__name__, f(["x" * 500, "short"], **columns)] for f in funcs]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here
    assert here[-1] == [name, [0.0, 1.0]]


@pytest.mark.slow
def test_grpo_trains_with_rewards_from_outside_the_repository(tmp_path, tiny_model_dir, monkeypatch):
    """Two GRPO steps with one reward from a file and one from a dotted module, both outside the
    repository: each is called with the dataset's columns and logged, and nothing else changes."""
    import train_grpo

    outside = tmp_path / "my_project"
    file_module = write_module(outside, "outside_brevity")
    write_module(
        outside / "my_pkg",
        "outside_length",
        "rewards.py",
        """
        from mcr.rewards import completion_text, register

        COLUMNS = []


        @register("{name}")
        def length(completions, **kwargs):
            COLUMNS.append(sorted(kwargs))
            return [min(1.0, len(completion_text(c)) / 16) for c in completions]
        """,
    )
    (outside / "my_pkg" / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(outside))
    builtins = dict(REGISTRY)
    repository_rewards = sorted(p.name for p in (REPO / "rewards").iterdir())

    out = tmp_path / "run"
    recipe = load_recipe(
        [
            *tiny_run_args(tmp_path, tiny_model_dir, posts=20),
            f"rewards.modules=[{file_module},my_pkg.rewards]",
            "rewards.funcs.outside_brevity=1.0",
            "rewards.funcs.outside_length=0.5",
            "rewards.params.outside_brevity.limit=8",
            f"grpo.output_dir={out}",
            "grpo.max_steps=2",
            "grpo.save_strategy=no",
            "grpo.per_device_train_batch_size=4",
            "grpo.num_generations=2",
            "grpo.max_completion_length=16",
            "grpo.learning_rate=0.01",
            "grpo.report_to=none",
        ]
    )
    metrics = train_grpo.main(recipe)

    brevity, length = (sys.modules[REGISTRY[n].__module__] for n in ("outside_brevity", "outside_length"))
    assert Path(brevity.__file__) == file_module.resolve() and length.__name__ == "my_pkg.rewards"
    assert len(brevity.CALLS) >= 8  # every completion of both steps: 4 each
    assert length.COLUMNS and {"gold", "task", "text"} <= set(length.COLUMNS[0])
    steps = [h for h in metrics["log_history"] if "reward" in h]
    assert [h["step"] for h in steps] == [1, 2]
    logged = {f"rewards/{name}/mean" for name in recipe.rewards.funcs}
    assert {"rewards/outside_brevity/mean", "rewards/outside_length/mean"} <= logged <= set(steps[0])
    assert all(0.0 <= h["rewards/outside_brevity/mean"] <= 1.0 for h in steps)
    # nothing else moved: the built-in rewards are the same functions, the repository the same files
    assert all(REGISTRY[name] is fn for name, fn in builtins.items())
    assert sorted(p.name for p in (REPO / "rewards").iterdir()) == repository_rewards
    assert (out / "adapter_model.safetensors").is_file()
