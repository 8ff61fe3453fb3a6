"""bench/recall_steps.py: a model's recall steps read back against the image and the gold."""

from __future__ import annotations

import json
import re

import pytest

from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.rows import sft_example
from mcr.image_space import ImageSpace

from helpers.runs import load_bench


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory):
    """Synthetic GMNER with a test split of 80 posts: entities not shown, some with a look-alike
    in their colour and some with nothing drawn in it."""
    from mcr.benchmarks.gmner.synthetic import write_synthetic_gmner

    folder = tmp_path_factory.mktemp("recall") / "gmner"
    return write_synthetic_gmner(folder, n=100, seed=1, splits=(0.1, 0.1, 0.8), progress=False)


def gold_predictions(synth_root, path, edit=lambda text: text):
    """The test split's gold completions in the recall style, as an evaluation writes them."""
    records = load_twitter_gmner(synth_root, "test", images=synth_root / "images")
    space = ImageSpace(3136, 50176)
    with open(path, "w") as f:
        for record in records:
            text = sft_example(record, "recall", space)["completion"][0]["content"]
            f.write(json.dumps({"id": record.id, "prediction": edit(text)}) + "\n")
    return records


def test_gold_steps_read_back_right_and_a_wrong_step_is_told_from_a_wrong_verdict(synth_root, tmp_path):
    bench = load_bench("recall_steps")
    records = gold_predictions(synth_root, tmp_path / "gold.jsonl")
    gold = bench.read_steps(tmp_path / "gold.jsonl", synth_root)
    entities = sum(len(r.entities) for r in records)
    others = gold.pop("other_lines")
    assert gold.pop("none_lines") + gold.pop("named_lines") + others == entities
    assert gold == {"entities": entities, "lines": entities, "colour": 1.0, "look": 1.0, "step": 1.0,
                    "follows": 1.0, "verdict": 1.0, "verdict_given_step": 1.0,
                    "none_hidden": 1.0, "named_shown": 1.0, "other_hidden": 1.0}  # fmt: skip
    assert 0 < others < entities  # some colours are drawn in other shapes only

    # every verdict "shown" unless the step names no shape: the look-alikes are all missed
    gold_predictions(
        synth_root,
        tmp_path / "any.jsonl",
        lambda t: re.sub(
            r"(is (?!none)[\w ]+?), so not shown in the image, box null",
            r"\1, so shown in the image at [0, 0, 1, 1]",
            t,
        ),
    )
    rule = bench.read_steps(tmp_path / "any.jsonl", synth_root)
    assert rule["other_lines"] == others and rule["other_hidden"] == 0.0
    assert rule["none_hidden"] == rule["named_shown"] == 1.0

    # every place's look asks for a square instead of the triangle a LOC is drawn as
    gold_predictions(synth_root, tmp_path / "look.jsonl", lambda t: t.replace(" triangle?", " square?"))
    places = sum(e.type == "LOC" for r in records for e in r.entities)
    assert 0 < places < entities
    assert bench.read_steps(tmp_path / "look.jsonl", synth_root)["look"] == round(1 - places / entities, 4)

    # every step says "none" and every verdict stays the gold's: the shown entities' steps are
    # wrong, and their verdicts no longer follow from them
    gold_predictions(
        synth_root, tmp_path / "none.jsonl", lambda t: re.sub(r" is [\w ]+?, so", " is none, so", t)
    )
    blind = bench.read_steps(tmp_path / "none.jsonl", synth_root)
    shown = sum(bool(e.boxes) for r in records for e in r.entities)
    assert blind["verdict"] == 1.0 and blind["follows"] == round(1 - shown / entities, 4)
    assert blind["step"] < 1.0 and blind["verdict_given_step"] == 1.0
    # no step names a shape: no share of such steps, rather than a share of none
    assert blind["none_lines"] == entities and blind["named_lines"] == blind["other_lines"] == 0
    assert blind["named_shown"] is None and blind["other_hidden"] is None

    # verdicts all "not shown" after the gold steps: right only on the unshown entities
    gold_predictions(
        synth_root, tmp_path / "never.jsonl", lambda t: t.replace(", so shown", ", so not shown")
    )
    never = bench.read_steps(tmp_path / "never.jsonl", synth_root)
    assert never["step"] == 1.0 and never["verdict"] == round(1 - shown / entities, 4) == never["follows"]


def test_a_prediction_of_a_post_not_in_the_split_names_the_file_and_line(synth_root, tmp_path):
    bench = load_bench("recall_steps")
    path = tmp_path / "p.jsonl"
    gold_predictions(synth_root, path)
    path.write_text(path.read_text() + json.dumps({"id": "nope", "prediction": ""}) + "\n")
    lines = len(path.read_text().splitlines())
    with pytest.raises(SystemExit, match=rf"p.jsonl:{lines}: post 'nope' is not in"):
        bench.read_steps(path, synth_root)
