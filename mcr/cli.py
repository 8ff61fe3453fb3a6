"""The ``mcr`` command: utilities around training, data and scoring.

mcr build-tiny --out DIR [--seed S]
mcr recipe recipe=NAME [key=value ...] [--get KEY]
mcr export --checkpoint DIR --base MODEL --out DIR
mcr data synth {gmner,mate} --out DIR --n N [--seed S] [--image-size WxH (gmner)]
mcr data stats twitter-gmner --root DIR [--split test]
mcr data stats {mate,mmra,mner-mi} --file FILE
mcr score gmner --gold-root DIR --split test --pred FILE.jsonl
mcr score {mate,mmra,grec,mner-mi} --gold FILE --pred FILE.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

from mcr.data.errors import DataFormatError


def _build_tiny(args: argparse.Namespace) -> None:
    from mcr.tiny_model import TinySpec, build_tiny_model

    spec = TinySpec(min_pixels=args.min_pixels, max_pixels=args.max_pixels)
    out = build_tiny_model(args.out, seed=args.seed, spec=spec)
    print(json.dumps({"model": str(out), "seed": args.seed}))


def _image_size(value: str) -> tuple[int, int]:
    """``640x480`` -> (640, 480)."""
    width, sep, height = value.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 112 or int(height) < 112:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT of at least 112x112, got {value!r}")
    return int(width), int(height)


def _synth_gmner(args: argparse.Namespace) -> None:
    from mcr.data.synth_gmner import write_synthetic_gmner
    from mcr.data.twitter_gmner import SPLITS, gmner_stats, load_twitter_gmner

    kwargs = {"image_sizes": (args.image_size,)} if args.image_size else {}
    out = write_synthetic_gmner(args.out, args.n, args.seed, **kwargs)
    stats = {split: gmner_stats(load_twitter_gmner(out, split)) for split in SPLITS}
    print(json.dumps({"root": str(out), "images": str(out / "images"), "splits": stats}, indent=2))


def _stats_mate(args: argparse.Namespace) -> None:
    from collections import Counter

    from mcr.data.mate import load_mate_split

    instances = load_mate_split(args.file, args.split, require_images=False)
    print(
        json.dumps(
            {
                "instances": len(instances),
                "tasks": dict(sorted(Counter(i.task for i in instances).items())),
                "object_counts": dict(sorted(Counter(i.object_count for i in instances).items())),
                "pairs": dict(
                    sorted(Counter(f"{i.pointer_attribute}->{i.target_attribute}" for i in instances).items())
                ),
            },
            indent=2,
        )
    )


def _stats_mmra(args: argparse.Namespace) -> None:
    from collections import Counter

    from mcr.eval.mmra import load_mmra

    items = load_mmra(args.file, split=args.split, extract_images=False)
    print(
        json.dumps(
            {
                "items": len(items),
                "subtasks": dict(sorted(Counter(i.task for i in items).items())),
                "granularity": dict(sorted(Counter(i.granularity for i in items).items())),
                "qa_types": dict(sorted(Counter(i.qa_type for i in items).items())),
            },
            indent=2,
        )
    )


def _stats_mner_mi(args: argparse.Namespace) -> None:
    from collections import Counter

    from mcr.eval.mner_mi import entities, load_mner_mi

    records = load_mner_mi(args.file)
    types = Counter(t for r in records for t, _, _ in entities(r.labels))
    print(
        json.dumps(
            {
                "posts": len(records),
                "images": sum(len(r.images) for r in records),
                "entities": sum(types.values()),
                "types": dict(sorted(types.items())),
            },
            indent=2,
        )
    )


def _stats_grefcoco(args: argparse.Namespace) -> None:
    from mcr.data.grefcoco import grefcoco_stats, load_grefcoco

    print(json.dumps(grefcoco_stats(load_grefcoco(args.root, args.split, require_images=False)), indent=2))


def _synth_mate(args: argparse.Namespace) -> None:
    from mcr.data.mate import load_mate
    from mcr.data.synth_mate import write_synthetic_mate

    out = write_synthetic_mate(args.out, args.n, args.seed, progress=False)
    counts = {split: len(load_mate(out / f"{split}.jsonl")) for split in ("train", "dev", "test")}
    print(json.dumps({"root": str(out), "splits": counts}, indent=2))


def _stats_twitter_gmner(args: argparse.Namespace) -> None:
    from mcr.data.twitter_gmner import gmner_stats, load_twitter_gmner

    records = load_twitter_gmner(
        args.root, args.split, types=None if args.any_type else ("PER", "LOC", "ORG", "OTHER")
    )
    print(json.dumps(gmner_stats(records), indent=2))


def _recipe(args: argparse.Namespace) -> None:
    from omegaconf import OmegaConf

    from mcr.config import RecipeError, load_recipe

    try:
        recipe = load_recipe(args.args)
    except RecipeError as err:
        sys.exit(f"error: {err}")
    if args.get is None:
        print(OmegaConf.to_yaml(OmegaConf.structured(recipe)), end="")
        return
    derived = {"sft_output_dir", "grpo_output_dir", "mrsi_dir", "eval_dir", "images_dir"}
    if args.get in derived:
        print(getattr(recipe, args.get))
        return
    value = OmegaConf.select(OmegaConf.structured(recipe), args.get, default=None)
    if value is None:
        sys.exit(f"error: the recipe has no value at {args.get!r}")
    print(value if not OmegaConf.is_config(value) else OmegaConf.to_yaml(value), end="\n")


def _score_gmner(args: argparse.Namespace) -> None:
    from mcr.data.twitter_gmner import load_twitter_gmner
    from mcr.eval.gmner import prediction_from_text, score_gmner
    from mcr.eval.predictions import gmner_entities_from_json, prediction_lines

    records = load_twitter_gmner(args.gold_root, args.split, types=None)
    gold = f"the {args.split} split of {args.gold_root}"
    predictions = {}
    for line, record_id, item in prediction_lines(args.pred, {r.id for r in records}, gold):
        if "entities" in item:
            predictions[record_id] = gmner_entities_from_json(item["entities"], file=args.pred, line=line)
        elif {"prediction", "image_size", "input_size"} <= set(item):
            predictions[record_id] = prediction_from_text(
                str(item["prediction"]), tuple(item["image_size"]), tuple(item["input_size"])
            )
        else:
            raise DataFormatError(
                "expected 'entities', or 'prediction' with 'image_size' and 'input_size'",
                file=args.pred,
                line=line,
            )
    print(json.dumps(score_gmner(records, predictions), indent=2))


def _score_mate(args: argparse.Namespace) -> None:
    from mcr.data.mate import load_mate
    from mcr.eval.mate import score_mate
    from mcr.eval.predictions import raw_outputs

    instances = load_mate(args.gold, require_images=False)
    outputs = raw_outputs(args.pred, {i.id for i in instances}, args.gold)
    print(json.dumps(score_mate(instances, outputs), indent=2))


def _score_mmra(args: argparse.Namespace) -> None:
    from mcr.eval.mmra import load_mmra, score_mmra
    from mcr.eval.predictions import raw_outputs

    items = load_mmra(args.gold)
    outputs = raw_outputs(args.pred, {i.id for i in items}, args.gold)
    print(json.dumps(score_mmra(items, outputs), indent=2))


def _score_grec(args: argparse.Namespace) -> None:
    from mcr.data.jsonl import read_jsonl
    from mcr.eval.grec import score_grec
    from mcr.eval.predictions import prediction_lines

    gold = {str(item["id"]): item.get("boxes") or [] for _, item in read_jsonl(args.gold, "GREC gold")}
    predictions = {}
    for line, record_id, item in prediction_lines(args.pred, gold, args.gold):
        boxes, scores = item.get("boxes") or [], item.get("scores") or []
        if len(boxes) != len(scores):
            raise DataFormatError(f"{len(boxes)} boxes but {len(scores)} scores", file=args.pred, line=line)
        predictions[record_id] = list(zip(boxes, scores, strict=True))
    print(json.dumps(score_grec(gold, predictions), indent=2))


def _score_mner_mi(args: argparse.Namespace) -> None:
    from mcr.eval.mner_mi import load_mner_mi, score_mner_mi
    from mcr.eval.predictions import prediction_lines

    records = load_mner_mi(args.gold)
    lengths = {r.id: len(r.tokens) for r in records}
    predictions = {}
    for line, record_id, item in prediction_lines(args.pred, lengths, args.gold):
        if len(item.get("labels") or []) != lengths[record_id]:
            raise DataFormatError(f"expected {lengths[record_id]} labels", file=args.pred, line=line)
        predictions[record_id] = item["labels"]
    print(json.dumps(score_mner_mi(records, predictions), indent=2))


def _export(args: argparse.Namespace) -> None:
    from mcr.checkpoints import export_merged

    out = export_merged(args.checkpoint, args.base, args.out)
    print(json.dumps({"model": str(out), "from": args.checkpoint}))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcr", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    tiny = commands.add_parser(
        "build-tiny", help="write a tiny Qwen2.5-VL checkpoint with its processor, offline"
    )
    tiny.add_argument("--out", required=True, help="output directory")
    tiny.add_argument("--seed", type=int, default=0)
    tiny.add_argument("--min-pixels", type=int, default=56 * 56)
    tiny.add_argument("--max-pixels", type=int, default=224 * 224)
    tiny.set_defaults(func=_build_tiny)

    export = commands.add_parser(
        "export", help="merge a checkpoint's LoRA adapter chain into a full model folder"
    )
    export.add_argument(
        "--checkpoint", required=True, help="an adapter folder (a run's output_dir or checkpoint-N)"
    )
    export.add_argument("--base", required=True, help="the base model the run started from (path or hub id)")
    export.add_argument("--out", required=True)
    export.set_defaults(func=_export)

    recipe = commands.add_parser(
        "recipe", help="print a resolved recipe (recipe=NAME key=value ...) or one value"
    )
    recipe.add_argument("args", nargs="*", help="recipe=NAME and dotted overrides")
    recipe.add_argument(
        "--get", help="print one key (dotted) or sft_output_dir, grpo_output_dir, mrsi_dir, eval_dir"
    )
    recipe.set_defaults(func=_recipe)

    score = commands.add_parser("score", help="score predictions by a benchmark's official rule (JSON out)")
    score_kinds = score.add_subparsers(dest="benchmark", required=True)
    sg = score_kinds.add_parser("gmner", help="Twitter-GMNER: GMNER / MNER / EEG P/R/F1 and bias diagnostics")
    sg.add_argument("--gold-root", required=True, help="release root holding txt/ and xml/")
    sg.add_argument("--split", default="test", choices=("train", "dev", "test"))
    sg.add_argument(
        "--pred", required=True, help="JSONL: {id, entities} or {id, prediction, image_size, input_size}"
    )
    sg.set_defaults(func=_score_gmner)
    sm = score_kinds.add_parser(
        "mate", help="MATE exact match: accuracy overall, by task, object count, pair"
    )
    sm.add_argument("--gold", required=True, help="MATE instances as JSONL (public fields, with id)")
    sm.add_argument("--pred", required=True, help="JSONL: {id, prediction}")
    sm.set_defaults(func=_score_mate)
    sr = score_kinds.add_parser("mmra", help="MMRA: accuracy overall, by subtask and granularity")
    sr.add_argument("--gold", required=True, help="MMRA rows as JSONL (id defaults to the row index)")
    sr.add_argument("--pred", required=True, help="JSONL: {id, prediction}")
    sr.set_defaults(func=_score_mmra)
    sq = score_kinds.add_parser("grec", help="GREC: N-acc and Pr@(F1=1, IoU>=0.5)")
    sq.add_argument(
        "--gold", required=True, help="JSONL: {id, boxes: [[x1, y1, x2, y2], ...]} ([] = no target)"
    )
    sq.add_argument("--pred", required=True, help="JSONL: {id, boxes, scores}")
    sq.set_defaults(func=_score_grec)
    sn = score_kinds.add_parser("mner-mi", help="MNER-MI: entity-level micro P/R/F1 (seqeval)")
    sn.add_argument("--gold", required=True, help="MNER-MI_<split>.txt (a dict literal per line)")
    sn.add_argument("--pred", required=True, help="JSONL: {id, labels: [BIO tags]}")
    sn.set_defaults(func=_score_mner_mi)

    data = commands.add_parser("data", help="synthesize or inspect data sets").add_subparsers(
        dest="data_command", required=True
    )
    synth = data.add_parser("synth", help="write a synthetic data set in a benchmark's release layout")
    synth_kinds = synth.add_subparsers(dest="kind", required=True)
    gmner = synth_kinds.add_parser("gmner", help="synthetic Twitter-GMNER (txt/, xml/, images/)")
    gmner.add_argument("--out", required=True)
    gmner.add_argument("--n", type=int, required=True, help="number of posts (split 80/10/10)")
    gmner.add_argument("--seed", type=int, default=0)
    gmner.add_argument(
        "--image-size",
        type=_image_size,
        help="WIDTHxHEIGHT of every image, e.g. 640x480 (default: small sizes for CPU runs)",
    )
    gmner.set_defaults(func=_synth_gmner)

    mate = synth_kinds.add_parser("mate", help="synthetic MATE (<split>.jsonl in MATE's fields, images/)")
    mate.add_argument("--out", required=True)
    mate.add_argument("--n", type=int, required=True, help="number of instances (split 80/10/10)")
    mate.add_argument("--seed", type=int, default=0)
    mate.set_defaults(func=_synth_mate)

    stats = data.add_parser("stats", help="print a split's counts as JSON, from annotations alone")
    stats_kinds = stats.add_subparsers(dest="format", required=True)
    tg = stats_kinds.add_parser("twitter-gmner", help="Twitter-GMNER / Twitter-FMNERG release (txt + xml)")
    tg.add_argument("--root", required=True, help="release root holding txt/ and xml/")
    tg.add_argument("--split", default="test", choices=("train", "dev", "test"))
    tg.add_argument("--any-type", action="store_true", help="accept entity types beyond PER/LOC/ORG/OTHER")
    tg.set_defaults(func=_stats_twitter_gmner)
    gr = stats_kinds.add_parser("grefcoco", help="gRefCOCO: expressions, no-/single-/multi-target, boxes")
    gr.add_argument("--root", required=True, help="folder holding grefs(unc).json and instances.json")
    gr.add_argument("--split", default="val", choices=("train", "val", "testA", "testB"))
    gr.set_defaults(func=_stats_grefcoco)
    for name, func, helptext, split in (
        (
            "mate",
            _stats_mate,
            "MATE (JSONL, or the parquet export): tasks, object counts, attribute pairs",
            "cross_modal",
        ),
        ("mmra", _stats_mmra, "MMRA (JSONL, or the parquet export): subtasks, granularity, types", "train"),
        ("mner-mi", _stats_mner_mi, "MNER-MI_<split>.txt: posts, images, entities by type", None),
    ):
        kind = stats_kinds.add_parser(name, help=helptext)
        kind.add_argument("--file", required=True, help="a file, or an export folder (with --split)")
        if split is not None:
            kind.add_argument("--split", default=split, help=f"split of an export folder (default {split})")
        kind.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DataFormatError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
