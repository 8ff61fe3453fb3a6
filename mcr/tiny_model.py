"""Build a tiny, real checkpoint of a model family offline: model, tokenizer, processor.

No hub access is needed: the byte-level BPE tokenizer is trained here on text shaped like
the task's (posts, instructions, reasoning, JSON answers), wrapped as the family's tokenizer
with Qwen's special tokens and a Qwen2.5-VL chat template; the image and video processors are
built from arguments; the model is the family's (``Qwen2_5_VLForConditionalGeneration`` by
default) with a small config (the family's ``tiny_config`` hook, ``mcr.families``) and seeded
random weights. The result loads with ``AutoProcessor`` and
``AutoModelForImageTextToText.from_pretrained`` like any checkpoint of its family.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcr.families import get_family

if TYPE_CHECKING:
    import torch

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
    """Sizes of the tiny model. The defaults give about 1.2M parameters (0.26M in the vision
    tower): enough to learn the synthetic task on 2 CPU cores in minutes, with every Qwen2.5-VL
    code path exercised."""

    family: str = "qwen2_5_vl"  # mcr.families
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
    # RoPE base. Qwen's 1e6 suits long contexts; over a few hundred tokens it barely separates
    # neighbouring positions, and the rows and columns of an image get only its slowest
    # frequencies (mrope gives the height and width sections the last ones).
    rope_theta: float = 10_000.0
    # Rotary frequencies (radians per position), one per pair of head dimensions, instead of
    # ``rope_theta``'s geometric series; set through transformers' ``longrope`` per-pair factors.
    rotary_frequencies: tuple[float, ...] | None = None
    vision_full_attention: bool = False  # every vision block attends to the whole image
    # Start the vision tower's learned absolute positions (the families that have them: Qwen3-VL,
    # Qwen3.5) from a 2-D sine-cosine table instead of noise, so that every patch says where it is
    # from the first step.
    sincos_vision_positions: bool = False
    # Mimetic attention (Trockman & Kolter, 2023): in every language-model layer, the first query
    # head of each key-value group starts as that group's key head, both scaled by this factor
    # (0: off). Its attention score then grows with how alike two tokens are from the first step,
    # so matching by content (is this word in the list? which image token shows this look?) is not
    # a saddle the optimiser must first escape: from the usual small random weights a query-key
    # product is second-order, and the tiny model never left it in thousands of steps.
    mimetic_attention: float = 0.0
    # A previous-token head from the first step: in the first language-model layer, the last
    # key-value group's heads attend to the token just before, by position alone, with this gap
    # (in logits) over every other token within 1,024 (0: off). A look in words is two tokens
    # ("red circle"); matching it as one needs the colour moved onto its shape first, and a
    # previous-token head is how a transformer learns to do that (the first half of an induction
    # head). Measured in words (docs/results/localisation.md): with it, alone or copying, the
    # tiny model learns no pair where it learns none without it; what teaches the pair is a
    # question on every look (bench/binding.py's ``repeat``, learned without this head).
    previous_token_attention: float = 0.0
    # With the previous-token head: its values and outputs start as a copy of the token before
    # (a projection onto the value heads' dimensions), this many times that token's embedding
    # scale (0: they keep their random start). The colour then arrives on its shape from step 1,
    # in a subspace every later layer can read.
    previous_token_copy: float = 0.0

    def __post_init__(self) -> None:
        get_family(self.family)  # an unknown family fails here, listing the known ones
        if self.previous_token_copy and not self.previous_token_attention:
            raise ValueError("previous_token_copy needs previous_token_attention (the head that copies)")


def spec_fields(items: list[str]) -> dict[str, bool | int | float | str]:
    """``FIELD=VALUE`` items (a command line's) as ``TinySpec`` fields, each value of its
    field's type; a ``ValueError`` names an item that is not one."""
    from dataclasses import fields

    types = {f.name: type(getattr(TinySpec(), f.name)) for f in fields(TinySpec)}
    spec: dict[str, bool | int | float | str] = {}
    for item in items:
        name, _, value = item.partition("=")
        if name not in types or not value:
            raise ValueError(f"{item!r}: expected FIELD=VALUE with a TinySpec field ({', '.join(types)})")
        kind = types[name]
        if kind not in (bool, int, float, str):
            raise ValueError(f"{item!r}: {name} is not a number, a flag or a word")
        spec[name] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
    return spec


TOKENIZER_GMNER_STYLES = ("checklist", "evidence_table", "narrative", "verify")


def tokenizer_corpus(n: int, seed: int) -> Iterator[str]:
    """Text like what the tiny model reads and writes: the tasks' prompts, completions in every
    reasoning style of ``templates/mrsi`` (so that their phrases become single tokens), and the
    pretraining corpus's prompts and answers."""
    from mcr.benchmarks.gmner.synthetic import generate_post
    from mcr.benchmarks.mate.data import MateInstance
    from mcr.benchmarks.mate.rows import style_context as mate_context
    from mcr.benchmarks.mate.synthetic import generate_instance
    from mcr.contract.parse import render_completion
    from mcr.image_space import ImageSpace
    from mcr.pretrain.corpus import draw_example
    from mcr.prompts import available_styles, render_prompt, render_style

    rng = random.Random(seed)
    # the GMNER styles the tokenizer has always learned from, in their order (a later style
    # would change every from-scratch tokenizer; its phrases are tokenized from these pieces)
    gmner_styles = [s for s in available_styles("gmner") if s in TOKENIZER_GMNER_STYLES]
    mate_styles = available_styles("mate")
    # the pretraining tasks the tokenizer has always learned from (``words`` came later)
    pretraining = dict.fromkeys(("post", "repeat", "names", "colour", "caption", "point"), 1.0)
    for i in range(n):
        if i % 2 == 0:
            # the data sets' own names (made_up=0): the tokenizer learns their vocabulary
            example = draw_example(rng, pretraining, 4, ImageSpace(56 * 56, 224 * 224), made_up=0.0)
            yield example.prompt
            yield example.answer
        post = generate_post(rng, f"S_{i}")
        text = " ".join(post.tokens)
        yield render_prompt("gmner", text=text, box_format=ImageSpace(3136, 50176).box_wording)
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
    import transformers
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, trainers
    from transformers import AddedToken
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
    tokenizer = getattr(transformers, get_family(spec.family).tokenizer_class)(
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
    """The family's processor, built from arguments: its image and video processors at its patch
    size, the tokenizer, the chat template."""
    import transformers

    family = get_family(spec.family)
    size = {"shortest_edge": spec.min_pixels, "longest_edge": spec.max_pixels}
    patches = {"patch_size": family.patch_size, "temporal_patch_size": 2, "merge_size": 2}
    return getattr(transformers, family.processor_class)(
        image_processor=getattr(transformers, family.image_processor_class)(size=size, **patches),
        tokenizer=tokenizer,
        video_processor=getattr(transformers, family.video_processor_class)(size=size, **patches),
        chat_template=CHAT_TEMPLATE,
    )


def build_config(tokenizer, spec: TinySpec):
    """A small config of the spec's family (its ``tiny_config`` hook) with the tokenizer's
    special-token ids."""
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    return get_family(spec.family).tiny_config(spec, ids, len(tokenizer))


def generation_config(config, **settings):
    """Greedy generation that stops at ``<|im_end|>`` or ``<|endoftext|>``, padding with the latter."""
    from transformers import GenerationConfig

    ids = config.text_config
    return GenerationConfig(
        bos_token_id=ids.bos_token_id,
        eos_token_id=[ids.eos_token_id, ids.bos_token_id],
        pad_token_id=ids.pad_token_id,
        do_sample=False,
        **settings,
    )


def sincos_positions(count: int, dim: int):
    """A 2-D sine-cosine position table for a square grid of ``count`` cells (row-major), ``dim``
    wide: the first half encodes the row, the second the column, each with sines and cosines of
    geometric frequencies (as ViT-MAE initialises its positions)."""
    import math

    import torch

    side = math.isqrt(count)
    if side * side != count or dim % 4:
        raise ValueError(
            f"a sine-cosine table needs a square count and a width divisible by 4, got {count}, {dim}"
        )
    quarter = dim // 4
    frequencies = 1.0 / 10000 ** (torch.arange(quarter, dtype=torch.float32) / quarter)
    coordinate = torch.arange(side, dtype=torch.float32)[:, None] * frequencies  # (side, quarter)
    along = torch.cat([coordinate.sin(), coordinate.cos()], dim=1)  # (side, dim / 2)
    rows = along[:, None, :].expand(side, side, dim // 2)
    columns = along[None, :, :].expand(side, side, dim // 2)
    return torch.cat([rows, columns], dim=-1).reshape(count, dim)


def mimetic_attention(language_model, scale: float) -> None:
    """Start each key-value group's first query head as its key head, both times ``scale``, in
    every layer of ``language_model`` (a family's text model; biases of those heads start at 0)."""
    import torch

    for layer in language_model.layers:
        attention = getattr(layer, "self_attn", None)
        if attention is None:  # a linear-attention layer (Qwen3.5) has no query-key product
            continue
        config, head_dim = attention.config, attention.head_dim
        groups = config.num_attention_heads // config.num_key_value_heads
        if attention.q_proj.out_features != config.num_attention_heads * head_dim:
            raise ValueError(
                f"mimetic attention needs one query per head; {type(attention).__name__} projects "
                f"{attention.q_proj.out_features} for {config.num_attention_heads} heads of {head_dim}"
            )
        with torch.no_grad():
            for group in range(config.num_key_value_heads):
                keys = slice(group * head_dim, (group + 1) * head_dim)
                queries = slice(group * groups * head_dim, (group * groups + 1) * head_dim)
                attention.k_proj.weight[keys] *= scale
                attention.q_proj.weight[queries] = attention.k_proj.weight[keys]
                for projection, rows in ((attention.q_proj, queries), (attention.k_proj, keys)):
                    if projection.bias is not None:
                        projection.bias[rows] = 0.0


def _rotary_angles(language_model, attention) -> tuple[torch.Tensor, float]:
    """Radians a position turns each of the attention's head dimensions (text positions: every
    mrope section on the same index), and the factor the rotation scales queries and keys by
    (``longrope``'s attention scaling), read from the model's own rotary embedding."""
    import torch

    hidden = torch.zeros(1, 2, language_model.config.hidden_size)
    cos, sin = language_model.rotary_emb(hidden, torch.arange(2).expand(3, 1, 2))
    angles = torch.atan2(sin[0, 1], cos[0, 1]).double()
    if angles.shape[-1] != attention.head_dim:
        raise ValueError(
            f"rotary embedding turns {angles.shape[-1]} dimensions, heads have {attention.head_dim}"
        )
    return angles, float(torch.hypot(cos[0, 1, 0], sin[0, 1, 0]))


def _previous_token_weights(angles: torch.Tensor, reach: int) -> tuple[torch.Tensor, float]:
    """Non-negative weights, summing to 1, of the rotary pairs turning ``angles`` radians a
    position, that maximise the smallest gap between distance 1 and any other distance in
    ``[0, reach)``: a score ``sum_i w_i cos((d - 1) * angle_i)`` peaks at the previous token.
    Returns the weights and that smallest gap."""
    import torch

    distances = torch.tensor([d for d in range(reach) if d != 1], dtype=torch.float64)
    gaps = 1 - torch.cos(torch.outer(distances - 1, angles))  # (distance, pair)
    weights = torch.full((len(angles),), 1 / len(angles), dtype=torch.float64)
    for _ in range(4000):  # multiplicative weights against the nearest rivals (a soft minimum)
        margin = gaps @ weights
        rivals = torch.softmax(-(margin - margin.min()) * 200, 0)
        gradient = rivals @ gaps
        weights = weights * torch.exp(0.05 * gradient / gradient.max())
        weights = weights / weights.sum()
    return weights, float((gaps @ weights).min())


def previous_token_attention(language_model, gap: float, reach: int = 1024, copy: float = 0.0) -> None:
    """Make the last key-value group's heads of the first layer of ``language_model`` attend to
    the token before each one, by rotary position alone: queries and keys become constant (zero
    weights, biases only) with phases that peak at distance 1, scaled so that the previous
    token's score exceeds every other within ``reach`` by ``gap`` logits. With ``copy``, the group's
    values become orthonormal rows and its heads' outputs their transpose, so the head adds the
    previous token's (normed) hidden state, projected onto the values' dimensions, at ``copy``
    times the embeddings' scale; else values and outputs keep their random start. Needs biased
    query and key projections (Qwen2 and Qwen2.5-VL have them)."""
    import math

    import torch

    attention = language_model.layers[0].self_attn
    config, head_dim = attention.config, attention.head_dim
    if attention.q_proj.bias is None or attention.k_proj.bias is None:
        raise ValueError(
            f"previous-token attention needs query and key biases; {type(attention).__name__} has none"
        )
    angles, scaling = _rotary_angles(language_model, attention)
    half = head_dim // 2
    if not torch.allclose(angles[:half], angles[half:]):
        raise ValueError(
            "previous-token attention expects rotate-half rotary pairs (dimension i with i + head_dim / 2)"
        )
    pairs = angles[:half]
    weights, margin = _previous_token_weights(pairs, reach)
    # score = (scaling * amplitude)^2 * sum_i w_i cos((d - 1) * angle_i) / sqrt(head_dim)
    amplitude = math.sqrt(gap * math.sqrt(head_dim) / margin) / scaling
    query = torch.zeros(head_dim, dtype=torch.float64)
    key = torch.zeros(head_dim, dtype=torch.float64)
    radius = amplitude * weights.sqrt()
    query[:half], query[half:] = radius * torch.cos(-pairs), radius * torch.sin(-pairs)
    key[:half] = radius
    groups = config.num_attention_heads // config.num_key_value_heads
    group = config.num_key_value_heads - 1
    keys = slice(group * head_dim, (group + 1) * head_dim)
    with torch.no_grad():
        attention.k_proj.weight[keys] = 0.0
        attention.k_proj.bias[keys] = key.float()
        for head in range(group * groups, (group + 1) * groups):
            queries = slice(head * head_dim, (head + 1) * head_dim)
            attention.q_proj.weight[queries] = 0.0
            attention.q_proj.bias[queries] = query.float()
        if copy:
            # the layer reads a normed hidden state (its input norm starts at gain 1); scaled by
            # the embeddings' standard deviation, the copy is the size of a token's embedding
            values = torch.linalg.qr(torch.randn(config.hidden_size, head_dim))[0].T  # (head_dim, hidden)
            attention.v_proj.weight[keys] = values
            if attention.v_proj.bias is not None:
                attention.v_proj.bias[keys] = 0.0
            scale = copy * config.initializer_range / groups  # the group's heads add up
            for head in range(group * groups, (group + 1) * groups):
                attention.o_proj.weight[:, head * head_dim : (head + 1) * head_dim] = scale * values.T


def build_tiny_model(out: str | Path, *, seed: int = 0, spec: TinySpec | None = None) -> Path:
    """Write a tiny checkpoint of the spec's family with its processor to ``out``; deterministic
    for a seed."""
    import torch
    import transformers

    spec = spec or TinySpec()
    out = Path(out)
    tokenizer = build_tokenizer(spec, seed)
    processor = build_processor(tokenizer, spec)
    config = build_config(tokenizer, spec)
    torch.manual_seed(seed)
    model = getattr(transformers, get_family(spec.family).model_class)(config).eval()
    with torch.no_grad():
        norm = model.model.language_model.norm.weight
        # zero-centred norms (Qwen3.5: the gain is 1 + weight) start at 0
        norm.fill_(spec.final_norm_gain - 1.0 if bool((norm == 0).all()) else spec.final_norm_gain)
        if spec.sincos_vision_positions:
            positions = getattr(model.model.visual, "pos_embed", None)
            if positions is None:
                raise ValueError(
                    f"family {spec.family!r} has no learned vision positions to start from sine-cosine"
                )
            positions.weight.copy_(sincos_positions(positions.num_embeddings, positions.embedding_dim))
        if spec.mimetic_attention:
            mimetic_attention(model.model.language_model, spec.mimetic_attention)
        if spec.previous_token_attention:
            previous_token_attention(
                model.model.language_model, spec.previous_token_attention, copy=spec.previous_token_copy
            )
    model.generation_config = generation_config(config)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
