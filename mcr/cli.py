"""The ``mcr`` command: utilities around training (model building, data).

mcr build-tiny --out DIR [--seed S]
mcr data synth gmner --out DIR --n N [--seed S]
mcr data stats twitter-gmner --root DIR [--split test]
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


def _synth_gmner(args: argparse.Namespace) -> None:
    from mcr.data.synth_gmner import write_synthetic_gmner
    from mcr.data.twitter_gmner import SPLITS, gmner_stats, load_twitter_gmner

    out = write_synthetic_gmner(args.out, args.n, args.seed)
    stats = {split: gmner_stats(load_twitter_gmner(out, split)) for split in SPLITS}
    print(json.dumps({"root": str(out), "images": str(out / "images"), "splits": stats}, indent=2))


def _stats_twitter_gmner(args: argparse.Namespace) -> None:
    from mcr.data.twitter_gmner import gmner_stats, load_twitter_gmner

    records = load_twitter_gmner(
        args.root, args.split, types=None if args.any_type else ("PER", "LOC", "ORG", "OTHER")
    )
    print(json.dumps(gmner_stats(records), indent=2))


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

    data = commands.add_parser("data", help="synthesize or inspect data sets").add_subparsers(
        dest="data_command", required=True
    )
    synth = data.add_parser("synth", help="write a synthetic data set in a benchmark's release layout")
    synth_kinds = synth.add_subparsers(dest="kind", required=True)
    gmner = synth_kinds.add_parser("gmner", help="synthetic Twitter-GMNER (txt/, xml/, images/)")
    gmner.add_argument("--out", required=True)
    gmner.add_argument("--n", type=int, required=True, help="number of posts (split 80/10/10)")
    gmner.add_argument("--seed", type=int, default=0)
    gmner.set_defaults(func=_synth_gmner)

    stats = data.add_parser("stats", help="print a split's counts as JSON, from annotations alone")
    stats_kinds = stats.add_subparsers(dest="format", required=True)
    tg = stats_kinds.add_parser("twitter-gmner", help="Twitter-GMNER / Twitter-FMNERG release (txt + xml)")
    tg.add_argument("--root", required=True, help="release root holding txt/ and xml/")
    tg.add_argument("--split", default="test", choices=("train", "dev", "test"))
    tg.add_argument("--any-type", action="store_true", help="accept entity types beyond PER/LOC/ORG/OTHER")
    tg.set_defaults(func=_stats_twitter_gmner)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except DataFormatError as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
