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
from mcr.families import get_family
from mcr.image_space import ImageSpace
from mcr.lengths import (
    SequenceTooLong,
    check_grpo_lengths,
    check_lengths,
    check_sft_lengths,
    sequence_lengths,
)
from mcr.models import load_processor
from mcr.tiny_model import TinySpec, build_processor, build_tokenizer

MAX_PIXELS = 401_408  # mcr_qwen's: up to 512 visual tokens
SPACE = ImageSpace(3136, MAX_PIXELS)
SPACE_32 = ImageSpace.of(get_family("qwen3_vl"), 3136, MAX_PIXELS)  # 16-pixel patches merged 2x2


@pytest.fixture(scope="module")
def big_images(tmp_path_factory):
    root = tmp_path_factory.mktemp("big") / "gmner"
    write_synthetic_gmner(root, n=12, seed=1, layout=Layout("big", ((640, 480), (1280, 960))), progress=False)
    return load_twitter_gmner(root, "train", images=root / "images")


@pytest.fixture(scope="module")
def processor(tiny_model_dir):
    return load_processor(str(tiny_model_dir), min_pixels=3136, max_pixels=MAX_PIXELS)


def _processor_length(processor, row) -> int:
    """Prompt tokens of a row as the processor itself counts them."""
    with Image.open(row["image"]) as img:
        picture = img.convert("RGB")
    text = processor.apply_chat_template(
        [prepare_multimodal_messages(row["prompt"], images=[picture])],
        add_generation_prompt=True,
        tokenize=False,
    )
    return processor(text=text, images=[picture], return_tensors="pt")["input_ids"].shape[1]


def test_prompt_lengths_equal_the_processors_own(processor, big_images):
    rows = gmner_rows(big_images, SPACE)
    lengths = sequence_lengths(processor, rows, SPACE)
    assert {tuple(r["input_size"]) for r in rows} == {(644, 476), (728, 532)}  # both sizes present
    for row, (prompt, image, completion) in zip(rows, lengths, strict=True):
        assert prompt == _processor_length(processor, row)
        w, h = row["input_size"]
        assert image == (w // 28) * (h // 28) <= SPACE.max_visual_tokens == 512
        assert completion == 0


def test_sft_lengths_count_the_completion(processor, big_images):
    example = sft_example(big_images[0], "checklist", SPACE)
    (with_completion,) = sequence_lengths(processor, [example], SPACE)
    without = {**example, "completion": None}
    (prompt_only,) = sequence_lengths(processor, [without], SPACE)
    content = example["completion"][0]["content"]
    expected = len(processor.tokenizer(content + "<|im_end|>\n", add_special_tokens=False)["input_ids"])
    assert with_completion[:2] == prompt_only[:2] and with_completion[2] == expected > 20


def test_too_long_names_the_records_and_what_to_change(processor, big_images):
    rows = gmner_rows(big_images, SPACE)
    lengths = sequence_lengths(processor, rows, SPACE)
    longest = max(p for p, _, _ in lengths)
    # exactly at the limit passes; one token less refuses, naming the longest record
    check_lengths(
        processor,
        rows,
        limit=longest + 64,
        limit_name="x",
        completion_budget=64,
        space=SPACE,
    )
    with pytest.raises(SequenceTooLong) as err:
        check_lengths(
            processor,
            rows,
            limit=longest + 63,
            limit_name="grpo.vllm_max_model_length",
            completion_budget=64,
            space=SPACE,
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
        sequence_lengths(processor, [row], SPACE)


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


@pytest.fixture(scope="module")
def processor_32():
    """A Qwen3-VL processor (no model needed), resizing as ``SPACE_32``."""
    spec = TinySpec(
        family="qwen3_vl", vocab_size=600, tokenizer_corpus_size=40, min_pixels=3136, max_pixels=MAX_PIXELS
    )
    return build_processor(build_tokenizer(spec, 0), spec)


def test_a_32_pixel_familys_images_are_resized_and_counted_at_32(processor_32, big_images):
    """Qwen3-VL's images are resized to multiples of 32 and become one token per 32x32 pixels, from
    the rows' sizes and from the image files alike, as its processor counts them."""
    rows = gmner_rows(big_images, SPACE_32)
    assert {tuple(r["input_size"]) for r in rows} == {(640, 480), (704, 544)}
    lengths = sequence_lengths(processor_32, rows, SPACE_32)
    from_files = sequence_lengths(
        processor_32, [{k: v for k, v in r.items() if k != "input_size"} for r in rows], SPACE_32
    )
    assert from_files == lengths
    for row, (prompt, image, _) in zip(rows, lengths, strict=True):
        w, h = row["input_size"]
        assert image == (w // 32) * (h // 32) in (300, 374)
        assert prompt == _processor_length(processor_32, row)
    assert SPACE_32.max_visual_tokens == MAX_PIXELS // 32**2 == 392


def test_the_checks_count_in_the_recipes_family(processor_32, big_images, tiny_model_dir):
    """check_sft_lengths and check_grpo_lengths resize and count through ``recipe.image_space``:
    exactly at the limit passes, one token less is refused."""
    recipe = load_recipe(["recipe=tiny", "model.family=qwen3_vl", f"model.max_pixels={MAX_PIXELS}"])
    assert recipe.image_space == SPACE_32
    examples = [sft_example(r, "verify", SPACE_32) for r in big_images[:4]]
    longest = max(p + c for p, _, c in sequence_lengths(processor_32, examples, SPACE_32))
    # without the sizes, the check reads the images and resizes them as Qwen3-VL does
    dataset = rows_dataset(examples).remove_columns(["image_size", "input_size"])
    check_sft_lengths(processor_32, dataset, SimpleNamespace(max_length=longest), recipe)
    with pytest.raises(
        SequenceTooLong, match=r"model\.max_pixels \(now 401408: up to 392 tokens per image\)"
    ):
        check_sft_lengths(processor_32, dataset, SimpleNamespace(max_length=longest - 1), recipe)
    rows = gmner_rows(big_images, SPACE_32)
    longest = max(p for p, _, _ in sequence_lengths(processor_32, rows, SPACE_32)) + 64
    grpo = SimpleNamespace(max_completion_length=64, use_vllm=True, vllm_max_model_length=longest)
    # the tiny model's 4,096 positions bound nothing here: vLLM's limit does
    check_grpo_lengths(processor_32, rows_dataset(rows), str(tiny_model_dir), grpo, recipe)
    with pytest.raises(SequenceTooLong, match=r"grpo\.vllm_max_model_length="):
        check_grpo_lengths(
            processor_32,
            rows_dataset(rows),
            str(tiny_model_dir),
            SimpleNamespace(**{**vars(grpo), "vllm_max_model_length": longest - 1}),
            recipe,
        )
