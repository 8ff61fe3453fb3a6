"""The Twitter-GMNER loader on fixtures written in the official release format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcr.benchmarks.gmner.release import check_images, gmner_stats, load_twitter_gmner
from mcr.cli import main as mcr_main
from mcr.data.errors import DataFormatError
from mcr.data.schema import GMNER_TYPES, Entity

from helpers.gmner_fixtures import OFFICIAL_TRAIN, OFFICIAL_XMLS, voc, write_release


@pytest.fixture
def release(tmp_path):
    sizes = {"797970": (500, 375), "O_2371": (640, 480), "16_05_01_127": (300, 300)}
    return write_release(
        tmp_path / "Twitter10000_v2.0",
        {"train": OFFICIAL_TRAIN, "test": OFFICIAL_TRAIN},
        OFFICIAL_XMLS,
        sizes,
    )


def test_round_trip_of_official_format(release):
    records = load_twitter_gmner(release, "train", images=release / "images", require_images=True)
    assert [r.id for r in records] == ["797970", "O_2371", "16_05_01_127"]

    nba = records[0]
    assert nba.tokens[0] == "RT" and nba.tokens[-3:] == ("#NBAFinals", "🔥", "http://t.co/AbC123")
    assert nba.entities == (
        Entity("Kevin Durant", "PER", 3, 5, ((10.0, 20.0, 110.0, 220.0), (300.0, 40.0, 380.0, 200.0))),
        Entity("Warriors", "ORG", 7, 8, ((150.0, 100.0, 290.0, 300.0),)),
        Entity("Oakland", "LOC", 9, 10, ()),
    )
    assert nba.image_size == (500, 375)
    assert nba.images == (str(release / "images" / "797970.jpg"),)
    assert nba.text.split() == list(nba.tokens)
    assert nba.source.endswith("train.txt:1")

    obama = records[1]
    assert [(e.text, e.type, e.groundable) for e in obama.entities] == [
        ("Obama", "PER", True),
        ("New York City", "LOC", False),
    ]

    no_xml = records[2]
    assert no_xml.image_size is None
    assert [(e.text, e.type, e.boxes) for e in no_xml.entities] == [
        ("Taylor Swift", "PER", ()),
        ("#Grammys", "OTHER", ()),
    ]


def test_stats_from_annotations_alone(release, capsys):
    stats = gmner_stats(load_twitter_gmner(release, "test"))
    assert stats == {
        "tweets": 3,
        "entities": 7,
        "groundable": 3,
        "boxes": 4,
        "types": {"LOC": 2, "ORG": 1, "OTHER": 1, "PER": 3},
        "unmatched_boxes": 0,
        "repaired_tags": 0,
    }
    mcr_main(["data", "stats", "twitter-gmner", "--root", str(release), "--split", "test"])
    printed = json.loads(capsys.readouterr().out)
    assert {k: printed[k] for k in ("tweets", "entities", "groundable", "boxes", "types")} == {
        k: stats[k] for k in ("tweets", "entities", "groundable", "boxes", "types")
    }


def test_unmatched_xml_object_is_counted_not_dropped(tmp_path, caplog):
    xml = voc(100, 100, [("Obama", (0, 0, 50, 50)), ("Michelle", (50, 50, 90, 90))])
    root = write_release(tmp_path, {"dev": "IMGID:1\nObama\tB-PER\n"}, {"1": xml})
    records = load_twitter_gmner(root, "dev")
    assert gmner_stats(records)["unmatched_boxes"] == 1
    assert "Michelle" in caplog.text and "1.xml" in caplog.text


def _error(tmp_path, conll: str, xmls: dict | None = None, **kwargs) -> DataFormatError:
    root = write_release(tmp_path / "r", {"test": conll}, xmls)
    with pytest.raises(DataFormatError) as info:
        load_twitter_gmner(root, "test", **kwargs)
    return info.value


def test_missing_imgid_names_file_and_line(tmp_path):
    err = _error(tmp_path, "Obama\tB-PER\nvisits\tO\n")
    assert err.line == 1 and str(err).startswith(f"{tmp_path / 'r' / 'txt' / 'test.txt'}:1:")
    assert "IMGID" in str(err)


def test_missing_imgid_after_blank_line(tmp_path):
    err = _error(tmp_path, "IMGID:1\nObama\tB-PER\n\nvisits\tO\n")
    assert err.line == 4 and "before any 'IMGID:'" in str(err)


@pytest.mark.parametrize(
    ("conll", "line", "problem"),
    [
        ("IMGID:1\nNew\tB-MISC\n", 2, "unknown entity type"),
        ("IMGID:1\nNew\tX-LOC\n", 2, "unknown tag 'X-LOC'"),
        ("IMGID:1\nNew York B-LOC\n", 2, "expected 'token<TAB>tag'"),
    ],
)
def test_bad_tag_sequences(tmp_path, conll, line, problem):
    err = _error(tmp_path, conll)
    assert err.line == line
    assert problem in str(err) and "test.txt" in str(err)


# Twitter-GMNER v1 (Twitter10000/txt/test.txt, line 8771 and the line before it) tags a name
# whose first word the annotators left out: "Nike O" then "SNKRS I-OTHER". The two tagged
# lines are the release's; the post around them is made up.
V1_TEST = "IMGID:1\nObama\tB-PER\n\nIMGID:2\nnew\tO\nNike\tO\nSNKRS\tI-OTHER\ndrop\tO\ntoday\tO\n"


def test_v1_release_loads_with_stray_i_tags_read_as_entities(tmp_path, caplog, capsys):
    root = write_release(tmp_path, {"test": V1_TEST})
    with caplog.at_level("WARNING"):
        first, second = load_twitter_gmner(root, "test")
    (snkrs,) = second.entities
    assert (snkrs.text, snkrs.type, snkrs.start, snkrs.end) == ("SNKRS", "OTHER", 2, 3)
    assert second.extra["repaired_tags"] == [7] and first.extra["repaired_tags"] == []
    assert "test.txt: 1 I- tag(s) that continue no entity were read as starting one" in caplog.text
    assert "at line(s) 7" in caplog.text
    assert gmner_stats([first, second])["repaired_tags"] == 1
    mcr_main(["data", "stats", "twitter-gmner", "--root", str(root), "--split", "test"])
    assert json.loads(capsys.readouterr().out)["repaired_tags"] == 1


@pytest.mark.parametrize(
    ("tags", "entities", "repaired"),
    [
        (["O", "I-LOC"], [(1, 2, "LOC")], [3]),  # after O
        (["I-LOC", "I-LOC"], [(0, 2, "LOC")], [2]),  # at the start; the next I- continues it
        (["B-PER", "I-LOC"], [(0, 1, "PER"), (1, 2, "LOC")], [3]),  # after another type
        (["B-PER", "I-PER", "O"], [(0, 2, "PER")], []),  # nothing to repair
    ],
)
def test_stray_i_tags_start_entities_as_conlleval_reads_them(tags, entities, repaired):
    from mcr.benchmarks.gmner.release import bio_spans

    assert bio_spans(tags, GMNER_TYPES, file=Path("t.txt"), first_line=1) == (entities, repaired)


def test_fine_grained_types_accepted_when_asked(tmp_path):
    root = write_release(tmp_path, {"test": "IMGID:1\nObama\tB-politician\n"})
    (record,) = load_twitter_gmner(root, "test", types=None)
    assert record.entities[0].type == "politician"


def test_duplicate_image_id(tmp_path):
    err = _error(tmp_path, "IMGID:7\na\tO\n\nIMGID:7\nb\tO\n")
    assert err.line == 4 and "repeats the post at line 1" in str(err)


def test_unreadable_xml_names_file(tmp_path):
    err = _error(tmp_path, "IMGID:5\nObama\tB-PER\n", {"5": "<annotation><size><width>10</width>"})
    assert err.file == tmp_path / "r" / "xml" / "5.xml" and "unreadable xml" in str(err)


@pytest.mark.parametrize("box", [(0, 0, 120, 50), (-1, 0, 50, 50), (10, 10, 10, 50), (30, 10, 20, 50)])
def test_box_outside_image_or_empty(tmp_path, box):
    err = _error(tmp_path, "IMGID:5\nObama\tB-PER\n", {"5": voc(100, 80, [("Obama", box)])})
    assert "5.xml" in str(err) and "outside the 100x80 image or has no area" in str(err)


def test_xml_without_size(tmp_path):
    err = _error(
        tmp_path,
        "IMGID:5\nObama\tB-PER\n",
        {"5": "<annotation><object><name>Obama</name></object></annotation>"},
    )
    assert "<size> has no <width>" in str(err)


def test_missing_image_when_images_are_asked(tmp_path):
    root = write_release(tmp_path, {"test": "IMGID:1\na\tO\n\nIMGID:2\nb\tO\n"}, images={"1": (20, 20)})
    with pytest.raises(DataFormatError, match=r"record '2'.*image not found: .*2\.jpg"):
        load_twitter_gmner(root, "test", images=root / "images", require_images=True)
    records = load_twitter_gmner(root, "test", images=root / "images")
    with pytest.raises(DataFormatError, match=r"1 of 2 images are missing .*: 2 \(.*test\.txt:4\)"):
        check_images(records, root / "images")


def test_missing_split_file(tmp_path):
    root = write_release(tmp_path, {"train": "IMGID:1\na\tO\n"})
    with pytest.raises(DataFormatError, match=r"dev\.txt: no such split file"):
        load_twitter_gmner(root, "dev")


def test_stats_command_reports_bad_input_without_traceback(tmp_path):
    root = write_release(tmp_path, {"test": "Obama\tB-PER\n"})
    with pytest.raises(SystemExit, match=r"error: .*test\.txt:1: token line before any 'IMGID:' line"):
        mcr_main(["data", "stats", "twitter-gmner", "--root", str(root), "--split", "test"])
