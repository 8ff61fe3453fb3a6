"""The recipe's synthetic data: drawn once into data.root with a record of its arguments, used
again only for the same arguments."""

from __future__ import annotations

import json

import pytest

from mcr.config import load_recipe
from mcr.task_data import SYNTH_RECORD, ensure_data, load_split


def _recipe(root, *overrides, name="tiny"):
    return load_recipe([f"recipe={name}", f"data.root={root}", "data.synth.n=12", *overrides])


def test_synthesized_data_records_its_arguments_and_is_reused_for_the_same(tmp_path):
    root = tmp_path / "data"
    ensure_data(_recipe(root))
    record = json.loads((root / SYNTH_RECORD).read_text())
    assert record == {
        "task": "gmner",
        "n": 12,
        "seed": 0,
        "splits": [0.64, 0.12, 0.24],
        "layout": "grid",
        "colour_look_alikes": 0.0,
        "factor": 28,
    }
    first = (root / "txt" / "train.txt").read_bytes()
    ensure_data(_recipe(root))  # the same arguments: the data is kept as it is
    assert (root / "txt" / "train.txt").read_bytes() == first
    assert load_split(_recipe(root), "train")


def test_other_arguments_for_existing_data_are_an_error_naming_them(tmp_path):
    root = tmp_path / "data"
    ensure_data(_recipe(root))
    with pytest.raises(ValueError) as error:
        ensure_data(_recipe(root, "data.synth.colour_look_alikes=0.5", "data.synth.seed=3"))
    message = str(error.value)
    assert str(root / SYNTH_RECORD) in message
    assert "colour_look_alikes: 0.0 there, 0.5 asked" in message and "seed: 0 there, 3 asked" in message
    # the same arguments at a new root draw new data, with the look-alikes asked
    ensure_data(_recipe(tmp_path / "raised", "data.synth.colour_look_alikes=0.5"))
    assert json.loads((tmp_path / "raised" / SYNTH_RECORD).read_text())["colour_look_alikes"] == 0.5
    assert (tmp_path / "raised" / "txt" / "train.txt").read_bytes() == (
        root / "txt" / "train.txt"
    ).read_bytes()


def test_data_without_a_record_is_used_as_it_is(tmp_path):
    """A release (or data drawn before records were written) is not checked against synth."""
    root = tmp_path / "data"
    ensure_data(_recipe(root))
    (root / SYNTH_RECORD).unlink()
    ensure_data(_recipe(root, "data.synth.colour_look_alikes=0.5"))
    assert not (root / SYNTH_RECORD).exists()


def test_mate_draws_no_colour_look_alikes(tmp_path):
    with pytest.raises(ValueError, match="synthetic MATE names no entities"):
        ensure_data(_recipe(tmp_path / "mate", "data.synth.colour_look_alikes=0.5", name="tiny_mate"))
