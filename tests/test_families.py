"""Model families: one declaration each, and boxes that follow the family's convention from the
gold column through the prompt, the completion, the rewards and the evaluation's rescaling."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import pytest
import torch

from mcr.benchmarks import get_task
from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.config import RecipeError, load_recipe
from mcr.families import (
    FAMILIES,
    NORM_1000,
    PIXELS,
    family_names,
    family_of_model_type,
    get_family,
    register_family,
)
from mcr.image_space import ImageSpace
from mcr.rewards import REGISTRY
from mcr.tiny_model import TinySpec, build_tiny_model

from helpers.gmner_fixtures import OFFICIAL_TRAIN, OFFICIAL_XMLS, write_release
from helpers.runs import tiny_run_args

CONVENTIONS = {"qwen2_vl": NORM_1000, "qwen2_5_vl": PIXELS, "qwen3_vl": NORM_1000, "qwen3_5": NORM_1000}
FACTORS = {"qwen2_vl": 28, "qwen2_5_vl": 28, "qwen3_vl": 32, "qwen3_5": 32}


def test_each_family_is_declared_once_with_its_convention():
    assert set(FAMILIES) == set(CONVENTIONS)
    for name, family in FAMILIES.items():
        assert (family.box_convention, family.resize_factor) == (CONVENTIONS[name], FACTORS[name])
        assert family_of_model_type(name) is family
    assert get_family("mimo_vl") is FAMILIES["qwen2_5_vl"]
    with pytest.raises(ValueError, match=r"unknown model family 'llava'"):
        get_family("llava")
    with pytest.raises(ValueError, match=r"model_type 'llava' is not a family MCR knows"):
        family_of_model_type("llava")


def space_of(family: str) -> ImageSpace:
    f = get_family(family)
    return ImageSpace(3136, 50176, f.resize_factor, f.box_convention)


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    root = write_release(
        tmp_path_factory.mktemp("rel"),
        {"train": OFFICIAL_TRAIN},
        OFFICIAL_XMLS,
        {"797970": (500, 375), "O_2371": (640, 480), "16_05_01_127": (300, 300)},
    )
    return load_twitter_gmner(root, "train", images=root / "images")


@pytest.mark.parametrize("family", sorted(CONVENTIONS))
def test_boxes_round_trip_in_the_familys_convention(records, family):
    """A perfect completion in the family's convention scores 1 on grounding and 100 GMNER F1 after
    rescaling; the same numbers read in the other convention do not."""
    gmner = get_task("gmner")
    space = space_of(family)
    other = ImageSpace(3136, 50176, space.factor, PIXELS if space.box_convention == NORM_1000 else NORM_1000)
    rows = gmner.rows(records, space)
    completions = [gmner.sft_example(r, "checklist", space)["completion"][0]["content"] for r in records]
    record = records[0]  # 500x375, shown entities
    gold = json.loads(rows[0]["gold"])
    boxes = [b for item in gold for b in item["bbox"]]
    assert boxes and rows[0]["box_frame"] == (
        [1000, 1000] if space.box_convention == NORM_1000 else rows[0]["input_size"]
    )
    if space.box_convention == NORM_1000:  # 0-1000 of the original width and height
        x1, y1, x2, y2 = record.entities[0].boxes[0]
        assert gold[0]["bbox"][0] == [
            round(x1 / 500 * 1000),
            round(y1 / 375 * 1000),
            round(x2 / 500 * 1000),
            round(y2 / 375 * 1000),
        ]
        assert "from 0 to 1000" in rows[0]["prompt"][0]["content"][-1]["text"]
    else:
        assert "in the image's pixels" in rows[0]["prompt"][0]["content"][-1]["text"]
    columns = {"gold": [r["gold"] for r in rows], "task": [r["task"] for r in rows]}
    assert REGISTRY["grounding"](completions, **columns) == [1.0] * len(rows)
    assert gmner.score(records, rows, completions)["gmner"]["f1"] == 100.0
    # the same completions against rows in the other convention
    other_rows = gmner.rows(records, other)
    wrong_columns = {"gold": [r["gold"] for r in other_rows], "task": [r["task"] for r in other_rows]}
    assert REGISTRY["grounding"](completions[:1], gold=wrong_columns["gold"][:1])[0] < 1.0
    assert gmner.score(records, other_rows, completions)["gmner"]["f1"] < 100.0


def test_the_recipe_names_the_family_or_reads_it(tmp_path):
    assert load_recipe(["recipe=tiny"]).family.name == "qwen2_5_vl"  # the tiny build's
    recipe = load_recipe(["recipe=tiny", "model.family=qwen3_vl"])
    assert recipe.image_space == ImageSpace(3136, 50176, 32, NORM_1000)
    assert (
        load_recipe(
            ["recipe=tiny", "model.family=qwen3_vl", "model.box_convention=pixels"]
        ).image_space.box_convention
        == PIXELS
    )
    model = build_tiny_model(tmp_path / "q3", spec=TinySpec(family="qwen3_vl", tokenizer_corpus_size=50))
    read = load_recipe(["recipe=tiny", f"model.name_or_path={model}", "model.build_tiny=false"])
    assert read.family.name == "qwen3_vl" and read.image_space.factor == 32
    with pytest.raises(RecipeError, match=r"model.family: unknown model family 'qwen9'"):
        load_recipe(["recipe=tiny", "model.family=qwen9"])
    with pytest.raises(RecipeError, match=r"model.box_convention must be one of \['pixels', 'norm1000'\]"):
        load_recipe(["recipe=tiny", "model.box_convention=normalized"])


@pytest.mark.parametrize("family", sorted(CONVENTIONS))
def test_lora_targets_follow_the_family(family):
    from mcr.models import lora_config
    from mcr.tiny_model import build_config, build_tokenizer

    spec = TinySpec(family=family, tokenizer_corpus_size=50)
    import transformers

    with torch.device("meta"):
        model = getattr(transformers, get_family(family).model_class)(
            build_config(build_tokenizer(spec, 0), spec)
        )
    names = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    for vision in (False, True):
        recipe = load_recipe(["recipe=tiny", f"model.family={family}", f"lora.vision={str(vision).lower()}"])
        pattern = re.compile(lora_config(recipe).target_modules)
        hit = [n for n in names if pattern.fullmatch(n)]
        assert any("language_model" in n for n in hit) and all("lm_head" not in n for n in hit)
        assert any("visual" in n for n in hit) == vision, family
        if family == "qwen3_5":  # its linear-attention layers are adapted too
            assert any("linear_attn.in_proj_qkv" in n for n in hit)


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(CONVENTIONS))
def test_two_grpo_steps_and_an_evaluation_per_family(tmp_path, family):
    import train_grpo
    from mcr.eval.evaluate import main as evaluate

    model = build_tiny_model(tmp_path / "model", spec=TinySpec(family=family, tokenizer_corpus_size=200))
    args = [
        *tiny_run_args(tmp_path, model, posts=20),
        f"grpo.output_dir={tmp_path / 'grpo'}",
        "grpo.max_steps=2",
        "grpo.per_device_train_batch_size=4",
        "grpo.num_generations=2",
        "grpo.max_completion_length=16",
        "grpo.report_to=none",
        "grpo.save_strategy=no",
    ]
    recipe = load_recipe(args)
    assert recipe.family.name == family
    metrics = train_grpo.main(recipe)
    assert [h["step"] for h in metrics["log_history"] if "reward" in h] == [1, 2]
    assert (tmp_path / "grpo" / "adapter_model.safetensors").is_file()
    evaluation = load_recipe(
        [
            *args,
            f"checkpoints=[base,{tmp_path / 'grpo'}]",
            "eval.max_samples=2",
            "eval.max_new_tokens=8",
            f"eval.output_dir={tmp_path / 'eval'}",
        ]
    )
    results = evaluate(evaluation)["gmner"]
    assert set(results) == {"untrained", "grpo"} and all(
        0 <= m["gmner"]["f1"] <= 100 for m in results.values()
    )
    (line, *_) = (tmp_path / "eval" / "gmner" / "grpo" / "predictions.jsonl").read_text().splitlines()
    assert json.loads(line)["box_frame"] == (
        [1000, 1000] if CONVENTIONS[family] == NORM_1000 else json.loads(line)["input_size"]
    )


# ---------------------------------------------------------------------------------------------
# Families as data plus hooks
# ---------------------------------------------------------------------------------------------
TINY_CONFIGS = json.loads((Path(__file__).parent / "data" / "tiny_configs.json").read_text())["cases"]


def _without_version(value):
    """A config's dict as JSON reads it back, without the transformers version."""
    if isinstance(value, dict):
        return {str(k): _without_version(v) for k, v in value.items() if k != "transformers_version"}
    if isinstance(value, list):
        return [_without_version(v) for v in value]
    return value


def test_each_family_names_classes_transformers_has():
    import transformers

    for family in FAMILIES.values():
        for attribute in (
            "model_class",
            "config_class",
            "processor_class",
            "tokenizer_class",
            "image_processor_class",
            "video_processor_class",
        ):
            assert hasattr(transformers, getattr(family, attribute)), (family.name, attribute)
        model, config = family.model_class, family.config_class
        assert model.removesuffix("ForConditionalGeneration") == config.removesuffix("Config")


@pytest.mark.parametrize("case", sorted(TINY_CONFIGS))
def test_tiny_configs_are_the_ones_the_families_always_built(case):
    """Each family's ``tiny_config`` hook builds, field for field, the config recorded in
    tests/data/tiny_configs.json from the code before families became hooks."""
    from mcr.tiny_model import SPECIAL_TOKENS

    recorded = TINY_CONFIGS[case]
    fields = recorded["spec"]
    if fields["rotary_frequencies"] is not None:
        fields = {**fields, "rotary_frequencies": tuple(fields["rotary_frequencies"])}
    spec = TinySpec(**fields)
    n = recorded["tokenizer_length"]
    ids = {t: n - len(SPECIAL_TOKENS) + i for i, t in enumerate(SPECIAL_TOKENS)}
    built = get_family(spec.family).tiny_config(spec, ids, n)
    assert _without_version(built.to_dict()) == recorded["config"]


def test_the_shipped_base_loads_and_its_config_is_what_its_spec_builds():
    from transformers import AutoConfig, AutoModelForImageTextToText, AutoTokenizer

    from mcr.shipped import shipped_model
    from mcr.tiny_model import build_config

    base = shipped_model("tiny-base")
    fields = json.loads((base / "model_card.json").read_text())["spec"]
    spec = TinySpec(**{**fields, "rotary_frequencies": tuple(fields["rotary_frequencies"])})
    built = _without_version(build_config(AutoTokenizer.from_pretrained(base), spec).to_dict())
    shipped = _without_version(AutoConfig.from_pretrained(base).to_dict())
    for config in (built, shipped):  # what saving and loading fill in
        for part in (config, config["text_config"], config["vision_config"]):
            for key in ("_name_or_path", "architectures", "dtype"):
                part.pop(key)
    assert built == shipped
    assert AutoModelForImageTextToText.from_pretrained(base).config.model_type == "qwen2_5_vl"


SIZES = [(50, 60), (320, 240), (192, 256), (1000, 300), (640, 480), (1280, 960), (4000, 3000), (224, 1000)]
BOUNDS = [(3136, 50176), (56 * 56, 224 * 224), (3136, 401_408), (256 * 256, 1024 * 1024)]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_each_familys_resize_is_smart_resize_at_its_factor(family):
    from qwen_vl_utils import smart_resize

    f = get_family(family)
    for width, height in SIZES:
        for low, high in BOUNDS:
            expected = smart_resize(height, width, f.resize_factor, min_pixels=low, max_pixels=high)
            assert f.resize(height, width, low, high) == expected, (family, width, height, low, high)
            space = ImageSpace.of(f, low, high)
            assert space.input_size(width, height) == expected[::-1]
            assert all(side % f.resize_factor == 0 for side in expected)


def test_the_image_space_resizes_through_the_familys_hook():
    f = get_family("qwen3_vl")
    assert ImageSpace.of(f, 3136, 50176) == ImageSpace(3136, 50176, 32, NORM_1000)  # the same hook
    assert ImageSpace.of(f, 3136, 50176, PIXELS).box_convention == PIXELS  # model.box_convention

    def squares(height, width, min_pixels, max_pixels):  # a family of its own resizing
        return 64, 64

    own = dataclasses.replace(f, name="squares", resize=squares)
    space = ImageSpace.of(own, 3136, 50176)
    assert space.input_size(640, 480) == (64, 64) and space.visual_tokens((64, 64)) == 4
    assert space.max_visual_tokens == 50176 // 32**2
    assert dataclasses.replace(f, resize=None).resize == f.resize  # left out: smart_resize at its factor


def test_an_unknown_family_is_refused_naming_the_known_ones(tmp_path, capsys):
    from mcr.cli import main as mcr_main

    known = [*sorted(FAMILIES), "mimo_vl"]
    listed = re.escape(str(known))
    with pytest.raises(ValueError, match=rf"unknown model family 'llava'; known: {listed}"):
        get_family("llava")
    # the tiny build, from a spec
    with pytest.raises(ValueError, match=rf"unknown model family 'llava'; known: {listed}"):
        TinySpec(family="llava")
    spec = TinySpec()
    spec.family = "llava"  # changed after its checks
    with pytest.raises(ValueError, match=rf"unknown model family 'llava'; known: {listed}"):
        build_tiny_model(tmp_path / "m", spec=spec)
    assert not (tmp_path / "m").exists()
    # the command
    with pytest.raises(SystemExit):
        mcr_main(["build-tiny", "--out", str(tmp_path / "m"), "--family", "llava"])
    message = capsys.readouterr().err
    assert "invalid choice: 'llava'" in message and all(name in message for name in known)
    # a recipe
    with pytest.raises(RecipeError, match=rf"model.family: unknown model family 'qwen9'; known: {listed}"):
        load_recipe(["recipe=tiny", "model.family=qwen9"])


# A family is named in mcr.families only; elsewhere code asks the family (its fields and hooks).
NAME_BRANCHES = re.compile(
    r"family\.name\s*(==|!=|\bin\b|\bnot in\b)"  # family.name == "qwen3_5", family.name in (...)
    r"|\.name\s*(==|!=)\s*[\"'](qwen|mimo)"  # f.name == "qwen2_vl"
    r"|[\"'](qwen|mimo)\w*[\"']\s*(==|!=|\bin\b)\s*\w*\.?name"  # "qwen3_vl" == family.name
    r"|resize_factor\s*(==|!=)"  # a factor standing in for a family
)


def test_nothing_outside_the_families_module_branches_on_a_familys_name():
    from helpers.runs import REPO

    files = [
        *(REPO / "mcr").rglob("*.py"),
        *(REPO / "eval").rglob("*.py"),
        *(REPO / "rewards").rglob("*.py"),
        *REPO.glob("train_*.py"),
    ]
    assert len(files) > 20
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in files
        if path != REPO / "mcr" / "families.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if NAME_BRANCHES.search(line)
    ]
    assert not found, "ask the family (mcr.families) instead:\n" + "\n".join(found)
    # the pattern sees what it is for
    for planted in (
        'if family.name == "qwen3_5":',
        "qwen3 = family.name in ('qwen3_vl', 'qwen3_5')",
        'elif f.name == "qwen2_vl":',
        "x = 1 if family.resize_factor == 28 else 2",
    ):
        assert NAME_BRANCHES.search(planted), planted
    assert not NAME_BRANCHES.search("family = recipe.family.name")


# ---------------------------------------------------------------------------------------------
# A family of your own
# ---------------------------------------------------------------------------------------------
# A family as a user declares it in their own project: a Qwen2.5-VL variant on the same classes
# and tiny config whose resize hook floors each side to the factor (smart_resize rounds it).
OWN_FAMILY = '''
"""my_qwen: Qwen2.5-VL's classes, image sides floored to multiples of 28."""

import dataclasses
import math

from mcr.families import get_family, register_family

FACTOR = 28


def floor_resize(height, width, min_pixels, max_pixels):
    """Within max_pixels, each side floored to the factor (at least one factor)."""
    scale = min(1.0, math.sqrt(max_pixels / (height * width)))
    return (
        max(FACTOR, math.floor(height * scale / FACTOR) * FACTOR),
        max(FACTOR, math.floor(width * scale / FACTOR) * FACTOR),
    )


MY_QWEN = register_family(dataclasses.replace(get_family("qwen2_5_vl"), name="my_qwen", resize=floor_resize))
'''


@pytest.fixture
def own_family(tmp_path):
    """``<tmp>/project/my_family.py``, outside the repository; the families it registers (and the
    modules a test imports) leave with the test."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "my_family.py").write_text(OWN_FAMILY)
    names, modules = dict(FAMILIES), set(sys.modules)
    yield project / "my_family.py"
    FAMILIES.clear()
    FAMILIES.update(names)
    for module in set(sys.modules) - modules:
        if module.startswith("mcr_user_file_"):
            del sys.modules[module]


def test_register_family_takes_a_new_name_once(own_family):
    mine = dataclasses.replace(get_family("qwen2_5_vl"), name="mine_vl", box_convention=NORM_1000)
    assert register_family(mine) is mine and get_family("mine_vl") is mine and "mine_vl" in family_names()
    assert register_family(mine) is mine  # the same object again: nothing changes
    for taken in ("mine_vl", "qwen2_vl"):
        with pytest.raises(ValueError, match=rf"'{taken}' is already registered \(another family's name\)"):
            register_family(dataclasses.replace(mine, name=taken))
    with pytest.raises(ValueError, match=r"'mimo_vl' is already registered \(an alias of 'qwen2_5_vl'\)"):
        register_family(dataclasses.replace(mine, name="mimo_vl"))
    with pytest.raises(ValueError, match=r"box_convention must be one of \['pixels', 'norm1000'\]"):
        register_family(dataclasses.replace(mine, name="other_vl", box_convention="corners"))
    with pytest.raises(ValueError, match=r"lower case letters, digits and underscores, not 'My-VL'"):
        register_family(dataclasses.replace(mine, name="My-VL"))
    with pytest.raises(TypeError, match=r"takes a mcr.families.Family, not dict"):
        register_family({"name": "x"})
    assert get_family("mine_vl") is mine and get_family("qwen2_vl").box_convention == NORM_1000


def test_a_recipe_imports_its_family_modules_before_the_family(own_family, monkeypatch):
    monkeypatch.chdir(own_family.parent)  # a relative path is read from the current directory
    with pytest.raises(RecipeError, match=r"unknown model family 'my_qwen'.*name its module in families"):
        load_recipe(["recipe=tiny", "model.family=my_qwen"])
    recipe = load_recipe(["recipe=tiny", "families.modules=[./my_family.py]", "model.family=my_qwen"])
    assert recipe.family is FAMILIES["my_qwen"] and recipe.family.box_convention == PIXELS
    # the family's hook resizes: 256x192 floors to 252x168 where smart_resize rounds to 252x196
    assert recipe.image_space.input_size(256, 192) == (252, 168)
    assert get_family("qwen2_5_vl").resize(192, 256, 3136, 50176) == (196, 252)
    # the same file by its absolute path: one module, one family
    again = load_recipe(["recipe=tiny", f"families.modules=[{own_family}]", "model.family=my_qwen"])
    assert again.family is recipe.family
    with pytest.raises(RecipeError, match=r"families.modules: './nowhere.py': no file"):
        load_recipe(["recipe=tiny", "families.modules=[./nowhere.py]"])
    with pytest.raises(
        RecipeError, match=r"families is a section with keys \['modules'\], not a value \(the "
    ):
        load_recipe(["recipe=tiny", "families=my_qwen"])


def test_build_tiny_imports_its_family_modules_before_it_parses(own_family, monkeypatch, capsys):
    from mcr.cli import family_modules
    from mcr.cli import main as mcr

    argv = ["build-tiny", "--family-module", "./a.py", "--out", "m", "--family-module=my_pkg.fam"]
    assert family_modules(argv) == ["./a.py", "my_pkg.fam"]
    assert family_modules(["--benchmark-module", "b", "build-tiny", "--family-module", "f"]) == ["f"]
    assert family_modules(["score", "gmner", "--family-module", "./a.py"]) == []
    monkeypatch.chdir(own_family.parent)
    with pytest.raises(SystemExit, match=r"error: --family-module: './nowhere.py': no file"):
        mcr(["build-tiny", "--family-module", "./nowhere.py", "--family", "my_qwen", "--out", "m"])
    assert "my_qwen" not in FAMILIES
    # the family is a choice once its module is imported: only the seed's missing value is wrong
    with pytest.raises(SystemExit):
        mcr(
            ["build-tiny", "--family-module", "./my_family.py", "--family", "my_qwen", "--out", "m", "--seed"]
        )
    error = capsys.readouterr().err
    assert "argument --seed: expected one argument" in error and "invalid choice" not in error
    assert "my_qwen" in FAMILIES and not (own_family.parent / "m").exists()


MY_RECIPE = """\
base: tiny
families:
  modules: [./my_family.py]
model:
  name_or_path: ./model
  family: my_qwen
"""


@pytest.mark.slow
def test_a_family_from_outside_the_repository_builds_trains_and_evaluates(own_family, monkeypatch, capsys):
    """`mcr build-tiny --family-module ./my_family.py --family my_qwen`, then a recipe of the user's
    naming the module and the family: two SFT steps and an evaluation, the images sized by the
    family's hook."""
    import datasets

    from mcr.cli import main as mcr
    from mcr.eval.evaluate import main as evaluate
    from mcr.train_sft import main as train_sft

    project = own_family.parent
    monkeypatch.chdir(project)
    mcr(["build-tiny", "--family-module", "./my_family.py", "--family", "my_qwen", "--out", "model"])
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{") :])["family"] == "my_qwen"  # the JSON result, after any log lines
    (project / "my_recipe.yaml").write_text(MY_RECIPE)
    recipe = load_recipe(
        [
            "recipe=my_recipe.yaml",
            "data.root=data",
            "data.images=data/images",
            "data.synth.n=20",
            "data.synth.splits=[0.8,0.1,0.1]",
            "data.synth.layout=free",  # four image sizes: the grid's one size resizes alike in both
            "mrsi.output_dir=mrsi",
            "sft.output_dir=sft",
            "sft.max_steps=2",
            "sft.logging_steps=1",
            "sft.per_device_train_batch_size=4",
            "sft.report_to=none",
            "sft.save_strategy=no",
            "eval.output_dir=eval",
            "eval.max_samples=2",
            "eval.max_new_tokens=8",
            "eval.report_to=[]",
            "eval.probes=[]",
            "checkpoints=[base,sft]",
        ]
    )
    assert recipe.family is FAMILIES["my_qwen"]
    metrics = train_sft(recipe)
    assert [h for h in metrics["log_history"] if "loss" in h] and (
        project / "sft" / "adapter_model.safetensors"
    ).is_file()
    assert set(evaluate(recipe)["gmner"]) == {"untrained", "sft"}

    # every image's size as the model sees it came from the family's hook, not smart_resize
    grpo_rows = datasets.load_from_disk(str(project / "mrsi" / "data"))["grpo"]
    predictions = (project / "eval" / "gmner" / "sft" / "predictions.jsonl").read_text().splitlines()
    sizes = [
        (tuple(row["image_size"]), tuple(row["input_size"]))
        for row in [*grpo_rows.select_columns(["image_size", "input_size"]), *map(json.loads, predictions)]
    ]
    hook, smart = FAMILIES["my_qwen"].resize, get_family("qwen2_5_vl").resize
    assert len(sizes) > 2 and all(seen == hook(h, w, 3136, 50176)[::-1] for (w, h), seen in sizes), sizes
    assert any(seen != smart(h, w, 3136, 50176)[::-1] for (w, h), seen in sizes), sizes
