"""Checkpoint evaluation on every benchmark: the eval-only tasks' scoring, the per-benchmark
data settings, and an end-to-end run of the tiny model on five benchmarks' fixtures."""

from __future__ import annotations

import json
import sys
from typing import ClassVar

import pytest
from PIL import Image

from mcr.benchmarks import BENCHMARKS, get_benchmark
from mcr.benchmarks.grec import GrecBenchmark, answer_boxes
from mcr.benchmarks.grec.data import GrecSample
from mcr.benchmarks.grec.scorer import score_grec
from mcr.benchmarks.mmra import MmraBenchmark
from mcr.benchmarks.mmra.data import MmraItem
from mcr.benchmarks.mner_mi import place_entities
from mcr.config import RecipeError, load_recipe
from mcr.data.rows import row_images
from mcr.eval.evaluate import benchmark_setup
from mcr.prompts import user_prompt

from helpers.benchmark_fixtures import (
    mate_row,
    write_grefcoco,
    write_mate_export,
    write_mmra_export,
    write_mner_mi,
)


def wrap(answer: str) -> str:
    return f"<think>\nlooked at both images\n</think>\n<answer>{answer}</answer>"


class TestMmra:
    item = MmraItem("0", "Layout", "Choice QA", "q", "a.jpg", "b.jpg", {"A": "x", "B": "y"}, "B")
    yes_no = MmraItem("1", "SubEvent", "True or false QA", "q", "c.jpg", "d.jpg", {}, "No")

    def test_rule_reads_the_answer_value_not_the_reasoning(self):
        bench = MmraBenchmark()
        # the reasoning mentions (A) twice; under the contract only the answer's value counts
        text = '<think>\n(A) fits one image, (A) again\n</think>\n<answer>{"answer": "B"}</answer>'
        rows = [{"id": "0"}, {"id": "1"}]
        result = bench.score([self.item, self.yes_no], rows, [text, wrap('{"answer": "no"}')])
        assert result["accuracy"] == 100.0
        # outside the contract the official rule reads the whole response
        result = bench.score([self.item, self.yes_no], rows, ["(A) or (B)? (B)", "I know"])
        assert result["accuracy"] == 50.0
        assert bench.format_score(text) == 1.0 and bench.format_score("(B)") == 0.0
        assert bench.format_score(wrap('{"answer": 2}')) == 0.0


class TestGrec:
    samples: ClassVar = [
        GrecSample("1", "r1", "val", "two people", "x.jpg", (200, 100), ((0, 0, 50, 50), (100, 0, 150, 50))),
        GrecSample("2", "r2", "val", "the dog", "x.jpg", (200, 100), ()),
        GrecSample("3", "r3", "val", "nothing", "x.jpg", (200, 100), ()),
    ]
    # the model saw the 200x100 image as 100x50: its boxes are half size
    rows: ClassVar = [
        {"id": s.id, "image_size": [200, 100], "input_size": [100, 50], "box_frame": [100, 50]}
        for s in samples
    ]

    def test_boxes_are_rescaled_and_unreadable_answers_are_wrong(self):
        bench = GrecBenchmark()
        outputs = [wrap("[[0, 0, 25, 25], [50, 0, 75, 25]]"), wrap("[]"), "no idea"]
        result = bench.score(self.samples, self.rows, outputs)
        # sample 1: both boxes match after x2 rescaling (F1 = 1); sample 2: correct no-target;
        # sample 3: no-target but unreadable -> wrong, not "no box"
        assert result["n_acc"] == 50.0 and result["pr_f1_1"] == round(200 / 3, 2)
        assert result["counts"]["invalid_predictions"] == 1
        assert answer_boxes(wrap("[[1, 2, 3]]"), [2, 2], [1, 1]) is None
        assert answer_boxes(wrap(f"[[1, 2, 3, {10**400}]]"), [2, 2], [1, 1]) is None  # never a traceback
        assert bench.format_score(outputs[0]) == 1.0 and bench.format_score(wrap('{"boxes": []}')) == 0.0

    def test_invalid_ids_in_the_scorer(self):
        gold = {"a": [(0, 0, 10, 10)], "b": []}
        assert score_grec(gold, {"a": [((0, 0, 10, 10), 1.0)]}, invalid={"b"})["n_acc"] == 0.0
        assert score_grec(gold, {"a": [((0, 0, 10, 10), 1.0)]})["n_acc"] == 100.0  # missing = no box


class TestMnerMi:
    def test_spans_are_placed_on_the_first_free_occurrence(self):
        tokens = ["Paris", "loves", "Paris", "Hilton"]
        labels, unplaced = place_entities(
            tokens, [("Paris", "LOC"), ("Paris Hilton", "PER"), ("Paris", "LOC"), ("Rome", "LOC")]
        )
        # "Paris Hilton" takes tokens 2-3; the second "Paris" finds no free occurrence left
        assert labels == ["B-LOC", "O", "B-PER", "I-PER"] and unplaced == 2


def test_benchmark_registry_and_names():
    assert set(BENCHMARKS) == {"gmner", "mate", "mmra", "grec", "mner_mi"}
    assert get_benchmark("mner-mi") is BENCHMARKS["mner_mi"]
    with pytest.raises(ValueError, match=r"unknown benchmark 'vqa'"):
        get_benchmark("vqa")
    assert row_images({"image": ["a", "b"]}) == ["a", "b"] and row_images({"image": "a"}) == ["a"]


def test_benchmark_data_settings(tmp_path):
    recipe = load_recipe(
        [
            "recipe=tiny",
            "checkpoint=out/x",
            "benchmarks=[gmner,mmra]",
            "eval.batch_size=2",
            "eval.data.mmra.root=/data/MMRA",
            "eval.data.gmner.split=dev",
        ]
    )
    # the command line's shorthands are recipe keys
    assert recipe.eval.checkpoints == ["out/x"] and recipe.eval.benchmarks == ["gmner", "mmra"]
    assert load_recipe(["recipe=tiny", "checkpoints=[base, out/a]"]).eval.checkpoints == ["base", "out/a"]
    assert load_recipe(["recipe=tiny"]).eval.checkpoints == ["base"]
    own = benchmark_setup(recipe, "gmner")
    assert (own.benchmark.name, own.root, own.split, own.own_task) == ("gmner", recipe.data.root, "dev", True)
    mmra = benchmark_setup(recipe, "mmra")
    assert (mmra.benchmark.name, mmra.root, mmra.images, mmra.split, mmra.own_task) == (
        "mmra",
        "/data/MMRA",
        None,
        "train",
        False,
    )
    with pytest.raises(RecipeError, match=r"benchmark 'grec' needs its data: pass eval.data.grec.root="):
        benchmark_setup(recipe, "grec")


@pytest.mark.slow
def test_evaluation_on_five_benchmarks(tmp_path, tiny_model_dir, synth_root):
    """The tiny model, untrained, on synthetic Twitter-GMNER plus MATE and MMRA parquet exports,
    gRefCOCO and MNER-MI fixtures: one folder and one table per benchmark, W&B offline."""
    from mcr.eval.evaluate import main as evaluate

    mate = write_mate_export(tmp_path / "MATE", [mate_row(i) for i in range(3)])
    mmra = write_mmra_export(tmp_path / "MMRA")
    grefcoco = write_grefcoco(tmp_path / "grefcoco")
    mner = write_mner_mi(tmp_path / "MNER-MI")
    recipe = load_recipe(
        [
            "recipe=tiny",
            f"model.name_or_path={tiny_model_dir}",
            "model.build_tiny=false",
            f"data.root={synth_root}",
            f"data.images={synth_root / 'images'}",
            "data.synth.n=0",
            "eval.benchmarks=[gmner,mate,mmra,grec,mner-mi]",
            f"eval.data.mate.root={mate}",
            "eval.data.mate.split=cross_modal",
            f"eval.data.mmra.root={mmra}",
            f"eval.data.grec.root={grefcoco}",
            f"eval.data.mner_mi.root={mner}",
            f"eval.output_dir={tmp_path / 'eval'}",
            "eval.max_samples=3",
            "eval.max_new_tokens=8",
            "eval.batch_size=2",
            "eval.report_to=[wandb]",
        ]
    )
    results = evaluate(recipe)
    assert list(results) == ["gmner", "mate", "mmra", "grec", "mner_mi"]
    expected = {
        "gmner": {"gmner", "mner", "eeg", "mean_reward", "rewards"},
        "mate": {"accuracy", "by_task", "by_pair"},
        "mmra": {"accuracy", "by_subtask", "by_granularity"},
        "grec": {"n_acc", "pr_f1_1"},
        "mner_mi": {"precision", "recall", "f1"},
    }
    sizes = {"gmner": 3, "mate": 3, "mmra": 2, "grec": 3, "mner_mi": 2}
    for name, keys in expected.items():
        folder = tmp_path / "eval" / name / "untrained"
        metrics = json.loads((folder / "metrics.json").read_text())
        assert keys | {"format_rate", "split", "checkpoint"} <= set(metrics), name
        assert ("mean_reward" in metrics) == (name == "gmner")  # rewards only on the recipe's task
        lines = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
        assert len(lines) == sizes[name] and all(isinstance(x["prediction"], str) for x in lines)
    assert (
        json.loads((tmp_path / "eval" / "grec" / "untrained" / "metrics.json").read_text())["split"] == "val"
    )
    # MATE's embedded images were written out and the model saw them
    assert len(list((mate / "images" / "cross_modal").iterdir())) == 3
    with Image.open(mmra / "images" / "train" / "0_2.png") as image:
        assert image.getpixel((0, 0)) == (0, 0, 255)
    (run,) = (tmp_path / "eval" / "wandb").glob("offline-run-*")
    record = next(run.glob("run-*.wandb")).read_bytes()
    for key in ("eval/mmra/untrained/accuracy", "eval/grec/untrained/pr@f1=1", "eval/mner_mi/untrained/f1"):
        assert key.encode() in record, key


class TestVllmBackend:
    def test_requests_carry_the_chat_text_and_every_image(self, tiny_model_dir):
        from mcr.eval.vllm_backend import vllm_requests
        from mcr.models import load_processor

        processor = load_processor(str(tiny_model_dir), min_pixels=56 * 56, max_pixels=112 * 112)
        images = [Image.new("RGB", (64, 64), c) for c in ("red", "blue")]
        rows = [
            {"prompt": user_prompt("mmra", n_images=2, question="same place?", options={}), "image": images},
            {
                "prompt": user_prompt(
                    "grec", expression="the dog", box_format="[x1, y1, x2, y2] in the image's pixels"
                ),
                "image": images[0],
            },
        ]
        two, one = vllm_requests(processor, rows)
        assert two["prompt"].count("<|vision_start|><|image_pad|><|vision_end|>") == 2
        assert two["multi_modal_data"] == {"image": images}
        assert one["prompt"].count("<|image_pad|>") == 1 and one["multi_modal_data"] == {"image": images[0]}
        assert one["prompt"].endswith("<|im_start|>assistant\n") and "Expression: the dog" in one["prompt"]

    def test_adapters_are_merged_for_vllm(self, tiny_model_dir, tmp_path):
        from peft import LoraConfig, get_peft_model

        from mcr.checkpoints import load_checkpoint
        from mcr.eval.vllm_backend import model_folder

        model = get_peft_model(
            load_checkpoint(None, str(tiny_model_dir)), LoraConfig(r=2, target_modules=["q_proj"])
        )
        model.save_pretrained(tmp_path / "run" / "sft")
        assert model_folder("base", str(tiny_model_dir), tmp_path / "merged") == str(tiny_model_dir)
        merged = model_folder(str(tmp_path / "run" / "sft"), str(tiny_model_dir), tmp_path / "merged")
        assert (
            merged == str(tmp_path / "merged" / "sft")
            and (tmp_path / "merged" / "sft" / "config.json").is_file()
        )

    def test_missing_vllm_is_a_clear_error(self, monkeypatch):
        from mcr.eval.evaluate import check_backend

        monkeypatch.setitem(sys.modules, "vllm", None)  # as if not installed
        with pytest.raises(RuntimeError, match=r"eval.backend=vllm needs vLLM, which is not installed"):
            check_backend(load_recipe(["recipe=tiny", "eval.backend=vllm"]))
        with pytest.raises(RecipeError, match=r"eval.backend must be hf or vllm, not 'tgi'"):
            check_backend(load_recipe(["recipe=tiny", "eval.backend=tgi"]))


def synth_tiny_args(tmp_path, tiny_model_dir, synth_root) -> list[str]:
    """The tiny recipe on the given model and the shared synthetic data, evaluated into tmp_path."""
    return [
        "recipe=tiny",
        f"model.name_or_path={tiny_model_dir}",
        "model.build_tiny=false",
        f"data.root={synth_root}",
        f"data.images={synth_root / 'images'}",
        "data.synth.n=0",
        f"eval.output_dir={tmp_path / 'eval'}",
    ]


def known_completion_args(tmp_path, tiny_model_dir, synth_root) -> list[str]:
    """``synth_tiny_args`` on 3 GMNER posts and 3 cross-modal MATE instances, without W&B."""
    mate = write_mate_export(tmp_path / "MATE", [mate_row(i) for i in range(3)])
    return [
        *synth_tiny_args(tmp_path, tiny_model_dir, synth_root),
        "benchmarks=[gmner,mate]",
        f"eval.data.mate.root={mate}",
        "eval.data.mate.split=cross_modal",
        "eval.max_samples=3",
        "eval.report_to=[]",
    ]


def test_evaluation_reports_known_completions_by_value(tmp_path, tiny_model_dir, synth_root, monkeypatch):
    """A generator that returns known completions: every figure of the report is checked by value."""
    import mcr.eval.evaluate as evaluation
    from mcr.benchmarks import get_task
    from mcr.benchmarks.gmner.release import load_twitter_gmner

    recipe = load_recipe(known_completion_args(tmp_path, tiny_model_dir, synth_root))
    records = load_twitter_gmner(synth_root, "test", images=synth_root / "images")[:3]
    perfect = get_task("gmner").sft_example(records[0], "checklist", recipe.image_space)
    known = {
        records[0].id: perfect["completion"][0]["content"],  # the gold, reasoned
        records[1].id: "<think>\nnothing to see\n</think>\n<answer>[]</answer>",  # nothing found
        records[2].id: "no idea",  # unreadable
        "cm_0": wrap('{"answer": "Object_1"}'),  # right
        "cm_1": wrap('{"answer": "Object_2"}'),  # wrong
        "cm_2": "Object_1?",  # no answer object: wrong, and not the contract
    }
    monkeypatch.setattr(
        evaluation, "generate", lambda model, processor, rows, **kw: [known[r["id"]] for r in rows]
    )
    results = evaluation.main(recipe)

    gmner = results["gmner"]["untrained"]
    found, total = len(records[0].entities), sum(len(r.entities) for r in records)
    recall = 100 * found / total
    assert gmner["gmner"] == gmner["mner"] == gmner["eeg"]
    assert gmner["gmner"]["precision"] == 100.0 and gmner["gmner"]["recall"] == round(recall, 2)
    assert gmner["gmner"]["f1"] == round(2 * 100 * recall / (100 + recall), 2)
    assert gmner["format_rate"] == round(2 / 3, 4)
    # the recipe's weights: 1 format, 0.5 count, 1 span, 0.5 type, 1 entailment, 1 grounding,
    # 0.5 consistency; the gold scores 1 on each and 0 on both penalties (5.5 in all); the empty
    # answer scores format 1, consistency 1 and grounding 1 only where the post shows nothing
    empty = 1.0 + 0.5 + (1.0 if not any(e.boxes for e in records[1].entities) else 0.0)
    assert gmner["mean_reward"] == round((5.5 + empty + 0.0) / 3, 4)
    assert gmner["rewards"]["format"] == round(2 / 3, 4) and gmner["rewards"]["span"] == round(1 / 3, 4)
    assert gmner["rewards"]["visual_shortcut"] == 0.0 and gmner["rewards"]["textual_shortcut"] == 0.0
    mate_metrics = results["mate"]["untrained"]
    assert mate_metrics["accuracy"] == round(100 / 3, 1) and mate_metrics["format_rate"] == round(2 / 3, 4)
    assert "mean_reward" not in mate_metrics  # rewards only on the recipe's own task
    saved = json.loads((tmp_path / "eval" / "gmner" / "untrained" / "metrics.json").read_text())
    assert saved["gmner"] == gmner["gmner"] and saved["mean_reward"] == gmner["mean_reward"]
    lines = [json.loads(x) for x in (tmp_path / "eval" / "gmner" / "untrained" / "predictions.jsonl").open()]
    assert [x["prediction"] for x in lines] == [known[r.id] for r in records]
    assert [x["reward"] for x in lines] == [5.5, empty, 0.0]


def test_reliance_probes_report_known_completions_by_value(
    tmp_path, tiny_model_dir, synth_root, monkeypatch, capsys
):
    """Each probe's altered inputs, and each reliance figure by value, from known completions."""
    import mcr.eval.evaluate as evaluation
    from mcr.benchmarks import get_task
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.reliance_inputs import MASK

    recipe = load_recipe(
        [
            *known_completion_args(tmp_path, tiny_model_dir, synth_root),
            "eval.probes=[blank_image,swapped_image,masked_text,no_pointer,no_target]",
        ]
    )
    records = load_twitter_gmner(synth_root, "test", images=synth_root / "images")[:3]
    gmner = get_task("gmner")
    perfect = {
        r.id: gmner.sft_example(r, "checklist", recipe.image_space)["completion"][0]["content"]
        for r in records
    }
    r0, r1, r2 = records
    nothing = wrap("[]")
    no_boxes = wrap(json.dumps([{"entity": e.text, "type": e.type, "bbox": None} for e in r2.entities]))
    masked_name = wrap(json.dumps([{"entity": MASK, "type": "PER", "bbox": None}]))
    gmner_answers = {
        "untrained": {r0.id: perfect[r0.id], r1.id: nothing, r2.id: perfect[r2.id]},
        "blank_image": {r0.id: perfect[r0.id], r1.id: nothing, r2.id: no_boxes},
        "swapped_image": {r0.id: perfect[r0.id], r1.id: nothing, r2.id: perfect[r2.id]},
        "masked_text": {r0.id: perfect[r0.id], r1.id: nothing, r2.id: masked_name},
    }
    right = wrap('{"answer": "Object_1"}')
    mate_answers = {
        "untrained": dict.fromkeys(["cm_0", "cm_1", "cm_2"], right),
        "no_pointer": {"cm_0": right, "cm_1": wrap('{"answer": "Object_2"}'), "cm_2": "?"},
        "no_target": dict.fromkeys(["cm_0", "cm_1", "cm_2"], "?"),
    }
    seen = {}

    def known(model, processor, rows, *, desc, **kwargs):
        bench, what = desc.split(" ", 1)
        seen[(bench, what)] = rows
        answers = (gmner_answers if bench == "gmner" else mate_answers)[what]
        return [answers[row["id"]] for row in rows]

    monkeypatch.setattr(evaluation, "generate", known)
    results = evaluation.main(recipe)

    # the altered inputs
    original = seen[("gmner", "untrained")]
    for row in seen[("gmner", "blank_image")]:
        assert row["image"].getcolors() == [(row["image"].size[0] * row["image"].size[1], (255, 255, 255))]
    swapped = seen[("gmner", "swapped_image")]
    assert [row["image"].tobytes() for row in swapped] == [original[k]["image"].tobytes() for k in (1, 2, 0)]
    for row, record in zip(seen[("gmner", "masked_text")], records, strict=True):
        assert MASK in row["text"] and all(f" {e.text} " not in f" {row['text']} " for e in record.entities)
        assert row["text"] in row["prompt"][0]["content"][-1]["text"]
    assert {row["id"] for row in seen[("mate", "no_pointer")]} == {"cm_0", "cm_1", "cm_2"}
    # MATE's rows point with colour (an image attribute) and ask for the name (a text attribute)
    assert all(row["image"].getcolors()[0][1] == (255, 255, 255) for row in seen[("mate", "no_pointer")])
    assert all(row["image"].getcolors()[0][1] != (255, 255, 255) for row in seen[("mate", "no_target")])
    assert all('{"objects": []}' in row["text"] for row in seen[("mate", "no_target")])

    # the figures
    n = [len(r.entities) for r in records]
    shown0 = sum(bool(e.boxes) for e in r0.entities)
    unshown2 = sum(not e.boxes for e in r2.entities)
    total = sum(n)

    def f1(correct, predicted):
        p, r = correct / predicted, correct / total
        return round(100 * 2 * p * r / (p + r), 2) if correct else 0.0

    base = f1(n[0] + n[2], n[0] + n[2])
    reliance = results["gmner"]["untrained"]["reliance"]
    shown2 = sum(bool(e.boxes) for e in r2.entities)
    assert reliance["swapped_image"] == {
        "f1": base,
        "f1_drop": 0.0,
        "agreement": 1.0,
        "boxed": round((shown0 + shown2) / (n[0] + n[2]), 4),
        "absent": 0.0,
        "answered": n[0] + n[2],
        "examples": 3,
    }
    blank = reliance["blank_image"]
    assert blank["f1"] == f1(n[0] + unshown2, n[0] + n[2]) and blank["f1_drop"] == round(
        base - blank["f1"], 2
    )
    assert blank["agreement"] == 1.0 and blank["answered"] == n[0] + n[2]
    assert blank["boxed"] == round(shown0 / (n[0] + n[2]), 4) and blank["absent"] == 0.0
    masked = reliance["masked_text"]
    assert masked["f1"] == f1(n[0], n[0] + 1) and masked["answered"] == n[0] + 1
    assert masked["absent"] == round(n[0] / (n[0] + 1), 4)  # r0's names answered, though masked
    assert masked["agreement"] == round(n[0] / (n[0] + n[2] + 1), 4)
    mate_reliance = results["mate"]["untrained"]["reliance"]
    assert mate_reliance == {
        "no_pointer": {"accuracy": 33.3, "accuracy_drop": 66.7, "examples": 3},
        "no_target": {"accuracy": 0.0, "accuracy_drop": 100.0, "examples": 3},
    }
    printed = capsys.readouterr().out
    assert "== modality reliance: gmner, 3 examples" in printed and "masked_text" in printed
    saved = json.loads((tmp_path / "eval" / "gmner" / "untrained" / "metrics.json").read_text())
    assert saved["reliance"] == reliance


def test_wandb_samples_show_images_with_gold_and_predicted_boxes(
    tmp_path, tiny_model_dir, synth_root, monkeypatch
):
    """The evaluation's samples table in an offline run holds each image as a PNG on disk, with the
    gold boxes and the predicted ones classed matched / wrong / unshown-but-boxed, by value."""
    import mcr.eval.evaluate as evaluation
    from mcr.benchmarks import get_task
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.wandb_boxes import CLASSES

    from helpers.wandb_offline import logged_tables

    recipe = load_recipe(
        [
            *synth_tiny_args(tmp_path, tiny_model_dir, synth_root),
            "eval.max_samples=6",
            "eval.report_to=[wandb]",
        ]
    )
    records = load_twitter_gmner(synth_root, "test", images=synth_root / "images")[:6]
    shown = next(r for r in records if any(e.boxes for e in r.entities))
    unshown = next(r for r in records if any(not e.boxes for e in r.entities))
    space = recipe.image_space
    perfect = get_task("gmner").sft_example(shown, "checklist", space)["completion"][0]["content"]
    ghost = next(e for e in unshown.entities if not e.boxes)
    boxed_unshown = wrap(json.dumps([{"entity": ghost.text, "type": ghost.type, "bbox": [1, 1, 20, 20]}]))
    known = {shown.id: perfect, unshown.id: boxed_unshown}
    monkeypatch.setattr(
        evaluation, "generate", lambda m, p, rows, **kw: [known.get(r["id"], "?") for r in rows]
    )
    evaluation.main(recipe)

    (run,) = (tmp_path / "eval" / "wandb").glob("offline-run-*")
    ((table, files),) = logged_tables(run, "eval/samples")
    column = table["columns"].index
    by_id = {row[column("id")]: row for row in table["data"]}
    assert set(by_id) == {r.id for r in records}
    for row in table["data"]:  # every image is a PNG on disk
        assert files[row[column("image")]["path"]].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cell = by_id[shown.id][column("image")]
    gold = sorted(
        (round(b[0]), round(b[1]), round(b[2]), round(b[3])) for e in shown.entities for b in e.boxes
    )
    drawn = sorted(
        tuple(round(box["position"][k]) for k in ("minX", "minY", "maxX", "maxY"))
        for box in cell["boxes"]["ground_truth"]
    )
    assert drawn == gold and {box["class_id"] for box in cell["boxes"]["ground_truth"]} == {4}
    predicted = cell["boxes"]["predictions"]
    assert len(predicted) == len(gold) and {box["class_id"] for box in predicted} == {1}  # all matched
    ((ghost_box,),) = [by_id[unshown.id][column("image")]["boxes"]["predictions"]]
    assert ghost_box["class_id"] == 3 and ghost_box["box_caption"] == f"{ghost.text} ({ghost.type})"
    classes = json.loads(files[cell["classes"]["path"]].read_text())["class_set"]
    assert {c["id"]: c["name"] for c in classes} == CLASSES
    # the table's images are staged with the run, not in a shared folder elsewhere
    assert all(str(tmp_path) in str(path) for path in files.values())
