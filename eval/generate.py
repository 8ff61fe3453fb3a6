"""The one generation loop of every evaluation: batched, left-padded, data-parallel over processes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from accelerate import PartialState
from accelerate.utils import gather_object
from tqdm import tqdm
from trl.data_utils import prepare_multimodal_messages

from mcr.data.rows import row_images


def prompt_inputs(processor: Any, rows: Sequence[dict]) -> Any:
    """The model's inputs for the rows' prompts (chat template, generation prompt, their images),
    left-padded as the processor is set."""
    images = [row_images(row) for row in rows]
    messages = [
        prepare_multimodal_messages(row["prompt"], images=imgs)
        for row, imgs in zip(rows, images, strict=True)
    ]
    texts = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return processor(
        text=texts, images=[i for imgs in images for i in imgs], return_tensors="pt", padding=True
    )


def generate(
    model: Any,
    processor: Any,
    rows: Sequence[dict],
    *,
    batch_size: int = 16,
    max_new_tokens: int = 256,
    do_sample: bool = False,
    temperature: float = 1.0,
    desc: str = "generate",
) -> list[str]:
    """Completions for ``rows`` (each with a conversational ``prompt`` and its ``image``, one or a
    list), in order.

    Launched with several processes, each generates for its share of the rows and every
    process returns the whole list.
    """
    state = PartialState()
    indexed = list(enumerate(rows))
    outputs: list[tuple[int, str]] = []
    with state.split_between_processes(indexed) as shard:
        batches = [shard[i : i + batch_size] for i in range(0, len(shard), batch_size)]
        for batch in tqdm(batches, desc=desc, disable=not state.is_local_main_process):
            inputs = prompt_inputs(processor, [row for _, row in batch]).to(model.device)
            kwargs = {"do_sample": do_sample, "max_new_tokens": max_new_tokens}
            if do_sample:
                kwargs["temperature"] = temperature
            with torch.inference_mode():
                out = model.generate(**inputs, **kwargs)
            completions = processor.batch_decode(
                out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True
            )
            outputs += [(i, text) for (i, _), text in zip(batch, completions, strict=True)]
    if state.num_processes > 1:
        outputs = gather_object(outputs)
    return [text for _, text in sorted(outputs)]
