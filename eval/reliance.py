"""Modality reliance: how a checkpoint's answers change when one modality is taken away.

Each probe (``eval.probes``) re-runs the same checkpoint on altered inputs built by the
benchmark (its declared ``probes`` and ``probe_rows``; see ``mcr.benchmarks.reliance_inputs``) and
compares with its answers on the original inputs, both scored against the original gold. For a
benchmark whose answers are entities (it declares ``answered``: GMNER, MNER-MI), per probe:

* ``f1_drop``: the headline F1 on the original inputs minus the F1 under the probe (points);
* ``agreement``: of the (post, span, type) triples answered with or without the probe, the
  share answered both ways (intersection over union; 1.0 when neither answers anything);
* ``boxed``: the share of answered entities given a box (``blank_image``: every box is drawn on
  nothing, so this measures reliance on the text alone);
* ``absent``: the share of answered entities whose span is not in the probe's text
  (``masked_text``: the names were masked, so these come from the image or from memory).

For any other benchmark, the first headline figure under the probe and its drop: for MATE (the
pointer's or the target's modality taken away) ``accuracy`` and ``accuracy_drop``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mcr.benchmarks import Benchmark
from mcr.image_space import ImageSpace


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _answers(benchmark: Benchmark, rows: Sequence[dict], completions: Sequence[str]) -> dict[str, list]:
    return {row["id"]: benchmark.answered(text) or [] for row, text in zip(rows, completions, strict=True)}


def compare(
    benchmark: Benchmark,
    probe: str,
    metrics: dict,
    probed_metrics: dict,
    rows: Sequence[dict],
    completions: Sequence[str],
    probed_rows: Sequence[dict],
    probed: Sequence[str],
) -> dict[str, float]:
    """One probe's figures for one checkpoint (see the module's docstring)."""
    (headline, *_) = benchmark.headline(metrics)
    before, after = benchmark.headline(metrics)[headline], benchmark.headline(probed_metrics)[headline]
    if benchmark.answered is None:  # answers are not entities: the headline's drop alone
        key = headline.lower().replace(" ", "_")
        return {key: after, f"{key}_drop": round(before - after, 2)}
    original, changed = _answers(benchmark, rows, completions), _answers(benchmark, probed_rows, probed)
    both = {(i, span, etype) for i, answers in original.items() for span, etype, _ in answers}
    with_probe = {(i, span, etype) for i, answers in changed.items() for span, etype, _ in answers}
    answered = [a for answers in changed.values() for a in answers]
    texts = {row["id"]: f" {' '.join(row['text'].split())} " for row in probed_rows}
    absent = sum(f" {span} " not in texts[i] for i, answers in changed.items() for span, _, _ in answers)
    union = both | with_probe
    return {
        "f1": after,
        "f1_drop": round(before - after, 2),
        "agreement": _share(len(both & with_probe), len(union)) if union else 1.0,
        "boxed": _share(sum(boxed for _, _, boxed in answered), len(answered)),
        "absent": _share(absent, len(answered)),
        "answered": len(answered),
    }


def run_probes(
    benchmark: Benchmark,
    probes: Sequence[str],
    examples: list,
    rows: list[dict],
    completions: list[str],
    metrics: dict,
    complete: Callable[..., list[str]],
    space: ImageSpace,
    samples: int | None,
) -> dict[str, dict[str, float]]:
    """Every probe of ``probes`` the benchmark supports, on its first ``samples`` rows."""
    n = len(rows) if samples is None else min(samples, len(rows))
    subset_rows, subset_completions = rows[:n], completions[:n]
    ids = {row["id"] for row in subset_rows}
    subset_examples = [e for e in examples if e.id in ids]
    base = metrics if n == len(rows) else benchmark.score(subset_examples, subset_rows, subset_completions)
    figures: dict[str, dict[str, Any]] = {}
    for probe in probes:
        if probe not in benchmark.probes:
            continue
        probed_rows = benchmark.probe_rows(subset_examples, subset_rows, probe, space)
        probed = complete(probed_rows, desc=f"{benchmark.name} {probe}")
        probed_metrics = benchmark.score(subset_examples, probed_rows, probed)
        figures[probe] = {
            **compare(
                benchmark, probe, base, probed_metrics, subset_rows, subset_completions, probed_rows, probed
            ),
            "examples": n,
        }
    return figures


def reliance_table(results: dict[str, dict]) -> str:
    """One line per checkpoint and probe, one column per figure; empty without probes."""
    lines = [
        (label, probe, figures)
        for label, m in results.items()
        for probe, figures in m.get("reliance", {}).items()
    ]
    if not lines:
        return ""
    keys = list(dict.fromkeys(k for _, _, figures in lines for k in figures if k != "examples"))
    header = f"{'checkpoint':<22}{'probe':<16}" + "".join(f"{k:>13}" for k in keys)
    rows = [
        f"{label:<22}{probe:<16}"
        + "".join(f"{figures[k]:>13.3f}" if k in figures else f"{'':>13}" for k in keys)
        for label, probe, figures in lines
    ]
    return "\n".join([header, "-" * len(header), *rows])
