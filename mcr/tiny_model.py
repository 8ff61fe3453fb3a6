"""Build a tiny, real Qwen2.5-VL checkpoint offline: model, tokenizer, processor.

No hub access is needed: the byte-level BPE tokenizer is trained here on text shaped like
the task's (posts, instructions, reasoning, JSON answers), wrapped as Qwen2's tokenizer with
Qwen's special tokens and a Qwen2.5-VL chat template; the image and video processors are
built from arguments; the model is ``Qwen2_5_VLForConditionalGeneration`` with a small config
and seeded random weights. The result loads with ``AutoProcessor`` and
``AutoModelForImageTextToText.from_pretrained`` like any Qwen2.5-VL checkpoint.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Qwen2.5-VL's special tokens, in Qwen's id order.
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)

# The Qwen2.5-VL chat template: a default system turn, images and videos as
# <|vision_start|><|image_pad|><|vision_end|> placeholders that the processor expands.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}"
    "{% endif %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part or 'image_url' in part %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}{{ 'Picture ' + image_count.value|string + ': ' }}{% endif %}"
    "{{ '<|vision_start|><|image_pad|><|vision_end|>' }}"
    "{% elif part['type'] == 'video' or 'video' in part %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}{{ 'Video ' + video_count.value|string + ': ' }}{% endif %}"
    "{{ '<|vision_start|><|video_pad|><|vision_end|>' }}"
    "{% elif 'text' in part %}{{ part['text'] }}"
    "{% endif %}{% endfor %}{% endif %}"
    "{{ '<|im_end|>\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


@dataclass
class TinySpec:
    """Sizes of the tiny model. The defaults give about 2.5M parameters: enough to learn the
    synthetic task on 2 CPU cores in minutes, with every Qwen2.5-VL code path exercised."""

    vocab_size: int = 2048
    hidden_size: int = 128
    intermediate_size: int = 384
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    vision_depth: int = 2
    vision_hidden_size: int = 64
    vision_intermediate_size: int = 128
    vision_heads: int = 2
    min_pixels: int = 56 * 56
    max_pixels: int = 224 * 224
    tokenizer_corpus_size: int = 3000
    # Gain of the language model's final norm. With random (tied) embeddings of std 0.02 and
    # gain 1, logits have std ~0.2 and the next-token distribution cannot get peaked by
    # training adapters alone; pretrained Qwen models carry large final-norm gains too.
    final_norm_gain: float = 16.0


def tokenizer_corpus(n: int, seed: int) -> Iterator[str]:
    """Text like what the tiny model reads and writes: the tasks' prompts, and completions in
    every reasoning style of ``templates/mrsi`` (so that their phrases become single tokens)."""
    from mcr.benchmarks.gmner.synthetic import generate_post
    from mcr.benchmarks.mate.data import MateInstance
    from mcr.benchmarks.mate.rows import style_context as mate_context
    from mcr.benchmarks.mate.synthetic import generate_instance
    from mcr.contract.parse import render_completion
    from mcr.prompts import available_styles, render_prompt, render_style

    rng = random.Random(seed)
    gmner_styles, mate_styles = available_styles("gmner"), available_styles("mate")
    for i in range(n):
        post = generate_post(rng, f"S_{i}")
        text = " ".join(post.tokens)
        yield render_prompt("gmner", text=text)
        entities = []
        for e in post.entities:
            box = [round(v * rng.uniform(0.5, 1.2)) for v in post.boxes_of(e)[0]] if e.shown else None
            entities.append({"text": e.text, "type": e.type, "shown": box is not None, "box": box})
        answer = [{"entity": e["text"], "type": e["type"], "bbox": e["box"]} for e in entities]
        think = render_style("gmner", gmner_styles[i % len(gmner_styles)], text=text, entities=entities)
        yield render_completion(think, answer)
        if i % 4 == 0 and mate_styles:
            made = generate_instance(
                rng, f"M_{i}", ("img2data", "data2img", "img2img", "data2data")[i // 4 % 4]
            )
            if made is not None:
                raw = made[0]
                inst = MateInstance(
                    **{k: v for k, v in raw.items() if k in MateInstance.__dataclass_fields__}
                )
                yield render_prompt("mate", scene=inst.scene, question=inst.question)
                think = render_style("mate", mate_styles[i // 4 % len(mate_styles)], **mate_context(inst))
                yield render_completion(think, {"answer": inst.answer})
    yield "0123456789 [ ] { } , : null true false"


def _filler_words() -> Iterator[str]:
    """Byte-level forms of " a", " b", ..., " aa", " ab", ...: words that decode to plain text."""
    import itertools
    import string

    for length in itertools.count(1):
        for letters in itertools.product(string.ascii_lowercase, repeat=length):
            yield "\u0120" + "".join(letters)  # Ġ is the byte-level form of a space


def build_tokenizer(spec: TinySpec, seed: int, *, fill_to: int | None = None):
    """Train a byte-level BPE on the task's text and wrap it as Qwen2's tokenizer.

    ``fill_to`` pads the learned vocabulary with filler words up to that many regular tokens
    (Qwen's 151,643 puts the special tokens at Qwen's own ids), so that a model with a real
    vocabulary decodes every id it samples; encoding never produces the fillers.
    """
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers import AddedToken, Qwen2Tokenizer
    from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size - len(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(tokenizer_corpus(spec.tokenizer_corpus_size, seed), trainer=trainer)
    model = json.loads(bpe.to_str())["model"]
    if fill_to is not None:
        vocab = model["vocab"]
        fillers = (word for word in _filler_words() if word not in vocab)
        while len(vocab) < fill_to:
            vocab[next(fillers)] = len(vocab)
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    tokenizer = Qwen2Tokenizer(
        vocab=model["vocab"],
        merges=merges,
        unk_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        errors="replace",
        model_max_length=32768,
        padding_side="left",  # GRPOTrainer and batched generation need left padding
    )
    tokenizer.add_special_tokens(
        {"additional_special_tokens": [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]}
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def build_processor(tokenizer, spec: TinySpec):
    from transformers import Qwen2_5_VLProcessor, Qwen2VLImageProcessor, Qwen2VLVideoProcessor

    size = {"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=14, temporal_patch_size=2, merge_size=2)
    video_processor = Qwen2VLVideoProcessor(size=size, patch_size=14, temporal_patch_size=2, merge_size=2)
    return Qwen2_5_VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )


def build_config(tokenizer, spec: TinySpec):
    from transformers import Qwen2_5_VLConfig

    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    head_dim = spec.hidden_size // spec.num_attention_heads
    half = head_dim // 2  # mrope sections (temporal, height, width) must sum to head_dim / 2
    mrope = [half - 2 * (half * 3 // 8), half * 3 // 8, half * 3 // 8]
    text_config = {
        "vocab_size": len(tokenizer),
        "hidden_size": spec.hidden_size,
        "intermediate_size": spec.intermediate_size,
        "num_hidden_layers": spec.num_hidden_layers,
        "num_attention_heads": spec.num_attention_heads,
        "num_key_value_heads": spec.num_key_value_heads,
        "max_position_embeddings": 4096,
        # Qwen's theta of 1e6 suits long contexts; over a few hundred tokens it barely separates
        # neighbouring positions, which slows the copying (induction) a tiny model must learn.
        "rope_parameters": {"rope_type": "default", "rope_theta": 10_000.0, "mrope_section": mrope},
        "bos_token_id": ids["<|endoftext|>"],
        "eos_token_id": ids["<|im_end|>"],
        "pad_token_id": ids["<|endoftext|>"],
        "tie_word_embeddings": True,
    }
    vision_config = {
        "depth": spec.vision_depth,
        "hidden_size": spec.vision_hidden_size,
        "intermediate_size": spec.vision_intermediate_size,
        "num_heads": spec.vision_heads,
        "out_hidden_size": spec.hidden_size,
        "patch_size": 14,
        "spatial_merge_size": 2,
        "temporal_patch_size": 2,
        "window_size": 112,
        "fullatt_block_indexes": [spec.vision_depth - 1],
    }
    return Qwen2_5_VLConfig(
        text_config=text_config,
        vision_config=vision_config,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )


def build_tiny_model(out: str | Path, *, seed: int = 0, spec: TinySpec | None = None) -> Path:
    """Write a tiny Qwen2.5-VL checkpoint with its processor to ``out``; deterministic for a seed."""
    import torch
    from transformers import GenerationConfig, Qwen2_5_VLForConditionalGeneration

    spec = spec or TinySpec()
    out = Path(out)
    tokenizer = build_tokenizer(spec, seed)
    processor = build_processor(tokenizer, spec)
    config = build_config(tokenizer, spec)
    torch.manual_seed(seed)
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    with torch.no_grad():
        model.model.language_model.norm.weight.fill_(spec.final_norm_gain)
    model.generation_config = GenerationConfig(
        bos_token_id=config.text_config.bos_token_id,
        eos_token_id=[config.text_config.eos_token_id, config.text_config.bos_token_id],
        pad_token_id=config.text_config.pad_token_id,
        do_sample=False,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
