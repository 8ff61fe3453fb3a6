"""bench/seeds.py: runs over seeds and numerical paths summarized as mean and min-max, each
target checked run by run."""

from __future__ import annotations

import json

from helpers.runs import load_bench


def _metrics(fmt, gmner, mner, reward, n_rate, textual):
    return {
        "format_rate": fmt,
        "gmner": {"f1": gmner},
        "mner": {"f1": mner},
        "eeg": {"f1": mner - 5},
        "grounding": {"recall": gmner / 2},
        "mean_reward": reward,
        "bias": {"n_rate": n_rate},
        "rewards": {"textual_shortcut": textual},
    }


def _write_run(folder, sft_gmner, grpo_gmner, seconds):
    (folder / "eval").mkdir(parents=True)
    comparison = {
        "gmner": {
            "untrained": _metrics(0.1, 0.0, 0.0, 0.05, 0.0, 0.0),
            "sft": _metrics(0.98, sft_gmner, 70.0, 0.6, 4.0, 0.10),
            "grpo": _metrics(1.0, grpo_gmner, 72.0, 0.7, 3.0, 0.05),
        }
    }
    (folder / "eval" / "comparison.json").write_text(json.dumps(comparison))
    (folder / "run.json").write_text(json.dumps({"seconds": seconds}))


def test_runs_are_summarized_with_mean_spread_and_targets(tmp_path, capsys):
    seeds = load_bench("seeds")
    _write_run(tmp_path / "default-s0", sft_gmner=42.0, grpo_gmner=52.0, seconds=540)
    _write_run(tmp_path / "avx2-s0", sft_gmner=46.0, grpo_gmner=51.0, seconds=600)
    assert seeds.main(["--table", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["runs"] == ["avx2-s0", "default-s0"]
    assert summary["stats"]["sft"]["GMNER F1"] == {"mean": 44.0, "min": 42.0, "max": 46.0}
    assert summary["gmner_gain"] == [5.0, 10.0]
    targets = summary["targets"]
    assert targets["SFT GMNER F1 >= 40"] and targets["GRPO GMNER F1 > SFT's in every run"]
    # mean gain 7.5 > SFT's spread 4; the aim of 50 holds in both runs
    assert targets["GRPO's mean gain > the spread of SFT's GMNER F1"] and targets["GRPO GMNER F1 >= 50 (aim)"]
    table = (tmp_path / "summary.md").read_text()
    assert "| sft | 0.98 (0.98-0.98) | 44.0 (42.0-46.0) |" in table
    assert summary["stats"]["grpo"]["grounded"] == {"mean": 25.75, "min": 25.5, "max": 26.0}
    assert "9.0-10.0 min" in table and "- met: SFT MNER F1 >= 60" in table
    assert table in capsys.readouterr().out


def test_a_target_missed_in_one_run_is_not_met(tmp_path):
    seeds = load_bench("seeds")
    _write_run(tmp_path / "default-s0", sft_gmner=42.0, grpo_gmner=52.0, seconds=540)
    _write_run(tmp_path / "default-s1", sft_gmner=38.0, grpo_gmner=37.0, seconds=560)
    seeds.main(["--table", "--out", str(tmp_path)])
    targets = json.loads((tmp_path / "summary.json").read_text())["targets"]
    assert not targets["SFT GMNER F1 >= 40"] and not targets["GRPO GMNER F1 > SFT's in every run"]
    assert "- NOT met: SFT GMNER F1 >= 40" in (tmp_path / "summary.md").read_text()
