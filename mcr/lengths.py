"""Token lengths of training examples, image tokens included, checked before the first step.

The processor expands each image placeholder into one token per ``factor`` x ``factor`` pixels
of the resized image (28 or 32 by family; ``model.max_pixels`` bounds it): the run's
``ImageSpace`` (``recipe.image_space``) both resizes and counts. A trainer that cuts a sequence
through those tokens fails mid-run with "Image features and image tokens do not match"; one that
cuts the completion trains on part of it without a word. So the entry points measure every
example once, up front, and refuse the run with the examples that do not fit and what to change.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from mcr.data.rows import row_images
from mcr.image_space import ImageSpace

# how many offending examples an error names before it summarises the rest
_NAMED = 5


class SequenceTooLong(ValueError):
    """Examples longer than a limit of the run."""


def _input_sizes(row: dict, space: ImageSpace) -> list[Sequence[int]]:
    """The resized size of each of the row's images: its ``input_size``, else read from the files."""
    sizes = row.get("input_size")
    if sizes:
        return list(sizes) if isinstance(sizes[0], list | tuple) else [sizes]
    images = row_images(row)
    files = [
        # a saved data set embeds the bytes and keeps only the file's name as its path
        (io.BytesIO(image["bytes"]) if image.get("bytes") else image["path"])
        if isinstance(image, dict)
        else image
        for image in images
    ]
    return [space.sizes(f)[1] for f in files]


def sequence_lengths(processor: Any, rows: Sequence[dict], space: ImageSpace) -> list[tuple[int, int, int]]:
    """(prompt tokens, of which image tokens, completion tokens) per row, as the model reads them.

    Rows hold a conversational ``prompt``, optionally a ``completion`` (SFT), and ``input_size``
    or ``image`` (path, or ``datasets`` ``{"path": ...}``); the chat template is the processor's,
    the resizing and the tokens per image ``space``'s (the recipe's ``image_space``).
    """
    tokenizer = processor.tokenizer
    image_id = tokenizer.convert_tokens_to_ids(processor.image_token)
    prompts = processor.apply_chat_template(
        [row["prompt"] for row in rows], add_generation_prompt=True, tokenize=False
    )
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    completions = [row.get("completion") or [] for row in rows]
    completion_texts = [
        "".join(f"{m['content']}<|im_end|>\n" for m in messages) if messages else ""
        for messages in completions
    ]
    completion_ids = tokenizer(completion_texts, add_special_tokens=False)["input_ids"]
    lengths = []
    for row, ids, completion in zip(rows, prompt_ids, completion_ids, strict=True):
        images = [space.visual_tokens(size) for size in _input_sizes(row, space)]
        placeholders = ids.count(image_id)
        if placeholders != len(images):
            raise SequenceTooLong(
                f"record {row.get('id', '?')}: the prompt has {placeholders} image placeholder(s) "
                f"for {len(images)} image(s)"
            )
        lengths.append((len(ids) - placeholders + sum(images), sum(images), len(completion)))
    return lengths


def check_lengths(
    processor: Any,
    rows: Sequence[dict],
    *,
    limit: int,
    limit_name: str,
    completion_budget: int | None = None,
    space: ImageSpace,
) -> list[tuple[int, int, int]]:
    """Refuse rows whose prompt plus completion exceeds ``limit`` tokens, naming them.

    The completion counts as ``completion_budget`` tokens when given (GRPO generates up to
    ``max_completion_length``), else as the row's own completion (SFT). Returns the lengths.
    """
    lengths = sequence_lengths(processor, rows, space)
    too_long = [
        (row.get("id", f"#{i}"), prompt, image, completion_budget if completion_budget is not None else done)
        for i, (row, (prompt, image, done)) in enumerate(zip(rows, lengths, strict=True))
        if prompt + (completion_budget if completion_budget is not None else done) > limit
    ]
    if too_long:
        named = "; ".join(
            f"record {rid}: {p + c} tokens (prompt {p}, of which {i} image tokens, + completion {c})"
            for rid, p, i, c in too_long[:_NAMED]
        )
        more = f"; and {len(too_long) - _NAMED} more" if len(too_long) > _NAMED else ""
        raise SequenceTooLong(
            f"{len(too_long)} of {len(rows)} examples exceed {limit_name}={limit} tokens and would be cut "
            f"(through their image tokens or their completion): {named}{more}. Raise {limit_name}, or "
            f"lower model.max_pixels (now {space.max_pixels}: up to {space.max_visual_tokens} tokens per "
            "image)."
        )
    return lengths


def _position_limit(model_path: str) -> int:
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model_path)
    return getattr(config, "text_config", config).max_position_embeddings


def check_grpo_lengths(processor: Any, dataset: Any, model_path: str, args: Any, recipe: Any) -> int:
    """GRPO generates up to ``max_completion_length`` tokens after each prompt, which must stay
    within the model's positions (and vLLM's ``vllm_max_model_length`` when it generates).
    Returns the longest prompt, in tokens."""
    limit, name = _position_limit(model_path), "the model's max_position_embeddings"
    if args.use_vllm and args.vllm_max_model_length is not None and args.vllm_max_model_length < limit:
        limit, name = args.vllm_max_model_length, "grpo.vllm_max_model_length"
    lengths = check_lengths(
        processor,
        dataset.select_columns(
            [c for c in ("id", "prompt", "input_size") if c in dataset.column_names]
        ).to_list(),
        limit=limit,
        limit_name=name,
        completion_budget=args.max_completion_length,
        space=recipe.image_space,
    )
    return max((prompt for prompt, _, _ in lengths), default=0)


def check_sft_lengths(processor: Any, dataset: Any, args: Any, recipe: Any) -> None:
    """SFT cuts examples longer than ``max_length``; refuse them instead (None: no limit)."""
    if args.max_length is None:
        return
    import datasets

    rows = dataset.cast_column("image", datasets.Image(decode=False))
    check_lengths(
        processor,
        rows.select_columns(
            [c for c in ("id", "prompt", "completion", "image") if c in rows.column_names]
        ).to_list(),
        limit=args.max_length,
        limit_name="sft.max_length",
        space=recipe.image_space,
    )
