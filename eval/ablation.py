"""The ablation in miniature: what each part of MCR adds, trained from the same base and data.

| variant | how it is trained |
|---|---|
| ``answer_only`` | SFT on the answers alone (an empty ``<think></think>`` before each) |
| ``mrsi_checklist`` | MRSI SFT in one reasoning style (checklist) |
| ``mrsi`` | MRSI SFT in the recipe's styles, at its weights |
| ``mrsi_cvo`` | MRSI SFT, then CVO (GRPO with every reward) |
| ``mrsi_cvo_no_penalties`` | MRSI SFT, then CVO with the two shortcut penalties at weight 0 |
| ``cvo`` | CVO alone, from the base |
| ``answer_only_cvo`` | SFT on the answers alone, then CVO: does CVO need the reasoning? |

``plan`` lists the stages (``bash launch.sh ablation`` runs them through accelerate), all under
``<recipe's outputs>/ablation/``: every variant reads the same D1/D2 split (one MRSI seed and
fraction), and the GRPO variants the same D2. One evaluation then scores the base and the seven
checkpoints; ``write_table`` turns its ``comparison.json`` into the ablation table (markdown
and JSON beside it, and W&B when the recipe's evaluation reports there).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from mcr.benchmarks import get_benchmark
from mcr.config import Recipe
from mcr.prompts import ANSWER_ONLY

SHORTCUT_PENALTIES = ("textual_shortcut", "visual_shortcut")
ONE_STYLE = "checklist"


@dataclass(frozen=True)
class Variant:
    name: str
    description: str


VARIANTS = (
    Variant("answer_only", "SFT on answers alone (empty reasoning)"),
    Variant("mrsi_checklist", f"MRSI SFT, one style ({ONE_STYLE})"),
    Variant("mrsi", "MRSI SFT, the recipe's styles"),
    Variant("mrsi_cvo", "MRSI SFT + CVO"),
    Variant("mrsi_cvo_no_penalties", "MRSI SFT + CVO without the shortcut penalties"),
    Variant("cvo", "CVO alone, from the base"),
    Variant("answer_only_cvo", "answer-only SFT + CVO"),
)


@dataclass(frozen=True)
class AblationStage:
    """One step of the ablation plan: a training run or the evaluation, as launch.sh runs it."""

    name: str  # the variant, or "evaluation"
    script: str  # train_sft.py, train_grpo.py or eval/evaluate.py
    args: tuple[str, ...]  # recipe arguments


def ablation_dir(recipe: Recipe) -> Path:
    return Path(recipe.eval_dir).parent / "ablation"


def checkpoint_dir(recipe: Recipe, variant: str) -> Path:
    return ablation_dir(recipe) / variant


def plan(recipe: Recipe, args: list[str]) -> list[AblationStage]:
    """The ablation's stages, in order, each with the recipe arguments ``args`` and its own."""
    if recipe.task != "gmner":
        raise ValueError(
            f"the ablation runs on a GMNER recipe (its table reads GMNER's metrics); task: {recipe.task}"
        )
    if ONE_STYLE not in recipe.mrsi.styles:
        raise ValueError(f"the ablation's one-style variant needs mrsi.styles.{ONE_STYLE} in the recipe")
    root = ablation_dir(recipe)
    styles = list(recipe.mrsi.styles)

    def only(style: str) -> list[str]:
        weights = [f"mrsi.styles.{s}={1.0 if s == style else 0.0}" for s in styles]
        return weights + ([f"mrsi.styles.{ANSWER_ONLY}=1.0"] if style == ANSWER_ONLY else [])

    def sft(variant: str, styles_args: list[str]) -> AblationStage:
        return AblationStage(
            variant,
            "train_sft.py",
            (
                *args,
                *styles_args,
                # each injection in its own folder (its styles differ), the same D1/D2 split
                f"mrsi.output_dir={root / 'mrsi' / variant}",
                f"sft.output_dir={checkpoint_dir(recipe, variant)}",
                f"sft.run_name={recipe.name}-ablation-{variant}",
            ),
        )

    def grpo(variant: str, extra: list[str]) -> AblationStage:
        return AblationStage(
            variant,
            "train_grpo.py",
            (
                *args,
                f"mrsi.output_dir={root / 'mrsi' / 'mrsi'}",  # D2 as MRSI splits it
                f"grpo.output_dir={checkpoint_dir(recipe, variant)}",
                f"grpo.run_name={recipe.name}-ablation-{variant}",
                *extra,
            ),
        )

    adapter = f"model.init_adapter={checkpoint_dir(recipe, 'mrsi')}"
    answers_adapter = f"model.init_adapter={checkpoint_dir(recipe, 'answer_only')}"
    checkpoints = ",".join(["base", *(str(checkpoint_dir(recipe, v.name)) for v in VARIANTS)])
    return [
        sft("answer_only", only(ANSWER_ONLY)),
        sft("mrsi_checklist", only(ONE_STYLE)),
        sft("mrsi", []),
        grpo("mrsi_cvo", [adapter]),
        grpo("mrsi_cvo_no_penalties", [adapter, *(f"rewards.funcs.{p}=0.0" for p in SHORTCUT_PENALTIES)]),
        grpo("cvo", []),
        grpo("answer_only_cvo", [answers_adapter]),
        AblationStage(
            "evaluation",
            "eval/evaluate.py",
            (*args, f"eval.output_dir={root / 'eval'}", "eval.probes=[]", f"checkpoints=[{checkpoints}]"),
        ),
    ]


COLUMNS = ("format", "GMNER F1", "MNER F1", "EEG F1", "grounded", "N-rate", "textual shortcut")
_FORMATS = {"format": "{:.2f}", "textual shortcut": "{:.3f}"}  # the others: one decimal


def table_rows(recipe: Recipe) -> list[dict]:
    """One row per checkpoint (the base first), read from the evaluation's ``comparison.json``."""
    path = ablation_dir(recipe) / "eval" / "comparison.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no ablation evaluation yet (bash launch.sh ablation runs it)")
    results = json.loads(path.read_text())[recipe.task]
    described = {"untrained": "the base, untrained for the task"} | {v.name: v.description for v in VARIANTS}
    rows = []
    for label, description in described.items():
        if label not in results:
            raise KeyError(f"{path}: no results for checkpoint {label!r}")
        m = results[label]
        rows.append(
            {
                "variant": label,
                "description": description,
                "format": m["format_rate"],
                **get_benchmark(recipe.task).headline(m),  # GMNER, MNER and EEG F1
                # shown entities found with a right box: what GMNER F1 credits beyond right nulls
                "grounded": m["grounding"]["recall"],
                "N-rate": m["bias"]["n_rate"],
                "textual shortcut": m["rewards"]["textual_shortcut"],
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    lines = [
        "| variant | " + " | ".join(COLUMNS) + " |",
        "|---|" + "---|" * len(COLUMNS),
    ]
    for row in rows:
        cells = [_FORMATS.get(c, "{:.1f}").format(row[c]) for c in COLUMNS]
        lines.append(f"| {row['variant']} ({row['description']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(recipe: Recipe) -> tuple[Path, list[dict]]:
    """``ablation.md`` and ``ablation.json`` in the ablation folder, and a W&B table with
    ``eval.report_to`` wandb; returns the markdown's path and the rows."""
    rows = table_rows(recipe)
    root = ablation_dir(recipe)
    (root / "ablation.json").write_text(json.dumps(rows, indent=2))
    (root / "ablation.md").write_text(markdown(rows))
    if "wandb" in recipe.eval.report_to:
        from mcr.runtime import configure_wandb

        configure_wandb(recipe.eval.report_to, str(root))
        import wandb

        run = wandb.init(name=f"{recipe.name}-ablation", job_type="ablation", config={"recipe": recipe.name})
        names = ["variant", "description", *COLUMNS]
        run.log({"ablation": wandb.Table(columns=names, data=[[row[n] for n in names] for row in rows])})
        run.finish()
    return root / "ablation.md", rows
