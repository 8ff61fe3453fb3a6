"""bench/localisation.py: each controlled run differs from its reference in one declared thing, and
the look inside a finished run counts the words before a question and tabulates right / asked."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from mcr.families import get_family
from mcr.image_space import ImageSpace
from mcr.pretrain.corpus import FAR_WORDS, RECALL_TASKS, VISION_TASKS, vision_example
from mcr.pretrain.run import BASE_SPEC
from mcr.tiny_model import SPECIAL_TOKENS, TinySpec

from helpers.runs import load_bench


@pytest.mark.parametrize("name", list(load_bench("localisation").VARIANTS))
def test_every_variant_names_a_layout_a_corpus_mix_and_a_tiny_spec_that_exist(name):
    bench = load_bench("localisation")
    variant = bench.VARIANTS[name]
    assert variant.layout in bench.layout_choices()
    assert set(variant.mix) <= set(VISION_TASKS + RECALL_TASKS) and all(w > 0 for w in variant.mix.values())
    spec = replace(BASE_SPEC, **variant.spec)
    assert isinstance(spec, TinySpec)
    # its family builds a config of it (head size and rotary pairs agree, and so on)
    ids = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    config = get_family(spec.family).tiny_config(spec, ids, 2000)
    assert config.text_config.hidden_size == spec.hidden_size
    assert variant.change  # the table says what the run changes


def test_the_words_before_a_far_question_are_counted_and_a_near_question_has_none():
    bench = load_bench("localisation")
    space = ImageSpace(min_pixels=28 * 28, max_pixels=224 * 224, factor=28)
    rng = random.Random(3)
    counts = [bench.words_before(vision_example(rng, "point_far", 4, space).prompt) for _ in range(200)]
    assert min(counts) >= FAR_WORDS[0] and max(counts) <= FAR_WORDS[1] and len(set(counts)) > 20
    assert bench.words_before("Read these words: Anna cube 17. Where is the red ring?") == 3
    assert bench.words_before(vision_example(rng, "point", 4, space).prompt) == 0


def test_the_position_table_gives_right_over_asked_and_a_dash_where_nothing_was_asked():
    bench = load_bench("localisation")
    found = [
        {
            "run": "grid",
            "caption_box_by_place": {"1": [113, 128], "2": [9, 94]},
            "pointing_by_words": {"0-0": [36, 64], "1-10": [0, 15], "11-30": [2, 43], "31-60": [0, 70]},
        },
        {
            "run": "grid_far",
            "caption_box_by_place": {"1": [100, 128]},
            "pointing_by_words": {"0-0": [1, 64], "1-10": [3, 15], "11-30": [4, 43], "31-60": [5, 70]},
        },
    ]
    lines = bench.position_table(found).splitlines()
    assert lines[0].count("caption box, object") == 2 and lines[0].count("words before") == 4
    assert lines[2] == "| grid | 113/128 | 9/94 | 36/64 | 0/15 | 2/43 | 0/70 |"
    assert lines[3] == "| grid_far | 100/128 | - | 1/64 | 3/15 | 4/43 | 5/70 |"


def test_a_finished_run_is_continued_with_the_spec_it_trained_and_its_last_weights(tmp_path):
    import json
    from dataclasses import asdict

    bench = load_bench("localisation")
    older = tmp_path / "grid_far_qwen3vl_sincos"  # written before runs kept spec.json
    (older / "grid_far_qwen3vl_sincos-b" / "final").mkdir(parents=True)
    (older / "grid_far_qwen3vl_sincos-a" / "final").mkdir(parents=True)
    (older / "result.json").write_text(json.dumps({"variant": "grid_far_qwen3vl_sincos"}))
    spec = bench.run_spec(older)
    assert spec.family == "qwen3_vl" and spec.sincos_vision_positions
    assert bench.last_checkpoint(older) == older / "grid_far_qwen3vl_sincos-b" / "final"
    newer = tmp_path / "grid-from-grid"
    newer.mkdir()
    (newer / "result.json").write_text(json.dumps({"variant": "grid"}))
    (newer / "spec.json").write_text(json.dumps(asdict(replace(BASE_SPEC, hidden_size=192))))
    assert bench.run_spec(newer).hidden_size == 192
    assert bench.run_label("grid", str(older)) == "grid-from-grid_far_qwen3vl_sincos"
    assert bench.run_label("grid", "mcr:tiny-base") == "grid-from-mcr-tiny-base"


def test_the_landing_table_counts_each_scene_over_its_questions():
    bench = load_bench("localisation")
    found = [
        {
            "run": "grid",
            "near_landing": {
                "1 objects": {"asked": 13},
                "4 objects": {"asked": 6, "other": 10},
                "absent": {"other": 50, "empty": 13},
            },
        },
        {"run": "old", "caption_box_by_place": {}, "pointing_by_words": {}},  # measured before landings
    ]
    lines = bench.landing_table(found).splitlines()
    assert lines[0] == "| run | scene | asked | other | empty | nowhere | unread |"
    assert lines[2] == "| grid | 1 objects | 13/13 | 0/13 | 0/13 | 0/13 | 0/13 |"
    assert lines[3] == "| grid | 4 objects | 6/16 | 10/16 | 0/16 | 0/16 | 0/16 |"
    assert lines[4] == "| grid | absent | 0/63 | 50/63 | 13/63 | 0/63 | 0/63 |"
    assert len(lines) == 5


def test_ranked_above_is_the_share_of_pairs_in_the_right_order():
    bench = load_bench("localisation")
    assert bench.ranked_above([2.0, 3.0], [0.0, 1.0]) == 1.0
    assert bench.ranked_above([0.0, 1.0], [2.0, 3.0]) == 0.0
    assert bench.ranked_above([1.0, 1.0], [1.0, 1.0]) == 0.5  # constant scores: no signal
    assert bench.ranked_above([1.0, 3.0], [2.0]) == 0.5
