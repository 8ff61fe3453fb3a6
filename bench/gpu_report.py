"""The GPU bench's report: the machine it ran on, each measurement summarised, and the Markdown
page (docs/performance.md when it runs on a GPU) with a table per kind of measurement, the
generation paths' first."""

from __future__ import annotations

import datetime
import platform
import statistics

from gpu_timing import GIB

ANCHORS = {
    "EasyR1": "EasyR1: 8xH100, vLLM, tensor parallel 2, 5 generations, 2,048-token responses: "
    "1,800 tokens/s/GPU (3B), 1,600-2,000 (7B)",
    "VLM-R1": "VLM-R1: 8xA100, HF generation, 3B, 7 generations: 25-30 s per step",
}
VERSIONS = ("torch", "transformers", "trl", "peft", "accelerate", "datasets", "vllm", "flash-attn")


def environment() -> dict:
    """The machine and the versions of what the measurements run on."""
    import importlib.metadata as md

    import torch

    def version(name: str) -> str:
        try:
            return md.version(name)
        except md.PackageNotFoundError:
            return "absent"

    device = "cuda" if torch.cuda.is_available() else "cpu"
    return {
        "date": datetime.date.today().isoformat(),
        "device": device,
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "gpu_memory_gib": round(torch.cuda.get_device_properties(0).total_memory / GIB, 1)
        if device == "cuda"
        else None,
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cuda": torch.version.cuda,
        **{name: version(name) for name in VERSIONS},
    }


def summarize_grpo(result: dict) -> dict | None:
    """Means over the measured steps (the first warms up kernels, caches and compiled graphs); a
    path that generates every other step is measured over whole cycles, so its means spread each
    generation over the steps it serves."""
    steps = result.get("steps") or []
    measured = steps[1:] or steps
    if not measured:
        return None

    def mean(key: str) -> float:
        return statistics.fmean(s.get(key, 0.0) for s in measured)

    step, generation, rewards = mean("wall_s"), mean("generation_s"), mean("rewards_s")
    prepare, callbacks = mean("prepare_s"), mean("mcr_callbacks_s")
    return {
        "step_s": step,
        "generation_s": generation,
        "generation_pct": 100 * generation / step,
        "merge_s": mean("merge_s"),
        "rewards_s": rewards,
        "mcr_callbacks_s": callbacks,
        "other_prepare_s": max(0.0, prepare - generation - rewards),
        "forward_backward_s": max(0.0, step - prepare - callbacks),
        "rewards_glue_pct": 100 * (rewards + callbacks) / step,
        "completions": mean("completions"),
        "generated_tokens_per_s": mean("generated") / step,
        "generation_tokens_per_s": mean("generated") / generation if generation else 0.0,
        "total_tokens_per_s": mean("total") / step,
        "completion_lengths": sorted(  # steps that generated (one in two where a call serves two)
            {s[key] for s in steps for key in ("min_length", "max_length") if key in s}
        ),
        "steps_measured": len(measured),
    }


def _gib(peak: dict | None, key: str = "allocated_gib") -> str:
    return f"{peak[key]:.1f}" if peak and key in peak else "n/a"


def _is_path_row(r: dict) -> bool:
    return r.get("kind") == "grpo" and "path" in r


def _paths_table(results: list[dict]) -> list[str]:
    """One row per (model, generation path), in the order measured; skipped and failed paths too."""
    from gpu_paths import BY_NAME

    rows = [r for r in results if _is_path_row(r)]
    if not rows:
        return []
    lines = [
        "## Generation paths: GRPO seconds per optimizer step",
        "",
        "Each path is `recipe=mcr_qwen` (gradient checkpointing on, 640x480 images) with the overrides "
        "shown, measured in a process of its own; docs/generation.md says what each key does.",
        "",
        "| model | path | overrides | steps measured | step s | generation s (share) | generated tok/s | "
        "generation tok/s | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        path = BY_NAME.get(r["path"])
        overrides = ", ".join(f"`{o}`" for o in path.overrides) if path and path.overrides else "-"
        label = f"{r['size'].upper()} | {r['path']} | {overrides}"
        if "skipped" in r:
            lines.append(f"| {label} | skipped: {r['skipped']} ||||||")
            continue
        s = summarize_grpo(r)
        if s is None:
            lines.append(f"| {label} | failed: {r.get('oom') or r.get('error')} ||||||")
            continue
        lines.append(
            f"| {label} | {s['steps_measured']} | {s['step_s']:.2f} | "
            f"{s['generation_s']:.2f} ({s['generation_pct']:.0f}%) | {s['generated_tokens_per_s']:.0f} | "
            f"{s['generation_tokens_per_s']:.0f} | {_gib(r.get('peak'))} |"
        )
    described = dict.fromkeys(r["path"] for r in rows)
    lines += [
        "",
        "Generation s: TRL's `transformers.generate` span, plus merging and restoring the adapters where the "
        "path merges them; generated tok/s: completion tokens per second of the whole step, per GPU; "
        "generation tok/s: the same per second of generation. A path generating two optimizer steps' "
        "completions in one call is measured over whole cycles (one step generating, one not).",
        "",
        *(f"- `{name}`: {BY_NAME[name].what}." for name in described if name in BY_NAME),
    ]
    return [*lines, ""]


def render_report(report: dict) -> str:
    env, settings, results = report["env"], report["settings"], report["results"]
    where = (
        f"{env['gpu']} ({env['gpu_memory_gib']} GiB)" if env["gpu"] else f"CPU ({env['cpu']}), tiny shapes"
    )
    versions = ", ".join(f"{k} {env[k]}" for k in ("python", "cuda", *VERSIONS))
    cap = settings["memory_cap_gib"]
    first_tokens = next((r["visual_tokens"] for r in results if r.get("image_size") == [640, 480]), "n/a")
    lines = [
        "# Performance on one GPU: real-size GRPO and evaluation",
        "",
        f"Measured {env['date']} on {where} by "
        + "; ".join(f"`python bench/gpu.py {' '.join(run['argv'])}`" for run in report.get("runs", []))
        + ".",
        f"Software: {versions}. Attention: SDPA unless flash-attn is installed; vLLM "
        f"{'absent: generation is transformers `generate`' if env['vllm'] == 'absent' else env['vllm']}.",
        f"Setting: `recipe=mcr_qwen` as written (LoRA r=64 on the language model, bf16, groups of "
        f"{8}, gradient accumulation 2, beta 0) with random weights of the published shapes; "
        f"{settings['completion_length']}-token completions (forced); synthetic GMNER posts with 640x480 "
        f"images ({first_tokens} visual tokens). GPU memory capped at {cap:.1f} GiB, an H100 80GB's, "
        "where the GPU has more. One optimizer step = per-device batch x 2 completions; the first step "
        "is left out. A generation path adds its overrides to the recipe.",
        "",
        *_paths_table(results),
        "## GRPO: seconds per optimizer step",
        "",
        "| model | grad. ckpt | completions / step | steps measured | step s | generation s | "
        "forward+backward+optimizer s | other TRL s | rewards + MCR glue s (%) | generated tok/s | "
        "total tok/s | peak GiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.get("kind") != "grpo" or r.get("path", "default") != "default" or "skipped" in r:
            continue
        if "-capacity" in r.get("name", "") or "1280x960" in r.get("name", ""):
            continue
        s = summarize_grpo(r)
        label = f"{r['size'].upper()} | {'on' if r['gradient_checkpointing'] else 'off'}"
        if s is None:
            lines.append(
                f"| {label} | {r['batch'] * 2} | failed: {r.get('oom') or r.get('error')} ||||||||| "
            )
            continue
        lines.append(
            f"| {label} | {s['completions']:.0f} | {s['steps_measured']} | {s['step_s']:.2f} | "
            f"{s['generation_s']:.2f} | "
            f"{s['forward_backward_s']:.2f} | {s['other_prepare_s']:.2f} | "
            f"{s['rewards_s'] + s['mcr_callbacks_s']:.3f} ({s['rewards_glue_pct']:.2f}%) | "
            f"{s['generated_tokens_per_s']:.0f} | {s['total_tokens_per_s']:.0f} | {_gib(r.get('peak'))} |"
        )
    notes = [
        f"{r['name']} log tail:\n\n```\n{r['log_tail'][-1500:]}\n```" for r in results if r.get("log_tail")
    ]
    lines += [
        "",
        "Generated tok/s: completion tokens per second of the whole step, per GPU; total tok/s: prompt "
        "(image tokens included) plus completion tokens per second of the step, per GPU. Anchors: "
        f"{ANCHORS['EasyR1']} (vLLM and 2,048-token responses amortise the prompt and batch generation far "
        f"better than transformers `generate`); {ANCHORS['VLM-R1']} (8 GPUs share a step there; "
        "here one GPU does all of it).",
    ]
    cost = env.get("reward_cost")
    first = next((summarize_grpo(r) for r in results if r.get("kind") == "grpo" and summarize_grpo(r)), None)
    if cost and first:
        lines += [
            "",
            f"The recipe's {cost['rewards']} rewards on {cost['completions']} well-formed completions (MRSI "
            "renderings of the gold, so every reward parses and matches: the costliest case; random weights "
            f"write unparsable text) take {1000 * cost['seconds']:.1f} ms, "
            f"{100 * cost['seconds'] / first['step_s']:.3f}% of the first row's step.",
        ]
    for r in results:
        if r.get("kind") == "grpo" and "1280x960" in r.get("name", ""):
            s = summarize_grpo(r)
            lines += ["", "## The recipe's largest images", ""]
            if s:
                lines.append(
                    f"{r['size'].upper()}, 1280x960 images resized to the recipe's max_pixels "
                    f"({r['visual_tokens']} visual tokens each), batch {r['batch']}: "
                    f"{len(r['steps'])} steps without error, "
                    f"{s['step_s']:.2f} s a step, peak {_gib(r.get('peak'))} GiB."
                )
            else:
                lines.append(
                    f"{r['size'].upper()}, 1280x960 images: failed: {r.get('oom') or r.get('error')}"
                )
    for r in results:
        if r.get("kind") == "capacity":
            lines += ["", "## Memory: the largest per-device batch", ""]
            if "skipped" in r:
                lines.append(f"Skipped: {r['skipped']}.")
                continue
            tried = "; ".join(
                f"{t['batch']} completions: {'fits' if t['fits'] else 'does not fit'}"
                + (f" (peak {_gib(t['peak'])} GiB)" if t["fits"] else "")
                for t in r["tried"]
            )
            lines.append(
                f"{r['size'].upper()} GRPO with gradient checkpointing under the {cap:.1f} GiB cap: "
                f"{tried}. Largest that fits: {r['largest_fitting'] or 'none tried'} completions per device "
                f"(one step = 2 x that many completions, generated together)"
                + (
                    f"; {settings['max_batch']} was the search's ceiling (--max-batch), not the memory's."
                    if r["largest_fitting"] == settings["max_batch"]
                    else "."
                )
            )
    for r in results:
        if r.get("kind") == "eval":
            lines += ["", "## Evaluation throughput (`eval/evaluate.py`)", ""]
            if "error" in r:
                lines.append(f"{r['size'].upper()}: failed: {r['error']}")
                continue
            samples_s = r["samples"] / r["seconds"]
            tokens_s = (r["prompt_tokens"] + r["generated"]) / r["seconds"]
            lines.append(
                f"{r['size'].upper()}, batch {r['batch']}, greedy, "
                f"{settings['completion_length']} new tokens, "
                f"{r['samples']} posts: {samples_s:.2f} samples/s, {r['generated'] / r['seconds']:.0f} "
                f"generated tok/s, {tokens_s:.0f} total tok/s, peak {_gib(r.get('peak'))} GiB "
                f"({r['seconds']:.1f} s for {r['generate_calls']} batches; transformers `generate`, no vLLM)."
            )
    lines += ["", "## Models", ""]
    for size, info in report["models"].items():
        lines.append(
            f"- {size.upper()}: {info['parameters'] / 1e9:.2f}B parameters, built on {env['device']} in "
            f"{info['build_s']} s, saved in {info['save_s']} s."
        )
    done = {r.get("name") or r.get("kind") for r in results}
    lines += ["", f"Measurements finished: {len(results)} ({', '.join(sorted(map(str, done)))})."]
    if notes:
        lines += ["", "## Failures", "", *notes]
    return "\n".join(lines) + "\n"
