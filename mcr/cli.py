"""The ``mcr`` command: the stages of a run, and utilities around training, data and scoring.

mcr sft recipe=NAME [key=value ...]          (MRSI SFT; mcr sft --help: every key, with help)
mcr grpo recipe=NAME [key=value ...]         (CVO GRPO; model.init_adapter=<sft output> after SFT)
mcr evaluate recipe=NAME [key=value ...]     (checkpoints=[base,DIR,...]: one comparison table)
mcr pipeline [plan] recipe=NAME [key=value ...]   (SFT -> GRPO -> evaluation; plan: the stages only)
mcr build-tiny --out DIR [--seed S] [--family qwen2_5_vl|qwen2_vl|qwen3_vl|qwen3_5|NAME]
               [--family-module MODULE]     (a family of your own: a dotted module or a .py file)
mcr pretrain-tiny [--out assets/tiny-base] [--seed S] [--scale 1.0]   (resumes where it stopped)
mcr pretrain-tiny --schedule recall --spec mimetic_attention=4   (recall first, on the grid)
mcr pretrain-tiny --from assets/tiny-base --schedule {grounding,scenes,checks} [--workers N]  (continues)
mcr recipe recipe=NAME [key=value ...] [--get KEY]      (mcr recipe --help: every key, with help)
mcr ablation {plan,table} recipe=NAME [key=value ...]    (bash launch.sh ablation runs the plan)
mcr export --checkpoint DIR --base MODEL --out DIR
mcr data synth {gmner,mate} --out DIR --n N [--seed S] [--image-size WxH (gmner)]
mcr data stats {gmner,mate,mmra,grec,mner-mi} ...
mcr score {gmner,mate,mmra,grec,mner-mi} ... --pred FILE.jsonl
mcr --benchmark-module MODULE score NAME ...   (a benchmark of your own: a dotted module or a .py file)

The stages run in this process; ``accelerate launch -m mcr.train_sft`` (``mcr.train_grpo``,
``mcr.eval.evaluate``, ``mcr.pipeline``) runs them in several. Each benchmark brings its own
``score``, ``stats`` and ``synth`` arguments (``mcr.benchmarks``); this module only dispatches.
``--benchmark-module`` (before the command, repeatable) imports a benchmark of your own first,
which then has its ``score`` and ``data stats`` commands like the built-in ones.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable

from mcr.benchmarks import BENCHMARKS, load_benchmark_modules
from mcr.data.errors import DataFormatError
from mcr.families import family_names, load_family_modules
from mcr.user_modules import UserModuleError

# earlier names of the stats commands, kept as aliases
STATS_ALIASES = {"gmner": ["twitter-gmner"], "grec": ["grefcoco"]}
# the stages of a run: command -> (its module, whose run() parses recipe=NAME key=value ... and
# --help; the help line of `mcr --help`)
STAGES = {
    "sft": ("mcr.train_sft", "MRSI: LoRA SFT on the injected D1 (recipe=NAME key=value ...; --help)"),
    "grpo": ("mcr.train_grpo", "CVO: GRPO with the recipe's rewards (recipe=NAME key=value ...; --help)"),
    "evaluate": (
        "mcr.eval.evaluate",
        "evaluate checkpoints on benchmarks, one table each (recipe=NAME checkpoints=[...]; --help)",
    ),
    "pipeline": (
        "mcr.pipeline",
        "SFT -> GRPO from its adapter -> evaluation of all three, in this process; plan: the stages",
    ),
}


def _build_tiny(args: argparse.Namespace) -> dict:
    from mcr.tiny_model import TinySpec, build_tiny_model

    spec = TinySpec(family=args.family, min_pixels=args.min_pixels, max_pixels=args.max_pixels)
    out = build_tiny_model(args.out, seed=args.seed, spec=spec)
    return {"model": str(out), "seed": args.seed, "family": args.family}


def _pretrain_tiny(args: argparse.Namespace) -> dict:
    import logging

    import torch

    # progress (probes every --probe-every steps, each stage's end) on stderr: stdout is the result
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "datasets", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from mcr.pretrain.run import SCHEDULES, pretrain_tiny

    if args.threads:
        torch.set_num_threads(args.threads)
    from dataclasses import replace

    from mcr.pretrain.run import BASE_SPEC
    from mcr.tiny_model import spec_fields

    if args.spec and args.base:
        raise SystemExit("--spec sets a fresh base's architecture; a continued base keeps its own (--from)")
    try:
        spec = replace(BASE_SPEC, **spec_fields(args.spec))
    except ValueError as error:
        raise SystemExit(f"--spec {error}") from None
    card = pretrain_tiny(
        args.out,
        seed=args.seed,
        spec=spec,
        stages=SCHEDULES[args.schedule](args.scale),
        base=args.base,
        workers=args.workers,
        batch_size=args.batch_size,
        probe_examples=args.probe_examples,
        probe_every=args.probe_every,
        report_to=args.report_to,
        command="mcr " + " ".join(args.argv),
    )
    stages = {name: stage["probes"] for name, stage in card["stages"].items()}
    return {"model": args.out, "untrained": card["untrained"], "probes": stages}


def _export(args: argparse.Namespace) -> dict:
    from mcr.checkpoints import export_merged

    out = export_merged(args.checkpoint, args.base, args.out)
    return {"model": str(out), "from": args.checkpoint}


def _recipe(argv: list[str]) -> None:
    """``mcr recipe``: the resolved recipe, one value (``--get``), or every key (``--help``)."""
    from omegaconf import OmegaConf

    from mcr.config import RecipeError, load_recipe, recipe_help, split_recipe_args

    if {"-h", "--help"} & set(argv):
        name = split_recipe_args([a for a in argv if "=" in a and not a.startswith("-")])[0]
        print("usage: mcr recipe recipe=NAME [key=value ...] [--get KEY]\n")
        print(recipe_help(name if any(a.startswith("recipe=") for a in argv) else None))
        return
    get = None
    if "--get" in argv:
        i = argv.index("--get")
        if i + 1 >= len(argv):
            sys.exit("error: --get needs a key")
        get, argv = argv[i + 1], argv[:i] + argv[i + 2 :]
    try:
        recipe = load_recipe(argv)
    except RecipeError as err:
        sys.exit(f"error: {err}")
    if get is None:
        print(OmegaConf.to_yaml(OmegaConf.structured(recipe)), end="")
        return
    derived = {"sft_output_dir", "grpo_output_dir", "mrsi_dir", "eval_dir", "images_dir"}
    if get in derived:
        print(getattr(recipe, get))
        return
    value = OmegaConf.select(OmegaConf.structured(recipe), get, default=None)
    if value is None:
        sys.exit(f"error: the recipe has no value at {get!r}")
    print(value if not OmegaConf.is_config(value) else OmegaConf.to_yaml(value), end="\n")


def _printing(run: Callable[[argparse.Namespace], dict]) -> Callable[[argparse.Namespace], None]:
    def command(args: argparse.Namespace) -> None:
        print(json.dumps(run(args), indent=2))

    return command


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcr", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--benchmark-module",
        action="append",
        default=[],
        metavar="MODULE",
        help="a benchmark of your own, imported before the command (repeatable): a dotted module on "
        "sys.path or a .py file defining BENCHMARK; its score and data stats commands follow",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    tiny = commands.add_parser(
        "build-tiny", help="write a tiny checkpoint of a model family with its processor, offline"
    )
    tiny.add_argument("--out", required=True, help="output directory")
    tiny.add_argument("--seed", type=int, default=0)
    tiny.add_argument(
        "--family",
        default="qwen2_5_vl",
        choices=family_names(),
        help="model family (mcr.families, or one that --family-module registers)",
    )
    tiny.add_argument(
        "--family-module",
        action="append",
        default=[],
        metavar="MODULE",
        help="a model family of your own, imported first (repeatable): a dotted module on sys.path or a "
        ".py file calling mcr.families.register_family",
    )
    tiny.add_argument("--min-pixels", type=int, default=56 * 56)
    tiny.add_argument("--max-pixels", type=int, default=224 * 224)
    tiny.set_defaults(func=_printing(_build_tiny))

    pretrain = commands.add_parser(
        "pretrain-tiny",
        help="pretrain the tiny base on unimodal skills (mcr.pretrain), resumably, with its model card",
    )
    pretrain.add_argument("--out", default="assets/tiny-base", help="where the base and its card go")
    pretrain.add_argument("--seed", type=int, default=0)
    pretrain.add_argument(
        "--from",
        dest="base",
        default=None,
        help="continue this pretrained base (its card's stages are kept) instead of random weights",
    )
    pretrain.add_argument(
        "--schedule",
        choices=["default", "grounding", "scenes", "recall", "checks", "checks_control", "checks_shown"],
        default="default",
        help="default: the curriculum from random weights; grounding: a continuation of mostly boxes; "
        "scenes: a continuation on images drawn as the task's; recall: colour-to-shape recall at 128 "
        "rows a step first, then the curriculum, on the grid layout; checks: a continuation that asks "
        "whether named looks are drawn, each after its colour's recall, at 128 rows a step first "
        "(checks_control: the same with recall rows instead; checks_shown: the same with the verdicts "
        "'shown' / 'not shown' instead of 'yes' / 'no')",
    )
    pretrain.add_argument(
        "--spec",
        nargs="+",
        default=[],
        metavar="FIELD=VALUE",
        help="TinySpec fields changed from the base architecture (mcr.pretrain.run.BASE_SPEC), e.g. "
        "mimetic_attention=4; only from random weights",
    )
    pretrain.add_argument(
        "--scale", type=float, default=1.0, help="the schedule's length (0.05: two minutes)"
    )
    pretrain.add_argument(
        "--workers", type=int, default=0, help="dataloader processes drawing the corpus (0: the trainer's)"
    )
    pretrain.add_argument("--batch-size", type=int, default=16)
    pretrain.add_argument("--probe-examples", type=int, default=64, help="held-out examples per probe")
    pretrain.add_argument("--probe-every", type=int, default=1000, help="probe during a stage every N steps")
    pretrain.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    pretrain.add_argument("--report-to", default="none", help="none or wandb")
    pretrain.set_defaults(func=_printing(_pretrain_tiny))

    export = commands.add_parser(
        "export", help="merge a checkpoint's LoRA adapter chain into a full model folder"
    )
    export.add_argument(
        "--checkpoint", required=True, help="an adapter folder (a run's output_dir or checkpoint-N)"
    )
    export.add_argument("--base", required=True, help="the base model the run started from (path or hub id)")
    export.add_argument("--out", required=True)
    export.set_defaults(func=_printing(_export))

    # parsed by each stage's module, so that recipe=NAME key=value ... and --help pass through
    for name, (_, description) in STAGES.items():
        commands.add_parser(name, add_help=False, help=description)

    # parsed by _recipe itself, so that recipe=NAME key=value ... and --help pass through
    commands.add_parser(
        "recipe",
        add_help=False,
        help="print a resolved recipe (recipe=NAME key=value ...), one value, or --help",
    )

    score = commands.add_parser("score", help="score predictions by a benchmark's official rule (JSON out)")
    score_kinds = score.add_subparsers(dest="benchmark", required=True)
    data = commands.add_parser("data", help="synthesize or inspect data sets").add_subparsers(
        dest="data_command", required=True
    )
    synth = data.add_parser("synth", help="write a synthetic data set in a benchmark's release layout")
    synth_kinds = synth.add_subparsers(dest="kind", required=True)
    stats = data.add_parser("stats", help="print a split's counts as JSON, from annotations alone")
    stats_kinds = stats.add_subparsers(dest="format", required=True)
    for benchmark in BENCHMARKS.values():
        for kinds, arguments, run, aliases in (
            (score_kinds, benchmark.score_arguments, benchmark.score_files, []),
            (stats_kinds, benchmark.stats_arguments, benchmark.stats, STATS_ALIASES.get(benchmark.name, [])),
            *(
                [(synth_kinds, benchmark.synth_arguments, benchmark.synth, [])]
                if benchmark.trains and benchmark.synthesizes
                else []
            ),
        ):
            described = argparse.ArgumentParser()
            arguments(described)  # each benchmark describes its own command
            command = kinds.add_parser(benchmark.cli_name, aliases=aliases, help=described.description)
            arguments(command)
            command.set_defaults(func=_printing(run))
    return parser


def _ablation(argv: list[str]) -> None:
    """``mcr ablation plan|table recipe=NAME [key=value ...]``: the ablation's stages, one per line
    (name, script, then each recipe argument; tab-separated, for launch.sh), or its table once
    evaluated."""
    from mcr.config import RecipeError, load_recipe
    from mcr.eval.ablation import plan, write_table

    if not argv or argv[0] not in ("plan", "table"):
        sys.exit(
            "usage: mcr ablation {plan,table} recipe=NAME [key=value ...]  (bash launch.sh ablation runs it)"
        )
    try:
        recipe = load_recipe(argv[1:])
        if argv[0] == "plan":
            for stage in plan(recipe, argv[1:]):
                print("\t".join([stage.name, stage.script, *stage.args]))
            return
        path, _ = write_table(recipe)
    except (RecipeError, ValueError, FileNotFoundError, KeyError) as err:
        sys.exit(f"error: {err}")
    print(f"\n== MCR ablation '{recipe.name}' ({path}) ==\n{path.read_text()}", end="")


def benchmark_modules(argv: list[str]) -> list[str]:
    """The ``--benchmark-module`` values before the command (``mcr --benchmark-module M score ...``)."""
    found, i = [], 0
    while i < len(argv) and argv[i].startswith("-"):
        value, i = _option_value(argv, i, "--benchmark-module")
        if value is not None:
            found.append(value)
        i += 1
    return found


def family_modules(argv: list[str]) -> list[str]:
    """The ``--family-module`` values of ``mcr build-tiny`` (``mcr build-tiny --family-module M
    --family NAME``), imported before the parser lists the families."""
    if "build-tiny" not in argv:
        return []
    found, i = [], argv.index("build-tiny") + 1
    while i < len(argv):
        value, i = _option_value(argv, i, "--family-module")
        if value is not None:
            found.append(value)
        i += 1
    return found


def _option_value(argv: list[str], i: int, flag: str) -> tuple[str | None, int]:
    """The value of ``flag`` at ``argv[i]`` (``--flag V`` or ``--flag=V``; None for another
    argument, or a flag with no value, which the parser reports) and the index of its last part."""
    name, sep, value = argv[i].partition("=")
    if name != flag:
        return None, i
    if sep:
        return value, i
    if i + 1 == len(argv):
        return None, i
    return argv[i + 1], i + 1


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["recipe"]:
        _recipe(argv[1:])
        return
    if argv[:1] == ["ablation"]:
        _ablation(argv[1:])
        return
    if argv[:1] and argv[0] in STAGES:
        importlib.import_module(STAGES[argv[0]][0]).run(argv[1:])
        return
    try:  # before the parser is built: each benchmark adds its own commands, each family a choice
        load_benchmark_modules(benchmark_modules(argv), "--benchmark-module")
        load_family_modules(family_modules(argv), "--family-module")
    except UserModuleError as err:
        sys.exit(f"error: {err}")
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        args.func(args)
    except DataFormatError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
