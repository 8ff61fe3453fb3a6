"""How a model's recall steps read the image, on the task's test posts.

    python bench/recall_steps.py RUN/eval/gmner/sft/predictions.jsonl --data outputs/data/tiny-gmner-0
    python bench/recall_steps.py RUN/eval/gmner/*/predictions.jsonl --data DATA --out steps.json

MRSI's ``recall`` style writes, per entity, its look, the shapes the image draws in the look's
colour and the verdict ("Gantry (LOC): the purple triangle? purple is square, so not shown in the
image, box null."). On the held-out split's gold entities, this reads back each such line of a
model's completions and splits the decision in two, as ``bench/binding.py`` does in words:

* ``colour``: the step asks about the colour the post mentions with the entity;
* ``look``: the look's shape is the one the entity's written type is drawn as (``SHAPE_OF_TYPE``);
* ``step``: the shapes it names are those the image draws in that colour (read from the pixels,
  ``looks.drawn_objects``; "none" when it draws none);
* ``follows``: the verdict is what the step gives (shown exactly when the look's shape is named);
* ``verdict``: the verdict is right (the gold shows the entity or not);
* ``verdict_given_step``: the verdict is right where the step is;
* ``other_lines``: the lines whose step names shapes in the colour but not the look's, where
  only comparing the two shapes gives "not shown"; ``other_hidden``: the share of them called
  not shown (``none_hidden``: of the steps naming no shape; ``named_shown``: of those naming the
  look's shape, called shown), each over its own lines (``none_lines``, ``named_lines``), and
  None where there are none. A verdict that only asks whether anything is drawn in the colour
  has ``other_hidden`` 0 and the other two 1.

Each share is of the gold entities whose line has a step (``lines``, of ``entities``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

# "<span> (<TYPE>): the <colour> <shape>? <colour> is <shapes|none>, so [not ]shown", and the look's
# other wordings compared in docs/results/styles.md: "(<TYPE>): a <shape> in <colour>? ..." and
# "(<TYPE>), drawn as a <shape>: the <colour> <shape>? ..."
_STEP = re.compile(
    r"\((?P<type>\w+)\)(?:, drawn as an? \w+)?: "
    r"(?:the (?P<colour>\w+) (?P<shape>\w+)|an? (?P<shape_first>\w+) in (?P<colour_last>\w+))"
    r"\? (?P<again>\w+) is (?P<named>[\w ]+?), so (?P<hidden>not )?shown"
)


def entity_lines(prediction: str, spans: list[str]) -> dict[str, re.Match[str]]:
    """The recall step of each gold span's line in a completion's reasoning (the first line that
    starts with the span and holds a step)."""
    from mcr.contract.parse import parse_completion

    found: dict[str, re.Match[str]] = {}
    for line in (parse_completion(prediction).think or "").splitlines():
        for span in spans:
            if span not in found and line.startswith(f"{span} ("):
                step = _STEP.match(line, len(span) + 1)
                if step:
                    found[span] = step
    return found


def read_steps(predictions: Path, data_root: Path, split: str = "test") -> dict[str, Any]:
    """The shares described above for one ``predictions.jsonl`` against the split's records."""
    from PIL import Image

    from mcr.benchmarks.gmner.looks import drawn_objects, shapes_in_colour
    from mcr.benchmarks.gmner.release import load_twitter_gmner
    from mcr.benchmarks.gmner.synthetic import SHAPE_OF_TYPE, mentioned_colour

    records = {r.id: r for r in load_twitter_gmner(data_root, split, images=data_root / "images")}
    counts = dict.fromkeys(
        ("entities", "lines", "colour", "look", "step", "follows", "verdict", "step_right_and_verdict"), 0
    )
    by_step = {kind: [0, 0] for kind in ("none", "named", "other")}  # [lines, verdict as compared]
    for number, line in enumerate(predictions.read_text().splitlines(), start=1):
        sample = json.loads(line)
        record = records.get(sample["id"])
        if record is None:
            raise SystemExit(f"{predictions}:{number}: post {sample['id']!r} is not in {data_root} ({split})")
        steps = entity_lines(sample["prediction"], [e.text for e in record.entities])
        counts["entities"] += len(record.entities)
        if not steps:
            continue
        with Image.open(record.images[0]) as image:
            drawn = drawn_objects(image)
        for entity in record.entities:
            step = steps.get(entity.text)
            if step is None:
                continue
            written_type, again, named, hidden = step.group("type", "again", "named", "hidden")
            colour = step.group("colour") or step.group("colour_last")
            shape = step.group("shape") or step.group("shape_first")
            shapes = [] if named == "none" else named.split(" and ")
            right_step = again == colour and shapes == shapes_in_colour(drawn, colour)
            says_shown = hidden is None
            counts["lines"] += 1
            counts["colour"] += colour == mentioned_colour(record.text, entity.text, entity.type)
            counts["look"] += shape == SHAPE_OF_TYPE.get(written_type)
            counts["step"] += right_step
            counts["follows"] += says_shown == (shape in shapes)
            counts["verdict"] += says_shown == bool(entity.boxes)
            counts["step_right_and_verdict"] += right_step and says_shown == bool(entity.boxes)
            kind = "none" if not shapes else "named" if shape in shapes else "other"
            by_step[kind][0] += 1
            by_step[kind][1] += says_shown == (kind == "named")
    lines = max(1, counts["lines"])
    return {
        "entities": counts["entities"],
        "lines": counts["lines"],
        **{k: round(counts[k] / lines, 4) for k in ("colour", "look", "step", "follows", "verdict")},
        "verdict_given_step": round(counts["step_right_and_verdict"] / max(1, counts["step"]), 4),
        **{f"{kind}_lines": by_step[kind][0] for kind in ("none", "named", "other")},
        **{  # None where no line's step is of that kind
            name: round(by_step[kind][1] / by_step[kind][0], 4) if by_step[kind][0] else None
            for name, kind in (("none_hidden", "none"), ("named_shown", "named"), ("other_hidden", "other"))
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("predictions", nargs="+", type=Path, help="predictions.jsonl files of an evaluation")
    parser.add_argument(
        "--data", type=Path, required=True, help="the synthetic GMNER data root they were made on"
    )
    parser.add_argument("--split", default="test")
    parser.add_argument("--out", type=Path, help="also write the figures here as JSON")
    args = parser.parse_args(argv)
    found = {str(p): read_steps(p, args.data, args.split) for p in args.predictions}
    columns = (
        "entities", "lines", "colour", "look", "step", "follows", "verdict", "verdict_given_step",
        "none_lines", "named_lines", "other_lines", "none_hidden", "named_shown", "other_hidden",
    )  # fmt: skip
    print("| predictions | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for path, figures in found.items():
        print(
            f"| {path} | "
            + " | ".join("-" if figures[c] is None else str(figures[c]) for c in columns)
            + " |"
        )
    if args.out:
        args.out.write_text(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
