"""bench/gpu.py: the published Qwen2.5-VL shapes, and the whole script at tiny sizes on the CPU."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from transformers import Qwen2_5_VLForConditionalGeneration

from mcr.tiny_model import TinySpec, build_tokenizer

from helpers.runs import REPO, load_bench


def test_published_shapes_give_the_published_models():
    checkpoints = load_bench("gpu_checkpoints")
    tokenizer = build_tokenizer(TinySpec(vocab_size=600, tokenizer_corpus_size=40), seed=0, fill_to=151_643)
    # parameter counts of the public Qwen2.5-VL-7B-Instruct / -3B-Instruct safetensors
    for size, parameters in {"7b": 8_292_166_656, "3b": 3_754_622_976}.items():
        config = checkpoints.qwen25vl_config(checkpoints.SHAPES[size], tokenizer)
        with torch.device("meta"):
            model = Qwen2_5_VLForConditionalGeneration(config)
        assert model.num_parameters() == parameters
        # the filled vocabulary puts the vision tokens at Qwen's own ids
        vision_ids = (config.image_token_id, config.video_token_id, config.vision_start_token_id)
        assert vision_ids == (151655, 151656, 151652)
        text = config.text_config
        assert sum(text.rope_parameters["mrope_section"]) == text.hidden_size // text.num_attention_heads // 2


# docs/DESIGN.md's table of the real-size shapes (the public config.json values)
PUBLISHED = {
    "7b": {
        "text": (3584, 18944, 28, 28, 4, 152_064, False),
        "out_hidden_size": 3584,
        "max_window_layers": 28,
    },
    "3b": {
        "text": (2048, 11008, 36, 16, 2, 151_936, True),
        "out_hidden_size": 2048,
        "max_window_layers": 70,
    },
}


@pytest.mark.parametrize("size", ["7b", "3b"])
def test_the_family_builder_gives_the_published_configs(size):
    """The bench's configs come from the Qwen2.5-VL family's own builder (mcr.families), the one the
    tiny model is built with, given the published sizes: every value of the published config."""
    checkpoints = load_bench("gpu_checkpoints")
    tokenizer = build_tokenizer(TinySpec(vocab_size=600, tokenizer_corpus_size=40), seed=0, fill_to=151_643)
    config = checkpoints.qwen25vl_config(checkpoints.SHAPES[size], tokenizer)
    expected = PUBLISHED[size]
    text, vision = config.text_config, config.vision_config
    assert (
        text.hidden_size,
        text.intermediate_size,
        text.num_hidden_layers,
        text.num_attention_heads,
        text.num_key_value_heads,
        text.vocab_size,
        config.tie_word_embeddings,
    ) == expected["text"]
    assert text.tie_word_embeddings == config.tie_word_embeddings
    assert text.rope_parameters["rope_theta"] == 1_000_000.0
    assert text.rope_parameters["mrope_section"] == [16, 24, 24]
    assert text.rope_parameters["rope_type"] == "default"
    assert (text.max_position_embeddings, text.rms_norm_eps, text.hidden_act) == (128_000, 1e-6, "silu")
    assert (text.max_window_layers, text.use_sliding_window) == (expected["max_window_layers"], False)
    assert (vision.depth, vision.hidden_size, vision.intermediate_size, vision.num_heads) == (
        32,
        1280,
        3420,
        16,
    )
    assert vision.out_hidden_size == expected["out_hidden_size"] and vision.window_size == 112
    assert vision.fullatt_block_indexes == [7, 15, 23, 31] and vision.hidden_act == "silu"
    assert (vision.patch_size, vision.spatial_merge_size, vision.temporal_patch_size) == (14, 2, 2)
    assert vision.tokens_per_second == 2


def test_report_reads_the_measured_steps():
    report = load_bench("gpu_report")
    step = {"completions": 16, "generated": 4096, "total": 12800, "min_length": 256, "max_length": 256}
    result = {
        "steps": [
            {
                "step": 1,
                "wall_s": 40.0,
                "prepare_s": 30.0,
                "generation_s": 29.0,
                "rewards_s": 0.5,
                "mcr_callbacks_s": 0.0,
                **step,
            },
            {
                "step": 2,
                "wall_s": 20.0,
                "prepare_s": 14.0,
                "generation_s": 13.0,
                "rewards_s": 0.2,
                "mcr_callbacks_s": 0.05,
                **step,
            },
        ]
    }
    s = report.summarize_grpo(result)  # the warm-up step is left out
    assert s["steps_measured"] == 1 and s["step_s"] == 20.0 and s["generation_s"] == 13.0
    assert s["generation_pct"] == pytest.approx(65.0)
    assert s["forward_backward_s"] == pytest.approx(20.0 - 14.0 - 0.05)
    assert s["other_prepare_s"] == pytest.approx(14.0 - 13.0 - 0.2)
    assert s["rewards_glue_pct"] == pytest.approx(100 * 0.25 / 20)
    assert s["generated_tokens_per_s"] == pytest.approx(4096 / 20) and s["total_tokens_per_s"] == 640
    assert s["completion_lengths"] == [256]


def test_a_path_generating_every_other_step_is_measured_over_whole_cycles():
    paths, report = load_bench("gpu_paths"), load_bench("gpu_report")
    big, default = paths.BY_NAME["big_batch"], paths.BY_NAME["default"]
    assert big.generation_every == 2 and "grpo.steps_per_generation=4" in big.overrides
    # the warm-up step, then whole cycles: one step generating, one reading what was generated
    assert [paths.steps_for(big, s) for s in (2, 3, 4)] == [3, 3, 5]
    assert [paths.steps_for(default, s) for s in (2, 3)] == [2, 3]
    generated = {"completions": 32, "generated": 8192, "total": 25600, "min_length": 256, "max_length": 256}
    plain = {"prepare_s": 0.5, "rewards_s": 0.0, "mcr_callbacks_s": 0.0}
    result = {
        "steps": [
            {"step": 1, "wall_s": 40.0, "generation_s": 30.0, **plain, **generated},
            {"step": 2, "wall_s": 8.0, "generation_s": 0.0, **plain},  # no generation: no counts
            {"step": 3, "wall_s": 28.0, "generation_s": 20.0, **plain, **generated},
        ]
    }
    s = report.summarize_grpo(result)
    assert s["steps_measured"] == 2 and s["step_s"] == 18.0 and s["generation_s"] == 10.0
    assert s["completions"] == 16 and s["generated_tokens_per_s"] == pytest.approx(4096 / 18)
    assert s["generation_tokens_per_s"] == pytest.approx(8192 / 20) and s["completion_lengths"] == [256]


def test_paths_skip_with_their_reason_and_the_report_has_a_row_each():
    paths, report = load_bench("gpu_paths"), load_bench("gpu_report")
    assert paths.BY_NAME["compiled"].skipped("cpu").startswith("no GPU: transformers compiles generate only")
    assert paths.BY_NAME["compiled"].skipped("cuda") is None
    assert paths.BY_NAME["merged_lora"].skipped("cpu") is None
    assert "refuses continuous batching for multimodal" in paths.BY_NAME["continuous_batching"].skipped(
        "cuda"
    )
    measured = {"step": 2, "wall_s": 10.0, "prepare_s": 6.0, "generation_s": 5.0, "rewards_s": 0.1}
    counts = {"mcr_callbacks_s": 0.0, "completions": 16, "generated": 2048, "total": 9000}
    ran = {"kind": "grpo", "size": "7b", "steps": [measured, {**measured, **counts}], "peak": {}}
    results = [
        {**ran, "path": "default", "gradient_checkpointing": True, "batch": 8, "name": "grpo-7b-gc-b8"},
        {**ran, "path": "merged_lora", "gradient_checkpointing": True, "batch": 8, "name": "m"},
        {"kind": "grpo", "size": "7b", "path": "compiled", "name": "c", "skipped": "no GPU: why"},
        {"kind": "grpo", "size": "7b", "path": "big_batch", "name": "b", "error": "exit status 1"},
    ]
    env = {"date": "d", "gpu": None, "cpu": "x", "python": "3", "cuda": None, "device": "cpu"}
    env |= dict.fromkeys(report.VERSIONS, "absent")
    settings = {"memory_cap_gib": 78.6, "completion_length": 256, "max_batch": 64}
    text = report.render_report({"env": env, "settings": settings, "results": results, "models": {}})
    assert "## Generation paths: GRPO seconds per optimizer step" in text
    assert "| 7B | default | - | 1 | 10.00 | 5.00 (50%) | 205 | 410 | n/a |" in text
    assert "| 7B | merged_lora | `grpo_generation.merge_lora=true` | 1 | 10.00 |" in text
    assert (
        "| 7B | compiled | `grpo.cache_implementation=static`, " in text
        and "| skipped: no GPU: why |" in text
    )
    assert "| 7B | big_batch | `grpo.steps_per_generation=4` | failed: exit status 1 |" in text
    assert "- `merged_lora`: LoRA merged into the weights while generating" in text
    # the recipe as written is also the first row of the GRPO table, the other paths are not
    assert text.count("| 7B | on | 16 | 1 | 10.00 |") == 1


def test_only_names_items_or_their_first_words():
    run = load_bench("gpu_run")
    assert run.selected("grpo 7b gc merged_lora", ["grpo 7b gc"])
    assert run.selected("grpo 7b gc merged_lora", ["grpo 7b gc merged_lora"])
    assert run.selected("grpo 7b no gc", ["grpo 7b"]) and run.selected("eval 7b", None)
    assert not run.selected("grpo 7b gc merged_lora", ["grpo 7b gc merged"])
    assert not run.selected("grpo 3b gc default", ["grpo 7b gc", "eval 7b"])


@pytest.mark.slow
def test_tiny_run_on_cpu_measures_and_reports_everything(tmp_path):
    out = tmp_path / "performance.md"
    length = 12
    command = [
        sys.executable,
        str(REPO / "bench" / "gpu.py"),
        "--tiny",
        "--work",
        str(tmp_path / "work"),
        "--out",
        str(out),
        "--completion-length",
        str(length),
        "--posts",
        "24",
        "--steps",
        "2",
        "--eval-samples",
        "8",
        "--eval-batch",
        "4",
        "--budget-s",
        "1200",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1500, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "work" / "gpu_bench.json").read_text())
    by_name = {r.get("name", r["kind"]): r for r in report["results"]}
    paths = load_bench("gpu_paths")
    ran = {"default", "merged_lora", "static_cache", "big_batch"}  # the others need a GPU or more
    path_runs = {f"grpo-tiny-gc-b8{'' if p.name == 'default' else '-' + p.name}": p for p in paths.PATHS}
    assert set(by_name) == {
        *path_runs,
        "eval-tiny",
        "capacity",
        "grpo-tiny-gc-b8-1280x960",
        "grpo-tiny-nogc-b8",
    }
    for name, path in path_runs.items():
        result = by_name[name]
        assert result["path"] == path.name
        if path.name not in ran:  # reported as skipped, with its reason
            assert result["skipped"] == path.skipped("cpu") and "steps" not in result
            continue
        assert "error" not in result and "skipped" not in result, name
    for name in (
        "grpo-tiny-gc-b8",
        "grpo-tiny-nogc-b8",
        "grpo-tiny-gc-b8-1280x960",
        *[n for n, p in path_runs.items() if p.name in ran - {"big_batch"}],
    ):
        steps = by_name[name]["steps"]
        assert [s["step"] for s in steps] == [1, 2], name
        for s in steps:  # groups of 8 x 2 prompts, every completion forced to the same length
            assert s["completions"] == 16 and s["min_length"] == s["max_length"] == length
            assert s["generated"] == 16 * length and s["total"] > s["generated"]
            assert 0 < s["generation_s"] < s["prepare_s"] < s["wall_s"] and s["rewards_s"] > 0
    assert all(s["merge_s"] > 0 for s in by_name["grpo-tiny-gc-b8-merged_lora"]["steps"])
    assert all(s["merge_s"] == 0 for s in by_name["grpo-tiny-gc-b8"]["steps"])
    # two optimizer steps' completions in one call: steps 1 and 3 generate 32, step 2 none
    big = by_name["grpo-tiny-gc-b8-big_batch"]["steps"]
    assert [s["step"] for s in big] == [1, 2, 3]
    assert [s.get("completions", 0) for s in big] == [32, 0, 32] and big[1]["generation_s"] == 0
    # 1280x960 images resized down to the recipe's max_pixels (728x532): 494 visual tokens, 640x480 391
    assert by_name["grpo-tiny-gc-b8-1280x960"]["visual_tokens"] == 494
    assert by_name["grpo-tiny-gc-b8"]["visual_tokens"] == 391
    big_images, small = (
        by_name["grpo-tiny-gc-b8-1280x960"]["steps"][0],
        by_name["grpo-tiny-gc-b8"]["steps"][0],
    )
    assert big_images["total"] - small["total"] > 16 * (494 - 391) * 0.9
    evaluation = by_name["eval-tiny"]
    assert evaluation["samples"] == 8 and evaluation["generate_calls"] == 2
    assert evaluation["generated"] == 8 * length and evaluation["prompt_tokens"] > 8 * 391
    assert by_name["capacity"]["skipped"].startswith("no GPU")
    assert report["env"]["reward_cost"]["rewards"] == 9 and report["env"]["reward_cost"]["completions"] == 16
    text = out.read_text()
    assert "| TINY | default | - | 1 |" in text
    assert "| TINY | merged_lora | `grpo_generation.merge_lora=true` | 1 |" in text
    assert "| TINY | static_cache | `grpo.cache_implementation=static` | 1 |" in text
    assert "| TINY | big_batch | `grpo.steps_per_generation=4` | 2 |" in text
    assert "| skipped: no GPU: transformers compiles generate only on an accelerator" in text
    assert (
        "| TINY | continuous_batching | `grpo.use_transformers_continuous_batching=true` | skipped: TRL"
        in text
    )
    assert "| TINY | on | 16 | 1 |" in text and "| TINY | off | 16 | 1 |" in text
    assert (
        "images resized to the recipe's max_pixels (494 visual tokens each), batch 8: 2 steps without" in text
    )
    assert "640x480 images (391 visual tokens)" in text
    assert "TINY, batch 4, greedy, 12 new tokens, 8 posts:" in text
    assert "Skipped: no GPU" in text and "EasyR1" in text
