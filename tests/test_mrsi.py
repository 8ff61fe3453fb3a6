"""MRSI injection: every style round-trips to the gold and scores perfectly; the split is deterministic."""

from __future__ import annotations

import re

import pytest

from mcr.benchmarks import get_task
from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.config import load_recipe
from mcr.contract.matching import decode_gold
from mcr.contract.parse import parse_completion
from mcr.contract.verdicts import find_mentions
from mcr.image_space import ImageSpace
from mcr.mrsi import inject, pick_styles, split_d1_d2
from mcr.prompts import available_styles, render_style
from mcr.rewards import REGISTRY

GMNER = get_task("gmner")

STYLES = available_styles("gmner")
REWARDS = ["format", "count", "span", "type", "entailment", "grounding", "consistency", "gmner_f1"]
PENALTIES = ["textual_shortcut", "visual_shortcut"]


@pytest.fixture(scope="module")
def records(synth_root):
    return load_twitter_gmner(synth_root, "train", images=synth_root / "images")


def injected(records, styles: dict[str, float], sft_fraction: float):
    """The records injected with these MRSI styles and D1 share (seed 0, the tiny model's pixels)."""
    return inject(
        records, GMNER, styles=styles, sft_fraction=sft_fraction, seed=0, space=ImageSpace(3136, 50176)
    )


@pytest.fixture(scope="module")
def per_style(records):
    """Every training record rendered in every style."""
    return {style: injected(records, styles={style: 1.0}, sft_fraction=1.0)["sft"] for style in STYLES}


def test_at_least_four_styles():
    assert {"checklist", "evidence_table", "verify", "narrative"} <= set(STYLES)


@pytest.mark.parametrize("style", STYLES)
def test_answer_parses_back_to_the_gold(per_style, style):
    for row in per_style[style]:
        completion = row["completion"][0]["content"]
        parsed = parse_completion(completion)
        assert parsed.well_formed, completion
        gold = decode_gold(row["gold"])
        assert [(p.entity, p.type) for p in parsed.entities] == [(g.entity, g.type) for g in gold]
        for p, g in zip(parsed.entities, gold, strict=True):
            assert (p.bbox is None) == (not g.boxes)
            assert p.bbox is None or list(p.bbox) == list(g.boxes[0])


@pytest.mark.parametrize("style", STYLES)
def test_rendered_completion_scores_one_and_no_penalty(per_style, style):
    rows = list(per_style[style])
    completions = [r["completion"][0]["content"] for r in rows]
    kwargs = {
        "gold": [r["gold"] for r in rows],
        "text": [r["text"] for r in rows],
        "task": [r["task"] for r in rows],
    }
    for name in REWARDS:
        assert REGISTRY[name](completions, **kwargs) == [1.0] * len(rows), name
    for name in PENALTIES:
        assert REGISTRY[name](completions, **kwargs) == [0.0] * len(rows), name


@pytest.mark.parametrize("style", STYLES)
def test_no_gold_leaks_for_unshown_entities(per_style, style):
    """The reasoning gives exactly one box per shown entity, its own, and none for the others."""
    boxes = re.compile(r"\[\d+, \d+, \d+, \d+\]")
    for row in per_style[style]:
        think = parse_completion(row["completion"][0]["content"]).think
        gold = decode_gold(row["gold"])
        found = boxes.findall(think)
        assert sorted(found) == sorted(str([int(v) for v in g.boxes[0]]) for g in gold if g.boxes)
        # and in the stretch of reasoning about an unshown entity (up to the next entity or line end)
        keys = sorted({g.key for g in gold}, key=len, reverse=True)
        unshown = {g.key for g in gold if not g.boxes}
        for line in think.splitlines():
            mentions = find_mentions(line.casefold(), keys)
            for k, (_, end, key) in enumerate(mentions):
                stop = mentions[k + 1][0] if k + 1 < len(mentions) else len(line)
                if key in unshown:
                    assert not boxes.search(line, end, stop), line


@pytest.mark.parametrize("style", STYLES)
def test_empty_posts_render(style):
    think = render_style("gmner", style, text="nothing here", entities=[])
    completion = f"<think>\n{think}\n</think>\n<answer>[]</answer>"
    assert REGISTRY["format"]([completion], gold=["[]"]) == [1.0]
    assert REGISTRY["consistency"]([completion], gold=["[]"]) == [1.0]


def test_style_mix_follows_weights_and_seed():
    picks = pick_styles(4000, {"checklist": 3.0, "narrative": 1.0}, seed=1)
    assert picks == pick_styles(4000, {"checklist": 3.0, "narrative": 1.0}, seed=1)
    assert picks != pick_styles(4000, {"checklist": 3.0, "narrative": 1.0}, seed=2)
    assert 0.72 < picks.count("checklist") / 4000 < 0.78
    with pytest.raises(ValueError, match="positive weight"):
        pick_styles(3, {"checklist": 0.0}, seed=0)


def test_split_is_deterministic_and_disjoint(records):
    d1, d2 = split_d1_d2(records, 0.7, seed=0)
    assert len(d1) == round(0.7 * len(records)) and len(d1) + len(d2) == len(records)
    assert not {r.id for r in d1} & {r.id for r in d2}
    assert [r.id for r in d1] == [r.id for r in split_d1_d2(records, 0.7, seed=0)[0]]
    assert [r.id for r in d1] != [r.id for r in split_d1_d2(records, 0.7, seed=1)[0]]


def test_inject_gives_sft_pairs_and_grpo_rows(records):
    data = injected(records, styles={s: 1.0 for s in STYLES}, sft_fraction=0.5)
    sft, grpo = data["sft"], data["grpo"]
    assert len(sft) + len(grpo) == len(records)
    assert set(sft["style"]) <= set(STYLES) and len(set(sft["style"])) > 1
    row = sft[0]
    assert row["prompt"][0]["role"] == "user" and row["completion"][0]["role"] == "assistant"
    assert row["image"].size[0] > 0
    assert {"prompt", "image", "gold", "text", "task", "input_size"} <= set(grpo.column_names)
    assert set(grpo["task"]) == set(sft["task"]) == {"gmner"}
    again = injected(records, styles={s: 1.0 for s in STYLES}, sft_fraction=0.5)
    assert again["sft"]["completion"] == sft["completion"]


def test_unknown_style_names_the_folder(records):
    with pytest.raises(
        ValueError, match=r"no reasoning style 'socratic' .*templates/mrsi/gmner/socratic\.jinja"
    ):
        injected(records, styles={"socratic": 1.0}, sft_fraction=0.5)


def test_a_new_style_is_a_template_file(records, tmp_path, monkeypatch):
    """Dropping a template in the styles folder and naming it in a recipe is all it takes."""
    import mcr.prompts as prompts

    folder = tmp_path / "mrsi" / "gmner"
    folder.mkdir(parents=True)
    for style in STYLES:
        (folder / f"{style}.jinja").write_text((prompts.styles_dir("gmner") / f"{style}.jinja").read_text())
    terse = (
        "{% for e in entities %}{{ e.text }} {{ e.type }} "
        "{{ 'shown' if e.shown else 'not shown' }}\n{% endfor %}"
    )
    (folder / "terse.jinja").write_text(terse)
    monkeypatch.setattr(prompts, "styles_dir", lambda task: tmp_path / "mrsi" / task)
    prompts._styles.cache_clear()
    try:
        data = injected(records, styles={"terse": 1.0}, sft_fraction=1.0)
        completions = [r["completion"][0]["content"] for r in data["sft"]]
        assert REGISTRY["consistency"](completions, gold=data["sft"]["gold"]) == [1.0] * len(completions)
    finally:
        prompts._styles.cache_clear()


def test_recipe_styles_and_sft_section_are_checked():
    recipe = load_recipe(["recipe=tiny"])
    assert set(recipe.mrsi.styles) <= set(STYLES) and recipe.sft["num_train_epochs"] >= 1
    from mcr.config import RecipeError

    with pytest.raises(
        RecipeError, match=r"unknown key 'sft.num_train_epoch'.*did you mean 'num_train_epochs'"
    ):
        load_recipe(["sft.num_train_epoch=2"])
    # the recipe's own mix, as tiny.yaml writes it: the recall, the other styles kept at 0 for the ablation
    assert recipe.mrsi.styles == {
        "recall": 1.0,
        "checklist": 0.0,
        "evidence_table": 0.0,
        "verify": 0.0,
        "narrative": 0.0,
    }
