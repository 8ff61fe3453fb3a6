"""Benchmark scorers against hand-computed expectations, including each official rule's edge cases."""

from __future__ import annotations

import json

import pytest

from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.scorer import prediction_from_text, score_gmner
from mcr.benchmarks.grec.scorer import giou, sample_f1, score_grec
from mcr.benchmarks.mmra.data import load_mmra
from mcr.benchmarks.mmra.scorer import extract_choice, score_mmra
from mcr.benchmarks.mner_mi.data import entities, load_mner_mi
from mcr.benchmarks.mner_mi.scorer import score_mner_mi
from mcr.cli import main as mcr_main
from mcr.contract.parse import PredEntity

from helpers.gmner_fixtures import OFFICIAL_TRAIN, OFFICIAL_XMLS, write_release

# One MMRA row in the export's fields: a choice question whose answer is A.
MMRA_ROW = {
    "Task": "Layout",
    "QA_type": "Choice QA",
    "question": "q",
    "image1": "a",
    "image2": "b",
    "options": "{'A': 'x'}",
    "answer": "A",
}


def ent(text, etype, box=None):
    return PredEntity(text, etype, tuple(map(float, box)) if box else None, text.casefold())


@pytest.fixture
def gmner_records(tmp_path):
    root = write_release(tmp_path / "rel", {"test": OFFICIAL_TRAIN}, OFFICIAL_XMLS)
    return root, load_twitter_gmner(root, "test")


class TestGmner:
    def test_perfect_and_partial(self, gmner_records):
        _, records = gmner_records
        perfect = {
            r.id: [ent(e.text, e.type, e.boxes[0] if e.boxes else None) for e in r.entities] for r in records
        }
        result = score_gmner(records, perfect)
        assert (
            result["gmner"]
            == result["mner"]
            == result["eeg"]
            == {"precision": 100.0, "recall": 100.0, "f1": 100.0}
        )
        assert result["bias"]["n_f1"] == 100.0 and result["bias"]["n_count"] == 0
        shown = sum(bool(e.boxes) for r in records for e in r.entities)
        assert result["grounding"] == {"shown": shown, "grounded": shown, "recall": 100.0}

    def test_grounding_counts_boxes_only(self, gmner_records):
        _, records = gmner_records
        r1 = records[1]  # Obama (boxed), New York City (not shown)
        never_boxes = score_gmner([r1], {r1.id: [ent("Obama", "PER"), ent("New York City", "LOC")]})
        assert never_boxes["gmner"]["f1"] == 50.0  # the right null still counts for GMNER
        assert never_boxes["grounding"] == {"shown": 1, "grounded": 0, "recall": 0.0}
        obama = next(e for e in r1.entities if e.boxes)
        boxed = score_gmner([r1], {r1.id: [ent("Obama", "PER", obama.boxes[0])]})
        assert boxed["grounding"] == {"shown": 1, "grounded": 1, "recall": 100.0}

    def test_iou_exactly_half_is_not_enough(self, gmner_records):
        _, records = gmner_records
        # Warriors gold box (150, 100, 290, 300): a box covering exactly half of it has IoU 0.5
        half = ent("Warriors", "ORG", (150, 100, 220, 300))
        more = ent("Warriors", "ORG", (150, 100, 221, 300))
        r0 = records[0]
        assert score_gmner([r0], {r0.id: [half]})["gmner"]["precision"] == 0.0
        assert score_gmner([r0], {r0.id: [more]})["gmner"]["precision"] == 100.0

    def test_any_of_several_gold_boxes(self, gmner_records):
        _, records = gmner_records
        r0 = records[0]
        second_box = ent("Kevin Durant", "PER", (300, 40, 380, 200))
        result = score_gmner([r0], {r0.id: [second_box]})
        assert result["gmner"] == {"precision": 100.0, "recall": round(100 / 3, 2), "f1": 50.0}

    def test_duplicate_predicted_spans_are_false_positives(self, gmner_records):
        _, records = gmner_records
        r1 = records[1]  # Obama (boxed), New York City (not shown)
        dup = [ent("New York City", "LOC")] * 2
        result = score_gmner([r1], {r1.id: dup})
        assert result["mner"] == {"precision": 50.0, "recall": 50.0, "f1": 50.0}
        assert result["bias"]["n_precision"] == 50.0 and result["bias"]["n_recall"] == 100.0

    def test_type_and_region_separate_the_three_tasks(self, gmner_records):
        _, records = gmner_records
        r1 = records[1]
        preds = [ent("Obama", "ORG", (0, 0, 640, 480)), ent("New York City", "LOC", (0, 0, 10, 10))]
        result = score_gmner([r1], {r1.id: preds})
        assert result["gmner"]["f1"] == 0.0
        assert result["mner"]["f1"] == 50.0  # New York City's type is right
        assert result["eeg"]["f1"] == 50.0  # Obama's region is right
        assert result["bias"]["n_recall"] == 0.0  # New York City boxed: a textual-bias error

    def test_visual_bias_counts_spans_absent_from_the_text(self, gmner_records):
        _, records = gmner_records
        r1 = records[1]
        result = score_gmner([r1], {r1.id: [ent("Obama", "PER", (0, 0, 640, 480)), ent("Biden", "PER")]})
        assert result["bias"]["n_count"] == 1 and result["bias"]["n_rate"] == 50.0

    def test_rescaling_from_the_model_input(self):
        raw = '<think>x</think><answer>[{"entity": "A", "type": "PER", "bbox": [10, 20, 30, 40]}]</answer>'
        (pred,) = prediction_from_text(raw, image_size=(500, 400), frame=(250, 200))
        assert pred.bbox == (20.0, 40.0, 60.0, 80.0)
        assert prediction_from_text("garbage", (1, 1), (1, 1)) is None

    def test_command_with_missing_and_unknown_ids(self, gmner_records, tmp_path, capsys):
        root, _ = gmner_records
        pred = tmp_path / "pred.jsonl"
        pred.write_text(
            json.dumps(
                {
                    "id": "O_2371",
                    "entities": [
                        {"entity": "Obama", "type": "PER", "bbox": [0, 0, 640, 480]},
                        {"entity": "New York City", "type": "LOC", "bbox": None},
                    ],
                }
            )
            + "\n"
        )
        mcr_main(["score", "gmner", "--gold-root", str(root), "--split", "test", "--pred", str(pred)])
        result = json.loads(capsys.readouterr().out)
        assert result["gmner"]["precision"] == 100.0 and result["gmner"]["recall"] == round(200 / 7, 2)
        assert result["counts"]["missing_predictions"] == 2
        pred.write_text(json.dumps({"id": "nope", "entities": []}) + "\n")
        with pytest.raises(SystemExit, match=r"pred\.jsonl:1: id 'nope' is not in the test split"):
            mcr_main(["score", "gmner", "--gold-root", str(root), "--split", "test", "--pred", str(pred)])


class TestMmra:
    def test_extraction_rule(self):
        assert extract_choice("Yes, yes... but no.", "True or false QA") == "yes"
        assert extract_choice("no NO yes", "True or false QA") == "no"
        assert extract_choice("The answer is (B), not (A) or A or A.", "Choice QA") == "B"
        assert extract_choice("A or B? I pick B. B!", "Choice QA") == "B"
        assert extract_choice("(A) then (B)", "Choice QA") == "A"  # a tie goes to the first seen
        assert extract_choice("nothing here", "Choice QA") is None
        assert extract_choice("I know", "True or false QA") is None  # "no" inside "know" is no match

    def test_scores_and_breakdowns(self, tmp_path):
        rows = [
            {
                "Task": "Layout",
                "QA_type": "Choice QA",
                "question": "q",
                "image1": "a.jpg",
                "image2": "b.jpg",
                "options": "{'A': 'left', 'B': 'right'}",
                "answer": "B",
            },
            {
                "Task": "NearSameEntity",
                "QA_type": "True or false QA",
                "question": "q",
                "image1": "c.jpg",
                "image2": "d.jpg",
                "options": "",
                "answer": "Yes",
            },
            {
                "Task": "NearSameEntity",
                "QA_type": "True or false QA",
                "question": "q",
                "image1": "e.jpg",
                "image2": "f.jpg",
                "options": "",
                "answer": "No",
            },
        ]
        gold = tmp_path / "mmra.jsonl"
        gold.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        items = load_mmra(gold)
        assert [i.id for i in items] == ["0", "1", "2"] and items[0].options == {"A": "left", "B": "right"}
        result = score_mmra(items, {"0": "(B)", "1": "yes"})
        assert result["accuracy"] == round(200 / 3, 2)
        assert result["by_subtask"] == {"Layout": 100.0, "NearSameEntity": 50.0}
        assert result["by_granularity"] == {"entity": 50.0, "image": 100.0}
        assert result["counts"]["missing_predictions"] == 1

    def test_bad_options_literal(self, tmp_path):
        gold = tmp_path / "mmra.jsonl"
        gold.write_text(json.dumps({**MMRA_ROW, "options": "{'A': __import__('os')}"}) + "\n")
        with pytest.raises(ValueError, match=r"mmra\.jsonl:1: options is not a dict literal"):
            load_mmra(gold)


class TestGrec:
    def test_giou(self):
        assert giou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
        assert giou((0, 0, 10, 10), (20, 0, 30, 10)) == pytest.approx(-1 / 3)

    def test_greedy_matching_and_f1(self):
        gold = [(0, 0, 10, 10), (20, 20, 30, 30)]
        assert sample_f1([(0, 0, 10, 10), (20, 20, 30, 30)], gold) == 1.0
        assert sample_f1([(0, 0, 10, 10)], gold) == pytest.approx(2 / 3)
        assert sample_f1([(0, 0, 10, 10), (0, 0, 10, 10)], gold) == 0.5  # one gold box is matched once

    def test_no_target_and_score_threshold(self):
        gold = {"a": [], "b": [], "c": [(0, 0, 10, 10)]}
        preds = {"a": [((0, 0, 5, 5), 0.69)], "b": [((0, 0, 5, 5), 0.7)], "c": [((0, 0, 10, 10), 0.9)]}
        result = score_grec(gold, preds)
        assert result["n_acc"] == 50.0  # a's box falls below 0.7, b's stays
        assert result["pr_f1_1"] == round(200 / 3, 2)


class TestMnerMi:
    def test_literal_records_without_eval(self, tmp_path):
        path = tmp_path / "MNER-MI_test.txt"
        path.write_text(
            "{'id': 5302, 'text': ['Kobe', 'in', 'LA'], 'images': ['5302_0.jpg', '5302_1.jpg'], "
            "'label': ['B-PER', 'O', 'B-LOC'], 'url': 'http://x'}\n"
            "{'id': 7, 'text': ['a'], 'label': ['O', 'O']}\n"
        )
        with pytest.raises(ValueError, match=r"MNER-MI_test\.txt:2, record '7': 1 tokens but 2 labels"):
            load_mner_mi(path)
        path.write_text("__import__('os').system('true')\n")
        with pytest.raises(ValueError, match="not a Python dict literal"):
            load_mner_mi(path)

    def test_seqeval_entities(self):
        assert entities(["B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-MIS"]) == {
            ("PER", 0, 2),
            ("LOC", 3, 5),
            ("MIS", 5, 6),
        }
        assert entities(["B-PER", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 2)}

    def test_micro_f1(self, tmp_path):
        path = tmp_path / "MNER-MI_test.txt"
        path.write_text(
            "{'id': 1, 'text': ['Kobe', 'in', 'LA'], 'label': ['B-PER', 'O', 'B-LOC']}\n"
            "{'id': 2, 'text': ['hi'], 'label': ['B-MIS']}\n"
        )
        records = load_mner_mi(path)
        result = score_mner_mi(records, {"1": ["B-PER", "O", "B-ORG"]})
        assert result["precision"] == 50.0 and result["recall"] == round(100 / 3, 2)
        assert result["counts"]["missing_predictions"] == 1


def test_stats_commands(tmp_path, capsys):
    mner = tmp_path / "MNER-MI_test.txt"
    mner.write_text(
        "{'id': 1, 'text': ['Kobe', 'in', 'LA'], 'images': ['1_0.jpg', '1_1.jpg'], "
        "'label': ['B-PER', 'O', 'B-LOC']}\n"
    )
    mcr_main(["data", "stats", "mner-mi", "--file", str(mner)])
    assert json.loads(capsys.readouterr().out) == {
        "posts": 1,
        "images": 2,
        "entities": 2,
        "types": {"LOC": 1, "PER": 1},
    }
    mmra = tmp_path / "mmra.jsonl"
    mmra.write_text(json.dumps(MMRA_ROW) + "\n")
    mcr_main(["data", "stats", "mmra", "--file", str(mmra)])
    assert json.loads(capsys.readouterr().out)["granularity"] == {"image": 1}


def test_score_commands_check_prediction_lines(tmp_path, capsys):
    gold = tmp_path / "mmra.jsonl"
    gold.write_text(json.dumps(MMRA_ROW) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": 0, "prediction": "(A)"}) + "\n")
    mcr_main(["score", "mmra", "--gold", str(gold), "--pred", str(pred)])
    assert json.loads(capsys.readouterr().out)["accuracy"] == 100.0
    pred.write_text(json.dumps({"id": 0, "answer": "(A)"}) + "\n")
    with pytest.raises(SystemExit, match=r"pred\.jsonl:1: expected a 'prediction'"):
        mcr_main(["score", "mmra", "--gold", str(gold), "--pred", str(pred)])
    pred.write_text(json.dumps({"id": 7, "prediction": "(A)"}) + "\n")
    with pytest.raises(SystemExit, match=r"pred\.jsonl:1: id '7' is not in .*mmra\.jsonl"):
        mcr_main(["score", "mmra", "--gold", str(gold), "--pred", str(pred)])


HUGE = 10**400  # a 401-digit integer: valid JSON, beyond float range


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (
            '{"id": "O_2371", "entities": [{"entity": "Obama", "type": "PER", "bbox": '
            f"[0, 0, {HUGE}, 9]}}]}}",
            r"pred\.jsonl:2: entity #0: 'bbox' must be null or 4 finite numbers",
        ),
        (
            '{"id": "O_2371", "entities": [{"entity": "Obama", "type": "PER", "bbox": [0, 0, NaN, 9]}]}',
            r"pred\.jsonl:2: entity #0: 'bbox' must be null or 4 finite numbers",
        ),
        (
            '{"id": "O_2371", "entities": [{"entity": "Obama", "type": "PER", "bbox": [0, 0, 1e400, 9]}]}',
            r"pred\.jsonl:2: entity #0: 'bbox' must be null or 4 finite numbers",
        ),
        (
            '{"id": "O_2371", "entities": ' + "[" * 3000 + "]" * 3000 + "}",
            r"pred\.jsonl:2: JSON nested too deeply to read",
        ),
        ('{"id": "O_2371", "entities": {"Obama": "PER"}}', r"pred\.jsonl:2: 'entities' must be a list"),
        (
            '{"id": "O_2371", "prediction": "x", "image_size": "640x480", "input_size": [644, 476]}',
            r"pred\.jsonl:2: 'image_size' and 'box_frame' \(or 'input_size'\) must be \[width, height\]",
        ),
        ('["O_2371", []]', r"pred\.jsonl:2: expected a JSON object with an 'id'"),
    ],
    ids=[
        "huge int",
        "NaN",
        "1e400",
        "nested 3000 deep",
        "entities not a list",
        "size as text",
        "not an object",
    ],
)
def test_hostile_prediction_files_get_errors_naming_the_line(gmner_records, tmp_path, line, error):
    """A line that breaks the prediction form is an error naming file and line, never a traceback."""
    root, _ = gmner_records
    pred = tmp_path / "pred.jsonl"
    pred.write_text(json.dumps({"id": "797970", "entities": []}) + "\n" + line + "\n")
    with pytest.raises(SystemExit, match=error):
        mcr_main(["score", "gmner", "--gold-root", str(root), "--split", "test", "--pred", str(pred)])


def test_unreadable_raw_answers_score_as_wrong_not_as_errors(gmner_records, tmp_path, capsys):
    """A model's raw answer that cannot be read (huge numbers, deep nesting, garbage) is a wrong answer."""
    root, records = gmner_records
    answers = [
        '<think>x</think><answer>[{"entity": "Kevin Durant", "type": "PER", "bbox": '
        f"[0, 0, {HUGE}, 9]}}]</answer>",
        "<think>x</think><answer>" + "[" * 3000 + "]" * 3000 + "</answer>",
        b"\xff\xfe not text".decode("latin-1"),
    ]
    pred = tmp_path / "pred.jsonl"
    with open(pred, "w") as f:
        for record, answer in zip(records, answers, strict=True):
            f.write(
                json.dumps(
                    {
                        "id": record.id,
                        "prediction": answer,
                        "image_size": [500, 375],
                        "input_size": [252, 168],
                    }
                )
                + "\n"
            )
    mcr_main(["score", "gmner", "--gold-root", str(root), "--split", "test", "--pred", str(pred)])
    result = json.loads(capsys.readouterr().out)
    assert result["gmner"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert result["counts"] == {"predicted": 0, "gold": 7, "missing_predictions": 0}


def test_bytes_that_are_not_utf8_name_the_line(gmner_records, tmp_path):
    root, _ = gmner_records
    pred = tmp_path / "pred.jsonl"
    pred.write_bytes(b'{"id": "797970", "entities": []}\n{"id": "O_2371", "entities": [], "x": "\xff"}\n')
    with pytest.raises(SystemExit, match=r"pred\.jsonl:2: not UTF-8 text"):
        mcr_main(["score", "gmner", "--gold-root", str(root), "--split", "test", "--pred", str(pred)])


def test_grec_prediction_boxes_are_checked_the_same_way(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "1", "boxes": [[0, 0, 10, 10]]}) + "\n")
    pred = tmp_path / "pred.jsonl"
    pred.write_text(f'{{"id": "1", "boxes": [[0, 0, {HUGE}, 10]], "scores": [1.0]}}\n')
    with pytest.raises(SystemExit, match=r"pred\.jsonl:1: 'boxes' must be a list of 4 finite numbers each"):
        mcr_main(["score", "grec", "--gold", str(gold), "--pred", str(pred)])
    pred.write_text(f'{{"id": "1", "boxes": [[0, 0, 10, 10]], "scores": [{HUGE}]}}\n')
    with pytest.raises(SystemExit, match=r"pred\.jsonl:1: 'scores' must be a list of finite numbers"):
        mcr_main(["score", "grec", "--gold", str(gold), "--pred", str(pred)])
