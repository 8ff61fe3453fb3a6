"""How well pretrained tiny bases point at the task's entities, side by side.

    python bench/base_pointing.py                                   # the shipped base, 300 test posts
    python bench/base_pointing.py mcr:tiny-base outputs/other-base --posts 100 --out pointing.json
    python bench/base_pointing.py -- data.synth.seed=1              # after --: overrides of recipe=tiny

Every gold entity of the default recipe's held-out test split is asked about the way the base was
pretrained to point (``mcr.pretrain.corpus``): "Where is the <colour> <shape>?", with the colour
the post mentions next to the entity and the shape its type is drawn as (the binding GMNER leaves
to the model, given here). Greedy. Per base: the share of the entities the image shows answered
with a box of IoU > 0.5 with one of theirs, and the share answered "nowhere" of those it shows
(wrong) and of those it does not show (right). A base whose pointing does not carry over to the
task's images leaves SFT nothing to build a box on (docs/results/styles.md).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_BOX = re.compile(r"\[(-?\d+), (-?\d+), (-?\d+), (-?\d+)\]")


def pointing_questions(
    rows: list[dict[str, Any]], *, after_post: bool = False
) -> list[tuple[Any, list[list[float]]]]:
    """(pretraining-style question, the entity's gold boxes; [] when not shown) per gold entity.
    With ``after_post`` the question follows the post's words, as ``point_far`` asks it ("Read
    these words: <post>. Where is ...?"): the box is then written as far from the image as in
    the task."""
    from mcr.benchmarks.gmner.synthetic import SHAPE_OF_TYPE, mentioned_colour
    from mcr.pretrain.corpus import NOWHERE, Example, box_text

    questions = []
    for row in rows:
        for gold in json.loads(row["gold"]):
            colour = mentioned_colour(row["text"], gold["entity"], gold["type"])
            if colour is None:
                raise ValueError(f"post {row['id']}: no colour is mentioned with {gold['entity']!r}")
            boxes = gold["bbox"] or []
            answer = "; ".join(box_text(box) for box in boxes) or NOWHERE
            prompt = f"Where is the {colour} {SHAPE_OF_TYPE[gold['type']]}?"
            if after_post:
                prompt = f"Read these words: {row['text']}. {prompt}"
            questions.append((Example("point", prompt, answer, row["image"]), boxes))
    return questions


def score(golds: list[list[list[float]]], answers: list[str]) -> dict[str, float]:
    """IoU > 0.5 (first box answered) and "nowhere" rates over shown and not-shown entities."""
    from mcr.contract.matching import iou
    from mcr.pretrain.corpus import NOWHERE

    shown = [(g, a.strip()) for g, a in zip(golds, answers, strict=True) if g]
    absent = [a.strip() for g, a in zip(golds, answers, strict=True) if not g]
    hits = 0
    for boxes, answer in shown:
        found = _BOX.search(answer)
        if found:
            box = tuple(float(v) for v in found.groups())
            hits += any(iou(box, tuple(map(float, g))) > 0.5 for g in boxes)
    return {
        "shown": len(shown),
        "absent": len(absent),
        "iou50_shown": hits / max(1, len(shown)),
        "nowhere_shown": sum(a == NOWHERE for _, a in shown) / max(1, len(shown)),
        "nowhere_absent": sum(a == NOWHERE for a in absent) / max(1, len(absent)),
    }


def measure(base: str, questions: list, batch_size: int) -> dict[str, float]:
    """The figures of ``score`` for one model folder, ``mcr:NAME``, or a trained adapter (an SFT or
    GRPO output: its chain of adapters merged into the base it was trained from)."""
    from transformers import AutoProcessor

    from mcr.checkpoints import load_checkpoint
    from mcr.eval.generate import generate
    from mcr.pretrain.corpus import as_row
    from mcr.shipped import resolve_model_path

    path = resolve_model_path(base)
    adapter = Path(path) / "adapter_config.json"
    trained_from = json.loads(adapter.read_text())["base_model_name_or_path"] if adapter.is_file() else path
    has_processor = (Path(path) / "processor_config.json").is_file()
    processor = AutoProcessor.from_pretrained(path if has_processor else trained_from, padding_side="left")
    model = load_checkpoint(path if adapter.is_file() else None, trained_from).eval()
    rows = [as_row(example) for example, _ in questions]
    answers = generate(model, processor, rows, batch_size=batch_size, max_new_tokens=40, desc=f"point {base}")
    return score([boxes for _, boxes in questions], answers)


def table(results: dict[str, dict[str, float]]) -> str:
    lines = [
        '| base | shown | IoU > 0.5 | "nowhere" when shown | not shown | "nowhere" when not shown |',
        "|---|---|---|---|---|---|",
    ]
    from mcr.pretrain.run import pointing_row

    lines += [pointing_row(base, r) for base, r in results.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument(
        "bases",
        nargs="*",
        default=["mcr:tiny-base"],
        help="models: folders, mcr:NAME, SFT/GRPO outputs",
    )
    parser.add_argument("--posts", type=int, default=300, help="the first N posts of the test split")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--out", default=None, help="also write the results here as JSON")
    parser.add_argument(
        "--card",
        action="store_true",
        help="write the result into the (one) base's model_card.json and README.md",
    )
    parser.add_argument(
        "--after-post",
        action="store_true",
        help="ask each question after the post's words (point_far's form)",
    )
    argv = sys.argv[1:] if argv is None else list(argv)
    split = argv.index("--") if "--" in argv else len(argv)  # after --: overrides of recipe=tiny
    args, overrides = parser.parse_args(argv[:split]), argv[split + 1 :]

    from mcr.config import load_recipe
    from mcr.shipped import resolve_model_path
    from mcr.task_data import ensure_data, load_split, task_rows

    recipe = load_recipe(["recipe=tiny", *overrides])
    ensure_data(recipe)  # the recipe's synthetic data, written when missing
    rows = task_rows(recipe, load_split(recipe, "test"))[: args.posts]
    questions = pointing_questions(rows, after_post=args.after_post)
    results = {base: measure(base, questions, args.batch_size) for base in args.bases}
    print(table(results))
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    if args.card:
        if len(args.bases) != 1:
            parser.error("--card writes one base's card: name one base")
        (base,) = args.bases
        write_to_card(Path(resolve_model_path(base)), results[base], argv, after_post=args.after_post)
    return results


def write_to_card(folder: Path, result: dict[str, float], argv: list[str], *, after_post: bool) -> None:
    """Record ``result`` in the base's card, one entry per question form, and render its README."""
    from mcr.pretrain.run import machine_name, model_card

    card_file = folder / "model_card.json"
    if not card_file.is_file():
        raise FileNotFoundError(f"{card_file}: no model card to write the pointing figures into")
    card = json.loads(card_file.read_text())
    form = "after the post's words" if after_post else "right after the image"
    command = " ".join(["python bench/base_pointing.py", *argv])
    card.setdefault("task_pointing", {})[form] = {**result, "command": command, "machine": machine_name()}
    card_file.write_text(json.dumps(card, indent=2))
    (folder / "README.md").write_text(model_card(card))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
