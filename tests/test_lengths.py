"""Sequence lengths with image tokens, and the checks that refuse a run before its first step."""

from __future__ import annotations

from types import SimpleNamespace

import datasets
import pytest
from PIL import Image
from trl.data_utils import prepare_multimodal_messages

from mcr.benchmarks.gmner.release import load_twitter_gmner
from mcr.benchmarks.gmner.rows import rows as gmner_rows
from mcr.benchmarks.gmner.rows import sft_example
from mcr.benchmarks.gmner.synthetic import Layout, write_synthetic_gmner
from mcr.config import load_recipe
from mcr.data.rows import rows_dataset
from mcr.image_space import ImageSpace
from mcr.lengths import (
    SequenceTooLong,
    check_grpo_lengths,
    check_lengths,
    check_sft_lengths,
    max_image_tokens,
    sequence_lengths,
)
from mcr.models import load_processor

MAX_PIXELS = 401_408  # mcr_qwen's: up to 512 visual tokens
SPACE = ImageSpace(3136, MAX_PIXELS)


@pytest.fixture(scope="module")
def big_images(tmp_path_factory):
    root = tmp_path_factory.mktemp("big") / "gmner"
    write_synthetic_gmner(root, n=12, seed=1, layout=Layout("big", ((640, 480), (1280, 960))), progress=False)
    return load_twitter_gmner(root, "train", images=root / "images")


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    return load_processor(str(tiny_model_dir), min_pixels=3136, max_pixels=MAX_PIXELS)


def test_prompt_lengths_equal_the_processors_own(processor, big_images):
    rows = gmner_rows(big_images, SPACE)
    lengths = sequence_lengths(processor, rows, min_pixels=3136, max_pixels=MAX_PIXELS)
    assert {tuple(r["input_size"]) for r in rows} == {(644, 476), (728, 532)}  # both sizes present
    for row, (prompt, image, completion) in zip(rows, lengths, strict=True):
        with Image.open(row["image"]) as img:
            picture = img.convert("RGB")
        text = processor.apply_chat_template(
            [prepare_multimodal_messages(row["prompt"], images=[picture])],
            add_generation_prompt=True,
            tokenize=False,
        )
        real = processor(text=text, images=[picture], return_tensors="pt")["input_ids"].shape[1]
        assert prompt == real
        w, h = row["input_size"]
        assert image == (w // 28) * (h // 28) <= max_image_tokens(processor, MAX_PIXELS) == 512
        assert completion == 0


def test_sft_lengths_count_the_completion(processor, big_images):
    example = sft_example(big_images[0], "checklist", SPACE)
    (with_completion,) = sequence_lengths(processor, [example], min_pixels=3136, max_pixels=MAX_PIXELS)
    without = {**example, "completion": None}
    (prompt_only,) = sequence_lengths(processor, [without], min_pixels=3136, max_pixels=MAX_PIXELS)
    content = example["completion"][0]["content"]
    expected = len(processor.tokenizer(content + "<|im_end|>\n", add_special_tokens=False)["input_ids"])
    assert with_completion[:2] == prompt_only[:2] and with_completion[2] == expected > 20


def test_too_long_names_the_records_and_what_to_change(processor, big_images):
    rows = gmner_rows(big_images, SPACE)
    lengths = sequence_lengths(processor, rows, min_pixels=3136, max_pixels=MAX_PIXELS)
    longest = max(p for p, _, _ in lengths)
    # exactly at the limit passes; one token less refuses, naming the longest record
    check_lengths(
        processor,
        rows,
        limit=longest + 64,
        limit_name="x",
        completion_budget=64,
        min_pixels=3136,
        max_pixels=MAX_PIXELS,
    )
    with pytest.raises(SequenceTooLong) as err:
        check_lengths(
            processor,
            rows,
            limit=longest + 63,
            limit_name="grpo.vllm_max_model_length",
            completion_budget=64,
            min_pixels=3136,
            max_pixels=MAX_PIXELS,
        )
    message = str(err.value)
    worst = rows[[p for p, _, _ in lengths].index(longest)]["id"]
    assert f"record {worst}: {longest + 64} tokens" in message
    assert "grpo.vllm_max_model_length=" in message and "model.max_pixels (now 401408: up to 512" in message
    assert message.startswith(f"{sum(p + 64 > longest + 63 for p, _, _ in lengths)} of {len(rows)} examples")


def test_a_missing_image_placeholder_is_refused(processor, big_images):
    (row,) = gmner_rows(big_images[:1], SPACE)
    row["prompt"][0]["content"] = [c for c in row["prompt"][0]["content"] if c["type"] != "image"]
    with pytest.raises(SequenceTooLong, match=r"0 image placeholder\(s\) for 1 image"):
        sequence_lengths(processor, [row], min_pixels=3136, max_pixels=MAX_PIXELS)


def test_grpo_check_reads_the_models_positions_and_vllms_limit(processor, big_images, tiny_model_dir):
    recipe = load_recipe(["recipe=tiny", f"model.max_pixels={MAX_PIXELS}"])
    dataset = rows_dataset(gmner_rows(big_images, SPACE))
    # the GRPOConfig fields the check reads
    args = SimpleNamespace(max_completion_length=256, use_vllm=False, vllm_max_model_length=None)
    check_grpo_lengths(processor, dataset, str(tiny_model_dir), args, recipe)  # 4,096 positions: fits
    with pytest.raises(SequenceTooLong, match=r"the model's max_position_embeddings=4096"):
        check_grpo_lengths(
            processor,
            dataset,
            str(tiny_model_dir),
            SimpleNamespace(**{**vars(args), "max_completion_length": 3_600}),
            recipe,
        )
    vllm = SimpleNamespace(**{**vars(args), "use_vllm": True, "vllm_max_model_length": 600})
    with pytest.raises(SequenceTooLong, match=r"grpo\.vllm_max_model_length=600"):
        check_grpo_lengths(processor, dataset, str(tiny_model_dir), vllm, recipe)


def test_sft_check_refuses_before_training_and_reads_image_files(processor, big_images, tmp_path):
    recipe = load_recipe(["recipe=tiny", f"model.max_pixels={MAX_PIXELS}"])
    examples = [sft_example(r, "verify", SPACE) for r in big_images[:4]]
    # without the sizes a row carries, the check reads them from the embedded image bytes
    dataset = rows_dataset(examples).remove_columns(["image_size", "input_size"])
    dataset.save_to_disk(str(tmp_path / "d1"))  # as prepare_mrsi keeps it
    dataset = datasets.load_from_disk(str(tmp_path / "d1"))
    args = SimpleNamespace(max_length=2048)  # the SFTConfig fields the check reads
    check_sft_lengths(processor, dataset, args, recipe)
    check_sft_lengths(processor, dataset, SimpleNamespace(max_length=None), recipe)  # no limit
    with pytest.raises(SequenceTooLong, match=r"exceed sft\.max_length=512 tokens .*record S_0: "):
        check_sft_lengths(processor, dataset, SimpleNamespace(max_length=512), recipe)
