"""bench/base_pointing.py: the task's entities asked about as the base was taught to point,
scored by value, and bases measured side by side on the recipe's test posts."""

from __future__ import annotations

import json

import pytest

from mcr.benchmarks.gmner.synthetic import SHAPE_OF_TYPE

from helpers.runs import load_bench


def test_each_gold_entity_becomes_a_pointing_question_with_its_colour_and_shape(synth_root):
    from mcr.config import load_recipe
    from mcr.task_data import load_split, task_rows

    bench = load_bench("base_pointing")
    recipe = load_recipe(["recipe=tiny", f"data.root={synth_root}", f"data.images={synth_root / 'images'}"])
    rows = task_rows(recipe, load_split(recipe, "test"))
    questions = bench.pointing_questions(rows)
    golds = [g for row in rows for g in json.loads(row["gold"])]
    assert len(questions) == len(golds) and any(b for _, b in questions) and any(not b for _, b in questions)
    for (example, boxes), gold in zip(questions, golds, strict=True):
        colour, shape = example.prompt.removeprefix("Where is the ").removesuffix("?").split()
        assert shape == SHAPE_OF_TYPE[gold["type"]] and boxes == (gold["bbox"] or [])
        row = next(r for r in rows if gold in json.loads(r["gold"]))
        assert colour in row["text"].split()
        assert example.answer == ("; ".join(f"[{', '.join(map(str, b))}]" for b in boxes) or "nowhere")


def test_pointing_is_scored_by_value():
    bench = load_bench("base_pointing")
    golds = [[[10, 10, 50, 50]], [[10, 10, 50, 50], [100, 10, 140, 50]], [[10, 10, 50, 50]], [], []]
    answers = ["[12, 12, 50, 50]", "[100, 12, 140, 50]", "nowhere", "nowhere", "[0, 0, 30, 30]"]
    assert bench.score(golds, answers) == {
        "shown": 3,
        "absent": 2,
        "iou50_shown": 2 / 3,  # the first two: one of the entity's boxes found
        "nowhere_shown": 1 / 3,
        "nowhere_absent": 1 / 2,
    }


def test_bases_are_measured_side_by_side_on_the_test_posts(synth_root, tiny_model_dir, tmp_path, capsys):
    bench = load_bench("base_pointing")
    out = tmp_path / "pointing.json"
    data = [f"data.root={synth_root}", f"data.images={synth_root / 'images'}"]
    bases = ["mcr:tiny-base", str(tiny_model_dir)]
    results = bench.main([*bases, "--posts", "4", "--out", str(out), "--", *data])
    assert list(results) == bases and json.loads(out.read_text()) == results
    # the same questions for both: as many entities as the four posts name
    assert len({(r["shown"], r["absent"]) for r in results.values()}) == 1
    # random weights never answer in the pointing format
    assert results[str(tiny_model_dir)]["iou50_shown"] == 0.0
    assert results[str(tiny_model_dir)]["nowhere_absent"] == 0.0
    printed = capsys.readouterr().out
    assert "| mcr:tiny-base |" in printed and '"nowhere" when not shown' in printed


def test_the_card_records_each_question_form_beside_the_base_it_measured(synth_root, tmp_path):
    import shutil

    from mcr.shipped import shipped_model

    bench = load_bench("base_pointing")
    base = tmp_path / "base"
    shutil.copytree(shipped_model("tiny-base"), base)
    card = json.loads((base / "model_card.json").read_text())
    card.pop("task_pointing", None)
    (base / "model_card.json").write_text(json.dumps(card))
    data = [f"data.root={synth_root}", f"data.images={synth_root / 'images'}"]
    near = bench.main([str(base), "--posts", "4", "--card", "--", *data])[str(base)]
    far = bench.main([str(base), "--posts", "4", "--card", "--after-post", "--", *data])[str(base)]
    written = json.loads((base / "model_card.json").read_text())["task_pointing"]
    assert list(written) == ["right after the image", "after the post's words"]
    for form, result in zip(written, (near, far), strict=True):
        assert {k: written[form][k] for k in result} == result
        assert written[form]["command"].startswith(f"python bench/base_pointing.py {base} --posts 4 --card")
    readme = (base / "README.md").read_text()
    row = f"| after the post's words | {far['shown']} | {100 * far['iou50_shown']:.1f}% |"
    assert "## Pointing at the task's test entities" in readme and row in readme
    with pytest.raises(SystemExit):
        bench.main([str(base), "mcr:tiny-base", "--posts", "4", "--card", "--", *data])
