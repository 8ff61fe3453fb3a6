"""Loaders for the releases not shipped as plain files: MATE's and MMRA's Hugging Face parquet
exports (images embedded) and gRefCOCO; fixtures are written in those exact formats."""

from __future__ import annotations

import json

import datasets
import pytest
from PIL import Image

from mcr.benchmarks.grec.data import grefcoco_stats, load_grefcoco
from mcr.benchmarks.mate.data import load_mate_split
from mcr.benchmarks.mmra.data import load_mmra
from mcr.cli import main as mcr_main
from mcr.data.errors import DataFormatError

from helpers.benchmark_fixtures import (
    MMRA_FEATURES,
    mate_row,
    mmra_rows,
    png_bytes,
    write_grefcoco,
    write_mate_export,
)


class TestMateExport:
    def test_images_are_extracted_and_fields_kept(self, tmp_path):
        root = write_mate_export(tmp_path / "MATE", [mate_row(i) for i in range(5)])
        instances = load_mate_split(root, "cross_modal")
        assert [i.id for i in instances] == [f"cm_{i}" for i in range(5)]  # both shards, in order
        first = instances[0]
        assert first.image == str(root / "images" / "cross_modal" / "cm_0.png")
        with Image.open(first.image) as image:
            assert image.size == (40, 30) and image.getpixel((0, 0)) == (255, 0, 0)
        assert (first.answer, first.task, first.object_count) == ("Object_1", "img2data", 3)
        assert len(first.objects) == 3
        assert first.source.endswith("cross_modal-00000-of-00002.parquet row 0")

    def test_second_load_reuses_extracted_images(self, tmp_path):
        root = write_mate_export(tmp_path / "MATE", [mate_row(0)])
        path = load_mate_split(root, "cross_modal")[0].image
        mtime = (tmp_path / path).stat().st_mtime_ns
        load_mate_split(root, "cross_modal", images=None)
        assert (tmp_path / path).stat().st_mtime_ns == mtime

    def test_jpeg_bytes_get_a_jpeg_name_and_images_folder_is_honoured(self, tmp_path):
        row = mate_row(0, image={"bytes": png_bytes("green", fmt="JPEG"), "path": None})
        root = write_mate_export(tmp_path / "MATE", [row])
        (inst,) = load_mate_split(root, "cross_modal", images=tmp_path / "imgs")
        assert inst.image == str(tmp_path / "imgs" / "cm_0.jpg")

    def test_bad_row_names_file_and_row(self, tmp_path):
        rows = [mate_row(0), mate_row(1, task="img2txt")]
        root = write_mate_export(tmp_path / "MATE", rows)
        with pytest.raises(
            DataFormatError, match=r"cross_modal-00001-of-00002\.parquet, record 'cm_1 \(row 0\)'"
        ):
            load_mate_split(root, "cross_modal")

    def test_missing_split_and_missing_column(self, tmp_path):
        root = write_mate_export(tmp_path / "MATE", [mate_row(0)])
        with pytest.raises(DataFormatError, match=r"no MATE split 'unimodal'"):
            load_mate_split(root, "unimodal")
        bare = tmp_path / "bare" / "data"
        bare.mkdir(parents=True)
        datasets.Dataset.from_list([{"id": "x", "question": "q"}]).to_parquet(str(bare / "test-0.parquet"))
        with pytest.raises(DataFormatError, match=r"missing column\(s\) \['scene'"):
            load_mate_split(bare.parent, "test")

    def test_stats_from_annotations_alone(self, tmp_path, capsys):
        root = write_mate_export(tmp_path / "MATE", [mate_row(i) for i in range(4)])
        mcr_main(["data", "stats", "mate", "--file", str(root)])
        stats = json.loads(capsys.readouterr().out)
        assert stats["instances"] == 4 and stats["pairs"] == {"color->name": 4}
        assert not (root / "images").exists()  # statistics never write images


class TestMmraExport:
    def test_two_images_per_item_and_row_index_ids(self, tmp_path):
        (tmp_path / "MMRA" / "data").mkdir(parents=True)
        file = tmp_path / "MMRA" / "data" / "train-00000-of-00001.parquet"
        datasets.Dataset.from_list(mmra_rows(), features=MMRA_FEATURES).to_parquet(str(file))
        items = load_mmra(tmp_path / "MMRA")
        assert [i.id for i in items] == ["0", "1"]
        assert items[0].options == {"A": "grid", "B": "row", "C": "circle", "D": "none"}
        assert items[1].options == {} and items[1].granularity == "image"
        with Image.open(items[0].image1) as a, Image.open(items[0].image2) as b:
            assert a.getpixel((0, 0)) == (255, 0, 0) and b.getpixel((0, 0)) == (0, 0, 255)
        assert items[0].image2 == str(tmp_path / "MMRA" / "images" / "train" / "0_2.png")

    def test_a_parquet_file_directly_and_stats(self, tmp_path, capsys):
        file = tmp_path / "mmra.parquet"
        datasets.Dataset.from_list(mmra_rows(), features=MMRA_FEATURES).to_parquet(str(file))
        assert len(load_mmra(file)) == 2
        mcr_main(["data", "stats", "mmra", "--file", str(file)])
        stats = json.loads(capsys.readouterr().out)
        assert stats["subtasks"] == {"Layout": 1, "SubEvent": 1}


class TestGrefcoco:
    def test_samples_per_sentence_with_xyxy_boxes(self, tmp_path):
        root = write_grefcoco(tmp_path / "grefcoco")
        samples = load_grefcoco(root, "val")
        assert [s.id for s in samples] == ["10", "11", "12", "14"]
        two = samples[0]
        assert two.boxes == ((1.0, 2.0, 11.0, 22.0), (30.5, 4.0, 38.5, 12.0))
        assert two.image == str(root / "images" / "COCO_train2014_000000000009.jpg")
        assert two.image_size == (64, 48) and two.expression == "two people"
        assert samples[2].boxes == ()  # no target
        assert samples[3].boxes == ((0.0, 0.0, 5.0, 5.0),)  # a bare ann_id, not a list
        assert [s.id for s in load_grefcoco(root, "testA")] == ["13"]

    def test_stats_command(self, tmp_path, capsys):
        root = write_grefcoco(tmp_path / "grefcoco", with_images=False)
        mcr_main(["data", "stats", "grefcoco", "--root", str(root), "--split", "val"])
        assert json.loads(capsys.readouterr().out) == {
            "expressions": 4,
            "references": 3,
            "images": 2,
            "no_target": 1,
            "single_target": 1,
            "multi_target": 2,
            "boxes": 5,
        }
        assert grefcoco_stats([])["expressions"] == 0

    def test_errors_name_file_and_reference(self, tmp_path):
        root = write_grefcoco(tmp_path / "grefcoco")
        refs = json.loads((root / "grefs(unc).json").read_text())
        refs[0]["ann_id"] = [100, 999]
        (root / "grefs(unc).json").write_text(json.dumps(refs))
        with pytest.raises(DataFormatError, match=r"grefs\(unc\)\.json, record '1': annotation\(s\) \[999\]"):
            load_grefcoco(root, "val")
        with pytest.raises(DataFormatError, match=r"unknown split 'test'"):
            load_grefcoco(root, "test")
        (root / "images" / "COCO_train2014_000000000025.jpg").unlink()
        with pytest.raises(DataFormatError, match=r"record '3': image not found"):
            load_grefcoco(root, "testA")
