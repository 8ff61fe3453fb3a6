"""Generation with vLLM (``eval.backend=vllm``), for evaluating large checkpoints on GPUs.

vLLM loads a full model folder, so a LoRA checkpoint (or a chain of them: SFT merged under
GRPO) is first merged with ``mcr export``'s code into ``<eval.output_dir>/merged/<label>``.
Prompts are the same chat-template text and images as the transformers backend, and images are
resized with the recipe's ``min_pixels``/``max_pixels`` so boxes live in the same pixel space.
vLLM parallelises inside one process (``eval.vllm.tensor_parallel_size``): launch this backend
with one process, not ``accelerate launch --num_processes N``.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trl.data_utils import prepare_multimodal_messages

from mcr.data.rows import row_images


def require_vllm() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError:
        raise RuntimeError(
            "eval.backend=vllm needs vLLM, which is not installed: pip install -e '.[vllm]' "
            "(on a machine with a CUDA GPU), or use eval.backend=hf"
        ) from None


def vllm_requests(processor: Any, rows: Sequence[dict]) -> list[dict]:
    """One vLLM prompt per row: the chat-template text with its images in prompt order."""
    requests = []
    for row in rows:
        images = row_images(row)
        messages = prepare_multimodal_messages(row["prompt"], images=images)
        text = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        requests.append(
            {"prompt": text, "multi_modal_data": {"image": images if len(images) > 1 else images[0]}}
        )
    return requests


def model_folder(checkpoint: str, base: str, merged_root: Path) -> str:
    """The folder vLLM loads for a checkpoint: the base model, a full model, or an adapter merged."""
    from mcr.checkpoints import export_merged

    if checkpoint == "base" or not (Path(checkpoint) / "adapter_config.json").is_file():
        return base if checkpoint == "base" else checkpoint
    target = merged_root / Path(checkpoint).name
    if not (target / "config.json").is_file():
        export_merged(checkpoint, base, target)
    return str(target)


class VllmGenerator:
    """One vLLM engine for one checkpoint; ``generate`` has the transformers backend's signature."""

    def __init__(
        self, model_dir: str, *, min_pixels: int, max_pixels: int, max_images: int, engine: dict[str, Any]
    ) -> None:
        require_vllm()
        from vllm import LLM

        self.llm = LLM(
            model=model_dir,
            limit_mm_per_prompt={"image": max_images},
            mm_processor_kwargs={"min_pixels": min_pixels, "max_pixels": max_pixels},
            **engine,
        )

    def generate(
        self,
        processor: Any,
        rows: Sequence[dict],
        *,
        max_new_tokens: int,
        do_sample: bool,
        temperature: float,
        desc: str = "generate",
    ) -> list[str]:
        from vllm import SamplingParams

        params = SamplingParams(max_tokens=max_new_tokens, temperature=temperature if do_sample else 0.0)
        outputs = self.llm.generate(vllm_requests(processor, rows), params, use_tqdm=True)
        return [out.outputs[0].text for out in outputs]

    def close(self) -> None:
        import torch

        del self.llm
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
