"""Benchmarks found, not listed: the homes under ``mcr/benchmarks/`` register themselves, a
benchmark of a user's own project is named in a recipe (``benchmarks.modules``) or on the ``mcr``
command line (``--benchmark-module``) and then scores, counts and evaluates like the built-in
ones, and a capability a benchmark does not declare takes its default."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest
from PIL import Image, ImageDraw

import mcr.benchmarks as benchmarks
from mcr.benchmarks import BENCHMARKS, Benchmark, TrainingTask, get_benchmark, load_benchmark_modules
from mcr.cli import main as mcr
from mcr.config import RecipeError, load_recipe
from mcr.image_space import ImageSpace
from mcr.user_modules import UserModuleError

from helpers.runs import REPO

# A benchmark as a user writes it in their own project: a package with its loader, its scorer
# (an official-style rule in its own module) and its commands' arguments. ``{name}`` keeps tests apart.
BENCHMARK_INIT = '''
"""Count the circles: how many circles does the picture show?"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from mcr.benchmarks import Benchmark
from mcr.benchmarks.reliance_inputs import blank_images
from mcr.data.errors import DataFormatError
from mcr.data.jsonl import read_jsonl
from mcr.data.predictions import raw_outputs
from mcr.prompts import image_prompt

from .scorer import score_counts

INSTRUCTION = (
    "How many circles does the picture show? Reason inside <think> </think>, then answer inside "
    '<answer> </answer> as {{"answer": number}}.'
)


@dataclass(frozen=True)
class Picture:
    id: str
    image: str
    count: int


def load_pictures(path: str | Path, images: str | Path | None = None) -> list[Picture]:
    """``<split>.jsonl``: one ``{{"id", "image", "count"}}`` per line, images beside it."""
    folder = Path(images) if images is not None else Path(path).parent
    return [Picture(str(item["id"]), str(folder / item["image"]), int(item["count"]))
            for _, item in read_jsonl(path, "circle pictures")]


class CircleCount(Benchmark):
    name = "{name}"
    probes = ("blank_image",)

    def load(self, root, split, images=None):
        pictures = load_pictures(Path(root) / f"{{split}}.jsonl", images)
        for p in pictures:
            if not Path(p.image).is_file():
                raise DataFormatError(f"image not found: {{p.image}}", file=root, record=p.id)
        return pictures

    def rows(self, examples, space):
        rows = []
        for p in examples:
            size, input_size = space.sizes(p.image)
            rows.append({{
                "id": p.id, "task": self.name, "prompt": image_prompt(INSTRUCTION), "image": p.image,
                "gold": json.dumps({{"answer": p.count}}), "text": INSTRUCTION,
                "image_size": size, "input_size": input_size,
            }})
        return rows

    def score(self, examples, rows, completions):
        return score_counts(examples, {{r["id"]: c for r, c in zip(rows, completions, strict=True)}})

    def headline(self, metrics):
        return {{"accuracy": metrics["accuracy"]}}

    def probe_rows(self, examples, rows, probe, space):
        return blank_images(rows)

    def score_arguments(self, parser):
        parser.description = "Count the circles: exact-match accuracy"
        parser.add_argument("--gold", required=True, help="<split>.jsonl")
        parser.add_argument("--pred", required=True, help="JSONL: {{id, prediction}}")

    def score_files(self, args):
        pictures = load_pictures(args.gold)
        return score_counts(pictures, raw_outputs(args.pred, {{p.id for p in pictures}}, args.gold))

    def stats_arguments(self, parser):
        parser.description = "Count the circles: pictures and circles per picture"
        parser.add_argument("--file", required=True, help="<split>.jsonl")

    def stats(self, args):
        pictures = load_pictures(args.file)
        counts = Counter(str(p.count) for p in pictures)
        return {{"pictures": len(pictures), "circles": sum(p.count for p in pictures),
                 "by_count": dict(sorted(counts.items()))}}


BENCHMARK = CircleCount()
'''

BENCHMARK_SCORER = '''
"""The official rule: the last whole number of the answer, else of the whole response, must
equal the gold count. Accuracy in percent with one decimal."""

import re

from mcr.benchmarks.metrics import accuracy
from mcr.contract.parse import parse_completion


def read_count(output: str):
    answer = parse_completion(output).answer
    text = str(answer.get("answer")) if isinstance(answer, dict) else output
    numbers = re.findall(r"\\d+", text)
    return int(numbers[-1]) if numbers else None


def score_counts(pictures, outputs):
    correct = [read_count(outputs.get(p.id, "")) == p.count for p in pictures]
    return {"accuracy": accuracy(correct, digits=1), "counts": {"pictures": len(correct)}}
'''


@pytest.fixture(autouse=True)
def _forget_test_benchmarks():
    """The benchmarks a test registers, and the modules it imports, leave with it."""
    names, modules = set(BENCHMARKS), set(sys.modules)
    yield
    for name in set(BENCHMARKS) - names:
        del BENCHMARKS[name]
        del benchmarks._ORIGINS[name]
    for module in set(sys.modules) - modules:
        if module.startswith(("circles_", "mcr.benchmarks.circles_", "mcr_user_file_")):
            del sys.modules[module]


def write_benchmark(project, name: str):
    """The user's package ``<project>/<name>/``, a benchmark named ``name``."""
    package = project / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(BENCHMARK_INIT).format(name=name))
    (package / "scorer.py").write_text(textwrap.dedent(BENCHMARK_SCORER))
    return package


def write_pictures(root, counts, split="test"):
    """``<root>/<split>.jsonl`` and one picture per count, that many black circles on white."""
    (root / "pictures").mkdir(parents=True)
    lines = []
    for i, count in enumerate(counts):
        image = Image.new("RGB", (112, 112), "white")
        draw = ImageDraw.Draw(image)
        for k in range(count):
            draw.ellipse((8 + 34 * k, 40, 36 + 34 * k, 68), fill="black")
        image.save(root / "pictures" / f"{i}.png")
        lines.append(json.dumps({"id": f"p{i}", "image": f"pictures/{i}.png", "count": count}))
    (root / f"{split}.jsonl").write_text("\n".join(lines) + "\n")
    return root / f"{split}.jsonl"


def wrap(answer: str) -> str:
    return f"<think>\ncounted them\n</think>\n<answer>{answer}</answer>"


def test_every_home_under_mcr_benchmarks_is_found_without_a_list(tmp_path, monkeypatch):
    homes = {p.parent.name for p in (REPO / "mcr" / "benchmarks").glob("*/__init__.py")}
    assert set(BENCHMARKS) == homes == {"gmner", "mate", "mmra", "grec", "mner_mi"}
    assert {n for n, b in BENCHMARKS.items() if b.trains} == {"gmner", "mate"}
    # a new home on the package's path registers with no other edit
    write_benchmark(tmp_path, "circles_home")
    monkeypatch.setattr(benchmarks, "__path__", [*benchmarks.__path__, str(tmp_path)])
    benchmarks._register_homes()
    assert type(get_benchmark("circles_home")).__module__ == "mcr.benchmarks.circles_home"


class Minimal(Benchmark):
    """A benchmark that writes only what every benchmark must."""

    name = "circles_minimal"

    def load(self, root, split, images=None):
        return []

    def rows(self, examples, space):
        return []

    def score(self, examples, rows, completions):
        return {"accuracy": 50.0}

    def headline(self, metrics):
        return {"accuracy": metrics["accuracy"]}

    def score_arguments(self, parser):
        pass

    def score_files(self, args):
        return {}

    def stats_arguments(self, parser):
        pass

    def stats(self, args):
        return {}


class MinimalTask(Minimal, TrainingTask):
    name = "circles_minimal_task"

    def sft_example(self, example, style, space):
        return {}


def test_a_capability_not_declared_takes_its_default():
    from mcr.eval.reliance import compare, run_probes

    bench = Minimal()
    assert (bench.cli_name, bench.default_split, bench.trains, bench.probes) == (
        "circles-minimal",
        "test",
        False,
        (),
    )
    assert bench.answered is None and bench.box_overlay({"id": "x"}, wrap("[]")) is None
    assert bench.format_score(wrap('{"answer": 3}')) == 1.0 and bench.format_score("3") == 0.0
    with pytest.raises(ValueError, match=r"benchmark 'circles_minimal' has no probe 'blank_image'"):
        bench.probe_rows([], [], "blank_image", ImageSpace(3136, 50176))
    # no probes declared: none is run; no entity answers: a probe reports the headline's drop
    never = pytest.fail
    assert run_probes(bench, ["blank_image"], [], [], [], {}, never, ImageSpace(3136, 50176), None) == {}
    figures = compare(bench, "blank_image", {"accuracy": 75.0}, {"accuracy": 50.0}, [], [], [], [])
    assert figures == {"accuracy": 50.0, "accuracy_drop": 25.0}
    task = MinimalTask()
    assert task.trains and not task.synthesizes
    with pytest.raises(NotImplementedError, match=r"task 'circles_minimal_task' synthesizes no data"):
        task.synthesize("/nowhere", 1, 0)

    class Incomplete(Benchmark):
        name = "circles_incomplete"

    with pytest.raises(TypeError, match=r"abstract method"):
        Incomplete()

    class Claims(Minimal):
        name = "circles_claims"
        trains = True

    with pytest.raises(TypeError, match=r"trains when it subclasses TrainingTask"):
        benchmarks.register_benchmark(Claims(), "claims.py")


def test_a_bad_benchmark_module_is_a_clear_error_that_names_it(tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit, match=r"--benchmark-module: 'no_such_pkg_mcr\.bench': no module of"):
        mcr(["--benchmark-module", "no_such_pkg_mcr.bench", "score", "circles", "--gold", "g", "--pred", "p"])
    with pytest.raises(RecipeError, match=r"benchmarks\.modules: 'no_such_pkg_mcr\.bench': no module"):
        load_recipe(["recipe=tiny", "benchmarks.modules=[no_such_pkg_mcr.bench]"])
    project = tmp_path / "project"
    project.mkdir()
    (project / "circles_nothing.py").write_text("X = 1\n")
    (project / "circles_wrong.py").write_text("BENCHMARK = object()\n")
    (project / "circles_clash.py").write_text(
        "from mcr.benchmarks.mmra import MmraBenchmark\n\nBENCHMARK = MmraBenchmark()\n"
    )
    monkeypatch.syspath_prepend(str(project))
    with pytest.raises(UserModuleError, match=r"--benchmark-module: 'circles_nothing': defines no BENCHMARK"):
        load_benchmark_modules(["circles_nothing"], "--benchmark-module")
    with pytest.raises(SystemExit, match=r"'circles_wrong': BENCHMARK must be an instance of a mcr"):
        mcr(["--benchmark-module=circles_wrong", "data", "stats", "mmra", "--file", "x"])
    with pytest.raises(
        UserModuleError, match=r"benchmark 'mmra' is already registered by mcr.benchmarks.mmra"
    ):
        load_benchmark_modules([str(project / "circles_clash.py")])
    # a benchmark the command does not know yet: the parser names the benchmarks it has
    with pytest.raises(SystemExit):
        mcr(["score", "circles_unknown", "--gold", "g", "--pred", "p"])
    assert "invalid choice: 'circles_unknown'" in capsys.readouterr().err


def test_a_benchmark_from_outside_the_repository_is_scored_and_evaluated(
    tmp_path, tiny_model_dir, capsys, monkeypatch
):
    """A user's package in a folder of their own: `mcr data stats` and `mcr score` by
    --benchmark-module, then the tiny model evaluated on it through eval/evaluate.py by
    benchmarks.modules, its reliance probe included."""
    from mcr.eval.evaluate import main as evaluate

    project = tmp_path / "project"
    write_benchmark(project, "circles_count")
    gold = write_pictures(tmp_path / "circles", [1, 2, 3, 2])
    monkeypatch.syspath_prepend(str(project))  # as PYTHONPATH would put the user's project there
    assert "circles_count" not in BENCHMARKS
    mine = ["--benchmark-module", "circles_count"]  # imported before the command is parsed
    mcr([*mine, "data", "stats", "circles-count", "--file", str(gold)])
    stats = json.loads(capsys.readouterr().out)
    assert stats == {"pictures": 4, "circles": 8, "by_count": {"1": 1, "2": 2, "3": 1}}

    predictions = tmp_path / "predictions.jsonl"
    outputs = {"p0": wrap('{"answer": 1}'), "p1": "two circles: 2", "p2": wrap('{"answer": 4}')}
    predictions.write_text("".join(json.dumps({"id": i, "prediction": o}) + "\n" for i, o in outputs.items()))
    mcr([*mine, "score", "circles-count", "--gold", str(gold), "--pred", str(predictions)])
    scored = json.loads(capsys.readouterr().out)
    assert scored == {"accuracy": 50.0, "counts": {"pictures": 4}}  # p0 and p1 right, p3 missing

    recipe = load_recipe(
        [
            "recipe=tiny",
            f"model.name_or_path={tiny_model_dir}",
            "model.build_tiny=false",
            "data.synth.n=0",
            "benchmarks.modules=[circles_count]",
            "benchmarks=[circles_count]",
            f"eval.data.circles_count.root={tmp_path / 'circles'}",
            f"eval.output_dir={tmp_path / 'eval'}",
            "eval.max_samples=3",
            "eval.max_new_tokens=8",
            "eval.batch_size=3",
            "eval.probes=[blank_image]",
            "eval.report_to=[]",
        ]
    )
    results = evaluate(recipe)

    comparison = json.loads((tmp_path / "eval" / "comparison.json").read_text())
    assert comparison == json.loads(json.dumps(results))
    metrics = comparison["circles_count"]["untrained"]
    assert metrics["counts"] == {"pictures": 3} and 0.0 <= metrics["accuracy"] <= 100.0
    assert metrics["split"] == "test" and "mean_reward" not in metrics  # rewards only on the recipe's task
    assert 0.0 <= metrics["format_rate"] <= 1.0
    assert metrics["reliance"] == {
        "blank_image": {
            "accuracy": metrics["reliance"]["blank_image"]["accuracy"],
            "accuracy_drop": round(metrics["accuracy"] - metrics["reliance"]["blank_image"]["accuracy"], 2),
            "examples": 3,
        }
    }
    folder = tmp_path / "eval" / "circles_count" / "untrained"
    lines = [json.loads(x) for x in (folder / "predictions.jsonl").read_text().splitlines()]
    assert [x["id"] for x in lines] == ["p0", "p1", "p2"] and all(
        isinstance(x["prediction"], str) for x in lines
    )
    assert [json.loads(x["gold"]) for x in lines] == [{"answer": 1}, {"answer": 2}, {"answer": 3}]
    read_count = sys.modules["circles_count.scorer"].read_count  # the user's rule, on the saved outputs
    right = sum(read_count(x["prediction"]) == count for x, count in zip(lines, (1, 2, 3), strict=True))
    assert metrics["accuracy"] == round(100 * right / 3, 1)
    assert "== MCR evaluation 'tiny': circles_count, test split, 3 examples ==" in capsys.readouterr().out
