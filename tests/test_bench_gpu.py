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
    gpu = load_bench("gpu")
    tokenizer = build_tokenizer(TinySpec(vocab_size=600, tokenizer_corpus_size=40), seed=0, fill_to=151_643)
    # parameter counts of the public Qwen2.5-VL-7B-Instruct / -3B-Instruct safetensors
    for size, parameters in {"7b": 8_292_166_656, "3b": 3_754_622_976}.items():
        config = gpu.qwen25vl_config(gpu.SHAPES[size], tokenizer)
        with torch.device("meta"):
            model = Qwen2_5_VLForConditionalGeneration(config)
        assert model.num_parameters() == parameters
        # the filled vocabulary puts the vision tokens at Qwen's own ids
        vision_ids = (config.image_token_id, config.video_token_id, config.vision_start_token_id)
        assert vision_ids == (151655, 151656, 151652)
        text = config.text_config
        assert sum(text.rope_parameters["mrope_section"]) == text.hidden_size // text.num_attention_heads // 2


def test_report_reads_the_measured_steps():
    gpu = load_bench("gpu")
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
    s = gpu.summarize_grpo(result)  # the warm-up step is left out
    assert s["steps_measured"] == 1 and s["step_s"] == 20.0 and s["generation_s"] == 13.0
    assert s["forward_backward_s"] == pytest.approx(20.0 - 14.0 - 0.05)
    assert s["other_prepare_s"] == pytest.approx(14.0 - 13.0 - 0.2)
    assert s["rewards_glue_pct"] == pytest.approx(100 * 0.25 / 20)
    assert s["generated_tokens_per_s"] == pytest.approx(4096 / 20) and s["total_tokens_per_s"] == 640
    assert s["completion_lengths"] == [256]


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
        "900",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "work" / "gpu_bench.json").read_text())
    by_name = {r.get("name", r["kind"]): r for r in report["results"]}
    assert set(by_name) == {
        "grpo-tiny-gc-b8",
        "eval-tiny",
        "capacity",
        "grpo-tiny-gc-b8-1280x960",
        "grpo-tiny-nogc-b8",
    }
    for name in ("grpo-tiny-gc-b8", "grpo-tiny-nogc-b8", "grpo-tiny-gc-b8-1280x960"):
        steps = by_name[name]["steps"]
        assert [s["step"] for s in steps] == [1, 2]
        for s in steps:  # groups of 8 x 2 prompts, every completion forced to the same length
            assert s["completions"] == 16 and s["min_length"] == s["max_length"] == length
            assert s["generated"] == 16 * length and s["total"] > s["generated"]
            assert 0 < s["generation_s"] < s["prepare_s"] < s["wall_s"] and s["rewards_s"] > 0
    # 1280x960 images resized down to the recipe's max_pixels (728x532): 494 visual tokens, 640x480 391
    assert by_name["grpo-tiny-gc-b8-1280x960"]["visual_tokens"] == 494
    assert by_name["grpo-tiny-gc-b8"]["visual_tokens"] == 391
    big, small = by_name["grpo-tiny-gc-b8-1280x960"]["steps"][0], by_name["grpo-tiny-gc-b8"]["steps"][0]
    assert big["total"] - small["total"] > 16 * (494 - 391) * 0.9
    evaluation = by_name["eval-tiny"]
    assert evaluation["samples"] == 8 and evaluation["generate_calls"] == 2
    assert evaluation["generated"] == 8 * length and evaluation["prompt_tokens"] > 8 * 391
    assert by_name["capacity"]["skipped"].startswith("no GPU")
    assert report["env"]["reward_cost"]["rewards"] == 9 and report["env"]["reward_cost"]["completions"] == 16
    text = out.read_text()
    assert "| TINY | on | 16 | 1 |" in text and "| TINY | off | 16 | 1 |" in text
    assert (
        "images resized to the recipe's max_pixels (494 visual tokens each), batch 8: 2 steps without" in text
    )
    assert "640x480 images (391 visual tokens)" in text
    assert "TINY, batch 4, greedy, 12 new tokens, 8 posts:" in text
    assert "Skipped: no GPU" in text and "EasyR1" in text
