"""Damaged data files meet an error naming the file and the line (and, for bytes that are not
UTF-8, the byte), in every benchmark's loader and in ``mcr data stats``, never a traceback.

Each format is written valid, in its official layout, then damaged: bytes that are not UTF-8,
a file cut short in the middle of a record, fields of the wrong kind, an empty file. A UTF-8
byte order mark is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.grec.data import load_grefcoco
from mcr.benchmarks.mate.data import load_mate_split
from mcr.benchmarks.mmra.data import load_mmra
from mcr.benchmarks.mner_mi.data import load_mner_mi
from mcr.cli import main as mcr_main
from mcr.data.errors import DataFormatError
from mcr.data.text import read_lines, read_text

from helpers.benchmark_fixtures import (
    mate_row,
    mmra_rows,
    write_grefcoco,
    write_mate_export,
    write_mmra_export,
    write_mner_mi,
)
from helpers.gmner_fixtures import OFFICIAL_TRAIN, OFFICIAL_XMLS, voc, write_release

BOM = b"\xef\xbb\xbf"


# -- the five formats, each as `mcr data stats` reads it ------------------------------------------


@dataclass(frozen=True)
class Format:
    name: str
    write: Callable[[Path], Path]  # writes a valid release under a folder; returns what to load
    load: Callable[[Path], list]  # the loader, as `mcr data stats` calls it
    argv: Callable[[Path], list[str]]  # the `mcr data stats` command
    targets: Callable[[Path], list[Path]]  # the text files that corruption may hit


def _gmner(tmp: Path) -> Path:
    return write_release(tmp / "gmner", {"test": OFFICIAL_TRAIN}, OFFICIAL_XMLS)


def _mate(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "test.jsonl"
    rows = [{**mate_row(i), "image": f"{i}.png"} for i in range(3)]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _mmra(tmp: Path) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "mmra.jsonl"
    rows = [
        {**r, "id": f"m{i}", "image1": f"{i}_1.png", "image2": f"{i}_2.png"}
        for i, r in enumerate(mmra_rows())
    ]
    rows[0]["question"] = "Which layout do the two images share? «grille» ou «rangée» 🙂"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _grec(tmp: Path) -> Path:
    root = write_grefcoco(tmp / "grec", with_images=False)
    # indented, as json.dump(indent=...) writes it, so that lines mean something
    for name in ("grefs(unc).json", "instances.json"):
        data = json.loads((root / name).read_text())
        (root / name).write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")
    return root


def _mner_mi(tmp: Path) -> Path:
    return write_mner_mi(tmp / "mner") / "MNER-MI_test.txt"


FORMATS = {
    "gmner": Format(
        "gmner",
        _gmner,
        lambda root: load_twitter_gmner(root, "test"),
        lambda root: ["data", "stats", "twitter-gmner", "--root", str(root), "--split", "test"],
        lambda root: [root / "txt" / "test.txt", root / "xml" / "797970.xml"],
    ),
    "mate": Format(
        "mate",
        _mate,
        lambda path: load_mate_split(path, "cross_modal", require_images=False),
        lambda path: ["data", "stats", "mate", "--file", str(path)],
        lambda path: [path],
    ),
    "mmra": Format(
        "mmra",
        _mmra,
        lambda path: load_mmra(path, extract_images=False),
        lambda path: ["data", "stats", "mmra", "--file", str(path)],
        lambda path: [path],
    ),
    "grec": Format(
        "grec",
        _grec,
        lambda root: load_grefcoco(root, "val", require_images=False),
        lambda root: ["data", "stats", "grec", "--root", str(root), "--split", "val"],
        lambda root: [root / "grefs(unc).json", root / "instances.json"],
    ),
    "mner_mi": Format(
        "mner_mi",
        _mner_mi,
        load_mner_mi,
        lambda path: ["data", "stats", "mner-mi", "--file", str(path)],
        lambda path: [path],
    ),
}


def check_damage(
    fmt: Format, where: Path, file: Path, line: int | None, *problem: str, record: str | None = None
) -> DataFormatError:
    """The loader raises a DataFormatError naming ``file`` (and ``line``, ``record``) and saying
    ``problem``; ``mcr data stats`` exits with the same message on one line."""
    with pytest.raises(DataFormatError) as info:
        fmt.load(where)
    err = info.value
    message = str(err)
    assert Path(err.file) == file, message
    assert err.line == line, message
    assert message.startswith(f"{file}:{line}" if line is not None else str(file)), message
    for part in problem:
        assert part in message, message
    if record is not None:
        assert err.record == record and f"record {record!r}" in message, message
    assert "\n" not in message
    with pytest.raises(SystemExit) as exit_info:
        mcr_main(fmt.argv(where))
    assert exit_info.value.code == f"error: {message}"
    return err


def insert(path: Path, after: bytes, data: bytes, occurrence: int = 0) -> int:
    """Put ``data`` right after the ``occurrence``-th ``after`` in the file; its byte offset."""
    raw = path.read_bytes()
    at = -1
    for _ in range(occurrence + 1):
        at = raw.index(after, at + 1)
    at += len(after)
    path.write_bytes(raw[:at] + data + raw[at:])
    return at


def line_of(path: Path, needle: bytes) -> int:
    raw = path.read_bytes()
    return raw[: raw.index(needle)].count(b"\n") + 1


def undecodable(offset: int, shown: str) -> tuple[str, str]:
    return (f"not UTF-8 text: bytes {shown} at byte offset {offset} of the file", "cannot be decoded")


def jsonl_line(path: Path, lineno: int, change: Callable[[dict], dict]) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[lineno - 1] = json.dumps(change(json.loads(lines[lineno - 1])), ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


# -- the shared reader -----------------------------------------------------------------------------


def test_read_lines_names_line_byte_and_bytes(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(BOM + b"abc\r\nd\xc3\xa9f\nxy\xff\xfez\n")
    with pytest.raises(DataFormatError) as info:
        list(read_lines(path))
    assert info.value.line == 3
    assert str(info.value) == (
        f"{path}:3: not UTF-8 text: bytes 0xff 0xfe at byte offset 15 of the file (byte 3 of the line) "
        "cannot be decoded (invalid start byte); expected UTF-8"
    )
    with pytest.raises(DataFormatError) as whole:
        read_text(path)
    assert str(whole.value) == str(info.value)


def test_read_lines_accepts_a_bom_and_crlf(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes(BOM + b"abc\r\n\r\nd\xc3\xa9f")
    assert list(read_lines(path)) == [(1, "abc"), (2, ""), (3, "déf")]
    assert read_text(path) == "abc\r\n\r\ndéf"


def test_a_character_cut_in_the_middle_is_named(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("ok\nfire 🔥".encode()[:-2])
    with pytest.raises(DataFormatError, match=r"t\.txt:2: not UTF-8 text: bytes 0xf0 0x9f at byte offset 8 "):
        list(read_lines(path))
    with pytest.raises(DataFormatError, match=r"unexpected end of data"):
        read_text(path)


def test_a_missing_or_unreadable_file(tmp_path):
    with pytest.raises(DataFormatError, match=r"nope\.txt: no such CoNLL file"):
        list(read_lines(tmp_path / "nope.txt", "CoNLL"))
    with pytest.raises(DataFormatError, match=r"no such gRefCOCO file"):
        read_text(tmp_path, "gRefCOCO")


# -- every format: bytes that are not UTF-8, a file cut short, an empty file, a BOM --------------

# (format, index of the damaged file among its targets, bytes after which two bad bytes go)
BAD_BYTES = [
    ("gmner", 0, b"Dur"),
    ("gmner", 1, b"Warr"),
    ("mate", 0, b'"id": "cm_1", "image": "1.png", "scene": "{\\"objects\\": [{\\"name\\": \\"Obj'),
    ("mmra", 0, "«gri".encode()),
    ("grec", 0, b"the dog"),
    ("grec", 1, b"file_name"),
    ("mner_mi", 0, b"'Pa"),
]


@pytest.mark.parametrize(("name", "target", "after"), BAD_BYTES)
def test_bytes_that_are_not_utf8_name_file_line_and_byte(tmp_path, name, target, after):
    fmt = FORMATS[name]
    where = fmt.write(tmp_path)
    file = fmt.targets(where)[target]
    offset = insert(file, after, b"\xff\xfe")
    line = line_of(file, b"\xff\xfe")
    err = check_damage(fmt, where, file, line, *undecodable(offset, "0xff 0xfe"))
    column = offset - file.read_bytes().rfind(b"\n", 0, offset)
    assert f"(byte {column} of the line)" in str(err)


# (format, index of the file among its targets, the file is cut right after these bytes, problem)
CUT_SHORT = [
    ("gmner", 0, b"Obama\tB-P", "unknown entity type in tag 'B-P'"),
    ("gmner", 0, b"IMGID:O_2371\n", "post 'O_2371' has no tokens"),
    ("gmner", 1, b"<xmax>380</xmax><ym", "cut short?"),
    ("mate", 0, b'{"id": "cm_2", "image": "2.png", "scene": "{\\"ob', "the text ends before the JSON value"),
    ("mmra", 0, b'{"Task": "SubEvent", "QA_type": "True', "cut short?"),
    ("grec", 0, b'"sent": "the c', "the text ends before the JSON value does (cut short?)"),
    ("grec", 1, b'"bbox": [\n    30.5,', "the text ends before the JSON value does (cut short?)"),
    ("mner_mi", 0, b"{'id': 5303, 'text': ['Lakers', 'w", "cut short?"),
]


@pytest.mark.parametrize(("name", "target", "keep", "problem"), CUT_SHORT)
def test_a_file_cut_in_the_middle_of_a_record(tmp_path, name, target, keep, problem):
    fmt = FORMATS[name]
    where = fmt.write(tmp_path)
    file = fmt.targets(where)[target]
    raw = file.read_bytes()
    cut = raw[: raw.index(keep) + len(keep)]
    file.write_bytes(cut)
    line = cut.rstrip(b"\n").count(b"\n") + 1
    check_damage(fmt, where, file, line, problem)


@pytest.mark.parametrize(
    ("name", "target", "content", "line", "problem"),
    [
        ("gmner", 0, b"\n\n", None, "no posts: the file is empty"),
        ("gmner", 1, b"", 1, "empty xml file"),
        ("mate", 0, b"\n\n", None, "no instances: the file is empty"),
        ("mmra", 0, b"", None, "no items: the file is empty"),
        ("grec", 0, b"", 1, "the file is empty; expected a JSON document"),
        ("grec", 1, b" \n", 1, "the file is empty; expected a JSON document"),
        ("mner_mi", 0, b"\n", None, "no records: the file is empty"),
    ],
)
def test_an_empty_file(tmp_path, name, target, content, line, problem):
    fmt = FORMATS[name]
    where = fmt.write(tmp_path)
    file = fmt.targets(where)[target]
    file.write_bytes(content)
    check_damage(fmt, where, file, line, problem)


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_a_byte_order_mark_is_accepted(tmp_path, name, capsys):
    fmt = FORMATS[name]
    where = fmt.write(tmp_path)
    before = fmt.load(where)
    for file in fmt.targets(where):
        file.write_bytes(BOM + file.read_bytes())
    assert fmt.load(where) == before
    mcr_main(fmt.argv(where))
    assert json.loads(capsys.readouterr().out)


def test_crlf_line_endings_read_as_lf(tmp_path):
    fmt = FORMATS["gmner"]
    root = fmt.write(tmp_path)
    before = fmt.load(root)
    txt = fmt.targets(root)[0]
    txt.write_bytes(txt.read_bytes().replace(b"\n", b"\r\n"))
    after = fmt.load(root)
    assert [(r.id, r.tokens, r.entities) for r in after] == [(r.id, r.tokens, r.entities) for r in before]


# -- malformed fields, format by format ------------------------------------------------------------


@pytest.mark.parametrize(
    ("xml_change", "needle", "problem"),
    [
        ((b"<xmin>10</xmin>", b"<xmin>ten</xmin>"), b"<xmin>ten", "<xmin> is not a finite number: 'ten'"),
        ((b"<xmin>10</xmin>", b"<xmin>1e400</xmin>"), b"<xmin>1e400", "<xmin> is not a finite number"),
        ((b"<height>375</height>", b"<height>inf</height>"), b"<height>", "<height> is not a finite number"),
        ((b"<xmin>10</xmin>", b""), b"<object>", "<object> #1 ('Kevin Durant') has no <xmin>"),
        ((b"<xmax>110</xmax>", b"<xmax>900</xmax>"), b"<bndbox>", "is outside the 500x375 image"),
        ((b"<name>Warriors</name>", b"<name> </name>"), b"<name> </name>", "<object> #3 has no <name>"),
    ],
)
def test_gmner_xml_fields(tmp_path, xml_change, needle, problem):
    fmt = FORMATS["gmner"]
    root = fmt.write(tmp_path)
    xml = fmt.targets(root)[1]
    xml.write_bytes(xml.read_bytes().replace(*xml_change, 1))
    line = line_of(xml, needle)
    check_damage(fmt, root, xml, line, problem)


def test_gmner_xml_that_is_not_xml(tmp_path):
    fmt = FORMATS["gmner"]
    root = fmt.write(tmp_path)
    xml = fmt.targets(root)[1]
    xml.write_text(voc(500, 375, [("Warriors", (1, 2, 3, 4))]).replace("</size>", "</sise>"))
    check_damage(fmt, root, xml, 3, "unreadable xml: mismatched tag")


@pytest.mark.parametrize(
    ("before", "after", "problem"),
    [
        (b"IMGID:O_2371", b"IMGID:../O_2371", "image id '../O_2371' cannot name a file"),
        (b"IMGID:O_2371", b"IMGID:", "empty image id after 'IMGID:'"),
        (b"Obama\tB-PER", b"Obama\tB-", "unknown entity type in tag 'B-'"),
        (b"Obama\tB-PER", b"Obama B-PER", "expected 'token<TAB>tag'"),
        (b"Obama\tB-PER", b"Obama\tS-PER", "unknown tag 'S-PER'"),
    ],
)
def test_gmner_conll_lines(tmp_path, before, after, problem):
    fmt = FORMATS["gmner"]
    root = fmt.write(tmp_path)
    txt = fmt.targets(root)[0]
    line = line_of(txt, before)
    txt.write_bytes(txt.read_bytes().replace(before, after, 1))
    check_damage(fmt, root, txt, line, problem)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: {k: v for k, v in r.items() if k != "answer"}, "missing field(s) ['answer']"),
        (lambda r: {**r, "object_count": "three"}, "'object_count' must be a positive integer, not 'three'"),
        (lambda r: {**r, "object_count": None}, "'object_count' must be a positive integer, not None"),
        (lambda r: {**r, "question": ["what?"]}, "'question' must be a string, not list"),
        (lambda r: {**r, "scene": '{"objects": [1, 2'}, "scene is not JSON with an 'objects' list"),
        (lambda r: {**r, "scene": '{"things": []}'}, "scene is not JSON with an 'objects' list"),
        (lambda r: {**r, "task": "img2txt"}, "unknown task 'img2txt'"),
        (lambda r: {**r, "image": 7}, "'image' must be the image's path, not 7"),
        (lambda r: {**r, "answer": {"x": 1}}, "'answer' must be a string (or a number)"),
        (lambda r: {**r, "id": "cm_0"}, "id repeats line 1"),
    ],
)
def test_mate_fields(tmp_path, change, problem):
    fmt = FORMATS["mate"]
    path = fmt.write(tmp_path)
    jsonl_line(path, 2, change)
    record = change(json.loads(path.read_text().splitlines()[1])).get("id", "cm_1")
    check_damage(fmt, path, path, 2, problem, record=record)


def test_mate_id_of_the_wrong_kind(tmp_path):
    fmt = FORMATS["mate"]
    path = fmt.write(tmp_path)
    jsonl_line(path, 3, lambda r: {**r, "id": ["cm_2"]})
    check_damage(fmt, path, path, 3, "'id' must be a non-empty string or an integer")


def test_mate_line_that_is_not_an_object(tmp_path):
    fmt = FORMATS["mate"]
    path = fmt.write(tmp_path)
    path.write_text(path.read_text() + '["cm_9"]\n')
    check_damage(fmt, path, path, 4, "expected a JSON object with an 'id'")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda r: {**r, "options": "['A', 'B']"}, "options is not a dict of letters to texts"),
        (lambda r: {**r, "options": "{'A': 'x', 'B'"}, "options is not a dict literal"),
        (lambda r: {**r, "options": "{['A']: 'x'}"}, "options is not a dict literal"),
        (lambda r: {**r, "options": 5}, "options is not a dict of letters to texts"),
        (lambda r: {**r, "Task": 3}, "'Task' must be a string, not int"),
        (lambda r: {**r, "answer": None}, "'answer' must be a string, not NoneType"),
        (lambda r: {k: v for k, v in r.items() if k != "QA_type"}, "missing field(s) ['QA_type']"),
        (lambda r: {**r, "id": "m0"}, "id repeats line 1"),
        (lambda r: {**r, "image2": ""}, "'image2' must be the image's path"),
    ],
)
def test_mmra_fields(tmp_path, change, problem):
    fmt = FORMATS["mmra"]
    path = fmt.write(tmp_path)
    jsonl_line(path, 2, change)
    record = None if "image2" in problem else change({"id": "m1"})["id"]
    check_damage(fmt, path, path, 2, problem, record=record)


def _grec_edit(root: Path, name: str, edit: Callable[[object], None]) -> Path:
    path = root / name
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=1))
    return path


@pytest.mark.parametrize(
    ("name", "edit", "problem", "record"),
    [
        (
            "instances.json",
            lambda d: d["annotations"][1].update(bbox=[30.5, 4, 8]),
            "annotation bbox is not [x, y, w, h]",
            "annotation 101 (#1 of 'annotations')",
        ),
        (
            "instances.json",
            lambda d: d["annotations"][0].update(bbox=[1, 2, "10", 20]),
            "annotation bbox is not [x, y, w, h]",
            "annotation 100 (#0 of 'annotations')",
        ),
        (
            "instances.json",
            lambda d: d["annotations"][0].update(bbox=[1, 2, -10, 20]),
            "w and h not negative",
            "annotation 100 (#0 of 'annotations')",
        ),
        (
            "instances.json",
            lambda d: d["images"][0].update(width="64"),
            "width and height must be positive numbers",
            "image 9 (#0 of 'images')",
        ),
        (
            "instances.json",
            lambda d: d["images"][1].pop("file_name"),
            "an image entry lacks id, file_name, width or height",
            "image 25 (#1 of 'images')",
        ),
        ("grefs(unc).json", lambda d: d[0].pop("sentences"), "reference lacks ['sentences']", "1"),
        ("grefs(unc).json", lambda d: d[0].update(ann_id=[[100]]), "ann_id must be an annotation id", "1"),
        ("grefs(unc).json", lambda d: d[0].update(sentences="two people"), "sentences must be a list", "1"),
        ("grefs(unc).json", lambda d: d[0]["sentences"][1].pop("sent_id"), "has no id ('sent_id')", "1"),
        ("grefs(unc).json", lambda d: d[1]["sentences"][0].update(sent=None, raw=None), "has no text", "2"),
        ("grefs(unc).json", lambda d: d[3].update(image_id=[25]), "image [25] not in instances.json", "4"),
    ],
)
def test_grec_fields(tmp_path, name, edit, problem, record):
    fmt = FORMATS["grec"]
    root = fmt.write(tmp_path)
    path = _grec_edit(root, name, edit)
    check_damage(fmt, root, path, None, problem, record=record)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"images": {}, "annotations": []}, "'images' must be a list, not dict"),
        ({"images": [7], "annotations": []}, "'images' entry #0 is not an object: 7"),
        ([], "expected COCO instances with 'images' and 'annotations'"),
    ],
)
def test_grec_instances_of_the_wrong_shape(tmp_path, data, problem):
    fmt = FORMATS["grec"]
    root = fmt.write(tmp_path)
    path = root / "instances.json"
    path.write_text(json.dumps(data))
    check_damage(fmt, root, path, None, problem)


def test_grec_references_of_the_wrong_shape(tmp_path):
    fmt = FORMATS["grec"]
    root = fmt.write(tmp_path)
    path = root / "grefs(unc).json"
    path.write_text(json.dumps({"refs": []}))
    check_damage(fmt, root, path, None, "expected a list of references")
    path.write_text("[]")
    check_damage(fmt, root, path, None, "the list of references is empty")
    path.write_text('[{"ref_id": 1, "split": "train"}, 5]')
    check_damage(fmt, root, path, None, "reference #1 is not an object: 5")


@pytest.mark.parametrize(
    ("line", "problem", "record"),
    [
        ("{'id': 7, 'text': ['a'], 'label': ['O', 'O']}", "1 tokens but 2 labels", "7"),
        ("{'id': 7, 'text': 'a b', 'label': ['O', 'O']}", "'text' must be a list of token strings", "7"),
        ("{'id': 7, 'text': ['a'], 'label': 'O'}", "'label' must be a list of BIO tag strings", "7"),
        ("{'id': 7, 'text': ['a'], 'label': ['PER']}", "unknown tag 'PER'", "7"),
        ("{'id': 7, 'text': ['a'], 'label': ['O'], 'images': '7.jpg'}", "'images' must be a list", "7"),
        ("{'id': 5302, 'text': ['a'], 'label': ['O']}", "id repeats the record at line 1", "5302"),
        ("{'id': [7], 'text': ['a'], 'label': ['O']}", "'id' must be an integer", "[7]"),
        ("{'id': 7, 'text': ['a']}", "expected a dict with 'id', 'text' and 'label'", None),
        ("[7, ['a'], ['O']]", "expected a dict with 'id', 'text' and 'label'", None),
        ("{'id': 7, 'text': __import__('os')}", "not a Python dict literal", None),
        ("{'id': 7, {'a'}: 1}", "not a Python dict literal", None),
        ("{'id': 7 'text': ['a']}", "not a Python dict literal: invalid syntax", None),
    ],
)
def test_mner_mi_records(tmp_path, line, problem, record):
    fmt = FORMATS["mner_mi"]
    path = fmt.write(tmp_path)
    path.write_text(path.read_text() + line + "\n")
    check_damage(fmt, path, path, 3, problem, record=record)


# -- parquet exports (MATE, MMRA) ---------------------------------------------------------------------


def _mate_export(tmp: Path) -> tuple[Path, Path]:
    root = write_mate_export(tmp / "MATE", [mate_row(i) for i in range(3)])
    return root, sorted((root / "data").glob("*.parquet"))[0]


def _mmra_export(tmp: Path) -> tuple[Path, Path]:
    root = write_mmra_export(tmp / "MMRA")
    return root, root / "data" / "train-00000-of-00001.parquet"


EXPORTS = {
    "mate": (
        _mate_export,
        lambda root: load_mate_split(root, "cross_modal", require_images=False),
        lambda root: ["data", "stats", "mate", "--file", str(root), "--split", "cross_modal"],
    ),
    "mmra": (
        _mmra_export,
        lambda root: load_mmra(root, extract_images=False),
        lambda root: ["data", "stats", "mmra", "--file", str(root)],
    ),
}


def _export_format(name: str) -> Format:
    _, load, argv = EXPORTS[name]
    return Format(name, lambda tmp: tmp, load, argv, lambda root: [])


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_parquet_file_that_is_not_parquet(tmp_path, name):
    write, *_ = EXPORTS[name]
    root, file = write(tmp_path)
    file.write_bytes(b'{"id": "not parquet"}\n')
    check_damage(_export_format(name), root, file, None, f"not a {name.upper()} parquet file")


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_a_parquet_file_cut_short(tmp_path, name):
    write, *_ = EXPORTS[name]
    root, file = write(tmp_path)
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])
    check_damage(_export_format(name), root, file, None, "parquet file")


def test_a_parquet_file_without_a_column(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "options"} for r in mmra_rows()]
    import datasets

    root = tmp_path / "MMRA"
    (root / "data").mkdir(parents=True)
    file = root / "data" / "train-00000-of-00001.parquet"
    datasets.Dataset.from_list(rows).to_parquet(str(file))
    check_damage(_export_format("mmra"), root, file, None, "missing column(s) ['options']")


def test_parquet_rows_of_the_wrong_kind(tmp_path):
    rows = mmra_rows()
    rows[1]["options"] = "{'A': 'x'"
    root = write_mmra_export(tmp_path / "MMRA", rows)
    file = root / "data" / "train-00000-of-00001.parquet"
    check_damage(_export_format("mmra"), root, file, None, "options is not a dict literal", record="row 1")


def test_a_parquet_id_that_cannot_name_an_image(tmp_path):
    root = write_mate_export(tmp_path / "MATE", [mate_row(0, id="../../escape")])
    with pytest.raises(DataFormatError, match=r"id '\.\./\.\./escape' cannot name an image file"):
        load_mate_split(root, "cross_modal")
    assert not (tmp_path / "escape.png").exists()


# -- random damage never escapes as anything but DataFormatError -----------------------------------


@st.composite
def corruptions(draw, size: int) -> list[tuple]:
    """A few edits of a file of ``size`` bytes: bytes replaced, inserted or deleted, or a cut."""
    edits = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        at = draw(st.integers(0, max(size - 1, 0)))
        data = draw(st.binary(min_size=1, max_size=3))
        edits.append((kind, at, data))
    return edits


def corrupt(raw: bytes, edits: list[tuple]) -> bytes:
    for kind, at, data in edits:
        at = min(at, len(raw))
        if kind == "replace":
            raw = raw[:at] + data + raw[at + len(data) :]
        elif kind == "insert":
            raw = raw[:at] + data + raw[at:]
        elif kind == "delete":
            raw = raw[:at] + raw[at + len(data) :]
        else:
            raw = raw[:at]
    return raw


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_random_corruption_is_a_data_format_error_or_harmless(tmp_path_factory, name):
    fmt = FORMATS[name]
    where = fmt.write(tmp_path_factory.mktemp(name))
    targets = fmt.targets(where)
    originals = {t: t.read_bytes() for t in targets}

    @settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(target=st.sampled_from(targets), data=st.data())
    def check(target, data):
        try:
            target.write_bytes(corrupt(originals[target], data.draw(corruptions(len(originals[target])))))
            try:
                fmt.load(where)
            except DataFormatError as err:
                assert err.file is not None and str(err).startswith(str(err.file)), str(err)
                assert "\n" not in str(err)
                with pytest.raises(SystemExit) as exit_info:
                    mcr_main(fmt.argv(where))
                assert exit_info.value.code == f"error: {err}"
        finally:
            target.write_bytes(originals[target])

    check()


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_random_parquet_corruption_is_a_data_format_error_or_harmless(tmp_path_factory, name):
    write, load, _ = EXPORTS[name]
    root, file = write(tmp_path_factory.mktemp(name))
    original = file.read_bytes()

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(edits=corruptions(len(original)))
    def check(edits):
        try:
            file.write_bytes(corrupt(original, edits))
            try:
                load(root)
            except DataFormatError as err:
                assert err.file is not None and "\n" not in str(err), str(err)
        finally:
            file.write_bytes(original)

    check()
