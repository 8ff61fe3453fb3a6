"""Synthetic MATE, its loader, MATE's MRSI styles and the MATE scorer."""

from __future__ import annotations

import json

import pytest

from mcr.benchmarks import get_task
from mcr.benchmarks.mate.data import load_mate
from mcr.benchmarks.mate.scorer import score_mate
from mcr.benchmarks.mate.synthetic import TEXTUAL, VISUAL, write_synthetic_mate
from mcr.cli import main as mcr_main
from mcr.config import load_recipe
from mcr.data.errors import DataFormatError
from mcr.mrsi import inject
from mcr.prompts import available_styles
from mcr.rewards import REGISTRY

MATE = get_task("mate")


@pytest.fixture(scope="module")
def mate_root(tmp_path_factory):
    return write_synthetic_mate(tmp_path_factory.mktemp("mate") / "synth", n=80, seed=0, progress=False)


@pytest.fixture(scope="module")
def instances(mate_root):
    return load_mate(mate_root / "train.jsonl")


def test_public_fields_and_sizes(mate_root, instances):
    line = json.loads((mate_root / "train.jsonl").read_text().splitlines()[0])
    assert {
        "id",
        "image",
        "scene",
        "question",
        "answer",
        "task",
        "object_count",
        "pointer_attribute",
        "target_attribute",
    } <= set(line)
    assert len(instances) == 64
    assert all(3 <= i.object_count <= 10 and len(i.objects) == i.object_count for i in instances)
    assert {i.task for i in instances} == {"img2data", "data2img", "img2img", "data2data"}


def test_cross_modal_isolation(instances):
    for inst in instances:
        pointer, target = inst.pointer_attribute, inst.target_attribute
        assert "material" not in (pointer, target)
        keys = set().union(*(o.keys() for o in inst.objects))
        if inst.task == "img2data":
            assert pointer in VISUAL and target in TEXTUAL and pointer not in keys
        elif inst.task == "data2img":
            assert pointer in TEXTUAL and target in VISUAL and target not in keys
        elif inst.task == "img2img":
            assert pointer in VISUAL and target in VISUAL and not keys & set(VISUAL)
        else:
            assert pointer in TEXTUAL and target in TEXTUAL
        # the pointer value singles out one object, and the answer is that object's
        obj = inst.gold_object
        assert str(obj[target]) == inst.answer
        full = [o for o in inst.objects if o["name"] == obj["name"]]
        assert len(full) == 1 and full[0]["3d_coords"] == obj["3d_coords"]


def test_same_seed_same_data(tmp_path):
    a = write_synthetic_mate(tmp_path / "a", n=12, seed=1, progress=False)
    b = write_synthetic_mate(tmp_path / "b", n=12, seed=1, progress=False)
    assert (a / "train.jsonl").read_text() == (b / "train.jsonl").read_text()
    assert (a / "images" / "M_0.png").read_bytes() == (b / "images" / "M_0.png").read_bytes()


def test_loader_errors_name_file_and_line(tmp_path, mate_root):
    good = (mate_root / "train.jsonl").read_text().splitlines()[0]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good + "\n{not json\n")
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:2: not JSON"):
        load_mate(bad, images=mate_root)
    bad.write_text(json.dumps({k: v for k, v in json.loads(good).items() if k != "answer"}) + "\n")
    with pytest.raises(DataFormatError, match=r"bad\.jsonl:1, record 'M_0': missing field\(s\) \['answer'\]"):
        load_mate(bad, images=mate_root)
    bad.write_text(good + "\n")
    with pytest.raises(DataFormatError, match=r"image not found"):
        load_mate(bad)  # relative image path without its folder
    bad.write_text(good + "\n" + good + "\n")
    with pytest.raises(DataFormatError, match=r"id repeats line 1"):
        load_mate(bad, images=mate_root)


def test_every_mate_style_round_trips(mate_root, instances):
    recipe = load_recipe(["recipe=tiny_mate", f"data.root={mate_root}", f"data.images={mate_root}"])
    assert {"steps", "table", "verify", "narrative"} <= set(available_styles("mate"))
    for style in available_styles("mate"):
        space = recipe.image_space
        sft = inject(instances, MATE, styles={style: 1.0}, sft_fraction=1.0, seed=0, space=space)["sft"]
        completions = [r["completion"][0]["content"] for r in sft]
        columns = {"gold": list(sft["gold"]), "task": list(sft["task"])}
        assert columns["task"] == ["mate"] * len(sft)
        assert REGISTRY["mate"](completions, **columns) == [1.0] * len(sft), style
        assert REGISTRY["format"](completions, **columns) == [1.0] * len(sft), style
        assert REGISTRY["span"](completions, **columns) == [None] * len(sft)  # GMNER rewards stay out
        # the task column decides, not the gold's look: read as GMNER rows, the MATE answers fail
        assert REGISTRY["format"](completions, gold=columns["gold"], task=["gmner"] * len(sft)) == [
            0.0
        ] * len(sft)


def test_scorer_breakdowns(instances):
    outputs = {i.id: f'{{"answer": "{i.answer}"}}' for i in instances[:32]}
    outputs[instances[0].id] = '{"answer":"' + instances[0].answer + '"}'  # no space after the colon
    result = score_mate(instances, outputs)
    assert result["accuracy"] == round(100 * 31 / 64, 1)
    assert result["counts"] == {"instances": 64, "missing_predictions": 32}
    assert set(result["by_task"]) == {"img2data", "data2img", "img2img", "data2data"}
    assert all("->" in pair for pair in result["by_pair"])


def test_synth_mate_command(tmp_path, capsys):
    mcr_main(["data", "synth", "mate", "--out", str(tmp_path / "m"), "--n", "10", "--seed", "2"])
    assert json.loads(capsys.readouterr().out)["splits"]["train"] == 8


def test_stats_command(mate_root, capsys):
    mcr_main(["data", "stats", "mate", "--file", str(mate_root / "train.jsonl")])
    stats = json.loads(capsys.readouterr().out)
    assert stats["instances"] == 64 and sum(stats["tasks"].values()) == 64
    assert all(3 <= int(k) <= 10 for k in stats["object_counts"])
