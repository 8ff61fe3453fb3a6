"""The ablation in miniature: its stages train what each variant says, from the same data, and
its table reads the evaluation by value."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mcr.config import load_recipe
from mcr.eval.ablation import VARIANTS, markdown, plan, table_rows, write_table
from mcr.prompts import ANSWER_ONLY

from helpers.runs import REPO, tiny_run_args

ARGS = ["recipe=tiny", "eval.output_dir=/runs/tiny/eval"]


def stage_recipes():
    stages = plan(load_recipe(ARGS), ARGS)
    return {s.name: (s.script, load_recipe(list(s.args))) for s in stages}, stages


def test_each_stage_trains_what_its_variant_says():
    recipes, stages = stage_recipes()
    assert [s.name for s in stages] == [v.name for v in VARIANTS] + ["evaluation"]
    scripts = {name: script for name, (script, _) in recipes.items()}
    assert scripts == {
        "answer_only": "train_sft.py",
        "mrsi_checklist": "train_sft.py",
        "mrsi": "train_sft.py",
        "mrsi_cvo": "train_grpo.py",
        "mrsi_cvo_no_penalties": "train_grpo.py",
        "cvo": "train_grpo.py",
        "answer_only_cvo": "train_grpo.py",
        "evaluation": "eval/evaluate.py",
    }
    default = load_recipe(ARGS)
    picked = {n: {s for s, w in r.mrsi.styles.items() if w > 0} for n, (_, r) in recipes.items()}
    assert picked["answer_only"] == {ANSWER_ONLY}
    assert picked["mrsi_checklist"] == {"checklist"}
    # the recipe's own styles at its own weights (the default recipe: the recall alone)
    assert picked["mrsi"] == {s for s, w in default.mrsi.styles.items() if w > 0} == {"recall"}
    assert recipes["mrsi"][1].mrsi.styles == default.mrsi.styles
    # one D1/D2 split for all: the MRSI seed and fraction never change; GRPO reads MRSI's D2
    assert {(r.mrsi.seed, r.mrsi.sft_fraction) for _, r in recipes.values()} == {(0, 0.7)}
    grpo = {n: recipes[n][1] for n in ("mrsi_cvo", "mrsi_cvo_no_penalties", "cvo", "answer_only_cvo")}
    assert {r.mrsi_dir for r in grpo.values()} == {recipes["mrsi"][1].mrsi_dir}
    sft_dir = recipes["mrsi"][1].sft_output_dir
    assert grpo["mrsi_cvo"].model.init_adapter == grpo["mrsi_cvo_no_penalties"].model.init_adapter == sft_dir
    assert grpo["cvo"].model.init_adapter is None
    assert grpo["answer_only_cvo"].model.init_adapter == recipes["answer_only"][1].sft_output_dir
    assert grpo["answer_only_cvo"].rewards.funcs == default.rewards.funcs
    assert grpo["mrsi_cvo"].rewards.funcs == default.rewards.funcs
    without = grpo["mrsi_cvo_no_penalties"].rewards.funcs
    assert without == {**default.rewards.funcs, "textual_shortcut": 0.0, "visual_shortcut": 0.0}
    # every variant writes its own folder; the evaluation scores the base and all seven
    folders = [
        r.sft_output_dir if s == "train_sft.py" else r.grpo_output_dir for s, r in list(recipes.values())[:7]
    ]
    assert len(set(folders)) == 7 and all(f.startswith("/runs/tiny/ablation/") for f in folders)
    evaluation = recipes["evaluation"][1]
    assert evaluation.eval.checkpoints == ["base", *folders] and evaluation.eval.probes == []


def test_answer_only_pairs_hold_an_empty_reasoning(tmp_path, tiny_model_dir):
    from mcr.mrsi import prepare_mrsi
    from mcr.task_data import ensure_data, load_split

    args = tiny_run_args(tmp_path, tiny_model_dir, posts=12)
    recipe = load_recipe(next(s for s in plan(load_recipe(args), args) if s.name == "answer_only").args)
    ensure_data(recipe)
    sft = prepare_mrsi(recipe, load_split(recipe, recipe.data.train_split))["sft"]
    completions = [row["completion"][0]["content"] for row in sft]
    assert completions and all(c.startswith("<think>\n\n</think>\n<answer>[") for c in completions)
    assert set(sft["style"]) == {ANSWER_ONLY}


def metrics(fmt, f1, n_rate, textual):
    return {
        "format_rate": fmt,
        "gmner": {"f1": f1},
        "mner": {"f1": f1 + 10},
        "eeg": {"f1": f1 + 5},
        "grounding": {"recall": f1 / 4},
        "bias": {"n_rate": n_rate},
        "rewards": {"textual_shortcut": textual},
    }


def write_comparison(root, labels):
    folder = root / "ablation" / "eval"
    folder.mkdir(parents=True)
    results = {label: metrics(0.1 * i, 10.0 * i, 50.0 - i, 0.01 * i) for i, label in enumerate(labels)}
    (folder / "comparison.json").write_text(json.dumps({"gmner": results}))


def test_the_table_reads_the_evaluation_by_value(tmp_path):
    recipe = load_recipe(["recipe=tiny", f"eval.output_dir={tmp_path / 'eval'}", "eval.report_to=[]"])
    labels = ["untrained", *(v.name for v in VARIANTS)]
    write_comparison(tmp_path, labels)
    rows = table_rows(recipe)
    assert [r["variant"] for r in rows] == labels
    assert rows[4] == {
        "variant": "mrsi_cvo",
        "description": "MRSI SFT + CVO",
        "format": 0.4,
        "GMNER F1": 40.0,
        "MNER F1": 50.0,
        "EEG F1": 45.0,
        "grounded": 10.0,
        "N-rate": 46.0,
        "textual shortcut": 0.04,
    }
    path, written = write_table(recipe)
    assert written == rows and json.loads((path.parent / "ablation.json").read_text()) == rows
    lines = path.read_text().splitlines()
    header = "| variant | format | GMNER F1 | MNER F1 | EEG F1 | grounded | N-rate | textual shortcut |"
    assert lines[0] == header
    assert lines[6] == "| mrsi_cvo (MRSI SFT + CVO) | 0.40 | 40.0 | 50.0 | 45.0 | 10.0 | 46.0 | 0.040 |"
    assert path.read_text() == markdown(rows)


def test_a_missing_checkpoint_or_evaluation_is_named(tmp_path):
    recipe = load_recipe(["recipe=tiny", f"eval.output_dir={tmp_path / 'eval'}"])
    with pytest.raises(FileNotFoundError, match="no ablation evaluation yet"):
        table_rows(recipe)
    write_comparison(tmp_path, ["untrained", "answer_only"])
    with pytest.raises(KeyError, match="no results for checkpoint 'mrsi_checklist'"):
        table_rows(recipe)


def test_the_table_is_logged_to_wandb(tmp_path, monkeypatch):
    from helpers.wandb_offline import logged_tables

    monkeypatch.setenv("WANDB_MODE", "offline")
    recipe = load_recipe(["recipe=tiny", f"eval.output_dir={tmp_path / 'eval'}", "eval.report_to=[wandb]"])
    write_comparison(tmp_path, ["untrained", *(v.name for v in VARIANTS)])
    write_table(recipe)
    (run_dir,) = (tmp_path / "ablation" / "wandb").glob("offline-run-*")
    ((table, _),) = logged_tables(run_dir, "ablation")
    assert table["columns"][:3] == ["variant", "description", "format"]
    assert [row[0] for row in table["data"]] == ["untrained", *(v.name for v in VARIANTS)]


def test_launch_runs_the_plan_then_the_table():
    proc = subprocess.run(
        ["bash", "launch.sh", "ablation", "recipe=tiny"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "MCR_DRY_RUN": "1", "MCR_VENV": sys.prefix},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    ran = [line.split("running: ", 1)[1] for line in proc.stderr.splitlines() if "running: " in line]
    scripts = [cmd.split(" recipe=tiny")[0].rsplit(" ", 1)[-1] for cmd in ran]
    assert scripts == [*["train_sft.py"] * 3, *["train_grpo.py"] * 4, "eval/evaluate.py", "table"]
    assert "rewards.funcs.textual_shortcut=0.0 rewards.funcs.visual_shortcut=0.0" in ran[4]
    assert "ablation done in" in proc.stderr


@pytest.mark.slow
def test_the_whole_ablation_runs_and_tabulates(tmp_path, tiny_model_dir):
    """Every stage of the plan, in-process on the tiny model with a few steps, then the table."""
    import train_grpo
    import train_sft
    from mcr.eval.evaluate import main as evaluate

    args = [
        *tiny_run_args(tmp_path, tiny_model_dir, posts=30),
        "sft.max_steps=2",
        "sft.per_device_train_batch_size=4",
        "sft.report_to=none",
        "grpo.max_steps=1",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=16",
        "grpo.report_to=none",
        f"eval.output_dir={tmp_path / 'eval'}",
        "eval.max_new_tokens=16",
        "eval.batch_size=4",
        "eval.report_to=[]",
    ]
    mains = {"train_sft.py": train_sft.main, "train_grpo.py": train_grpo.main, "eval/evaluate.py": evaluate}
    for stage in plan(load_recipe(args), args):
        mains[stage.script](load_recipe(list(stage.args)))
    path, rows = write_table(load_recipe(args))
    assert [r["variant"] for r in rows] == ["untrained", *(v.name for v in VARIANTS)]
    for variant in ("answer_only", "mrsi_checklist", "mrsi"):
        assert (tmp_path / "ablation" / variant / "adapter_model.safetensors").is_file()
    for variant in ("mrsi_cvo", "mrsi_cvo_no_penalties", "cvo", "answer_only_cvo"):
        assert (tmp_path / "ablation" / variant / "adapter_model.safetensors").is_file()
    assert path.is_file() and len(path.read_text().splitlines()) == 2 + 8
