"""The offline tiny Qwen2.5-VL: a real checkpoint that loads, generates and reloads."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
import torch
from PIL import Image
from transformers import AutoModelForImageTextToText, AutoProcessor, Qwen2_5_VLForConditionalGeneration

from mcr.cli import main as mcr_main
from mcr.families import FAMILIES, get_family
from mcr.image_space import ImageSpace
from mcr.models import load_processor
from mcr.tiny_model import (
    SPECIAL_TOKENS,
    TinySpec,
    build_processor,
    build_tiny_model,
    build_tokenizer,
    spec_fields,
)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _messages(text="Text: Marla wearing red met Lake Voss"):
    return [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]


def test_loads_with_auto_classes_offline(tiny_model_dir):
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir)
    assert isinstance(model, Qwen2_5_VLForConditionalGeneration)
    assert type(processor).__name__ == "Qwen2_5_VLProcessor"
    assert 1_000_000 < model.num_parameters() < 10_000_000
    tok = processor.tokenizer
    assert tok.padding_side == "left" and tok.eos_token == "<|im_end|>" and tok.pad_token == "<|endoftext|>"
    for special in SPECIAL_TOKENS:  # each special token is one id, never split
        assert len(tok(special, add_special_tokens=False)["input_ids"]) == 1
    assert model.config.image_token_id == tok.convert_tokens_to_ids("<|image_pad|>")
    text_cfg = model.config.text_config
    head_dim = text_cfg.hidden_size // text_cfg.num_attention_heads
    assert sum(text_cfg.rope_parameters["mrope_section"]) == head_dim // 2


def test_chat_template_is_qwen_shaped(tiny_model_dir):
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    text = processor.apply_chat_template(_messages(), add_generation_prompt=True, tokenize=False)
    assert text == (
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
        "<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Text: Marla wearing red met Lake Voss"
        "<|im_end|>\n<|im_start|>assistant\n"
    )


def test_tokenizer_round_trips_task_text(tiny_model_dir):
    tok = AutoProcessor.from_pretrained(tiny_model_dir).tokenizer
    text = (
        "RT @kelby4 : Marla Voss 🔥 http://t.co/AbC1 #Skyline2 <think> shown </think> "
        '<answer> [{"entity": "Marla Voss", "type": "PER", "bbox": [12, 40, 99, 120]}] </answer>'
    )
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert tok.decode(ids) == text
    assert len(ids) < len(text.encode()) / 2  # trained merges compress the task's text


def test_batched_generation_with_images(tiny_model_dir):
    processor = AutoProcessor.from_pretrained(tiny_model_dir)
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir).eval()
    prompts = processor.apply_chat_template(
        [_messages(), _messages("short")], add_generation_prompt=True, tokenize=False
    )
    images = [Image.new("RGB", (320, 240), (200, 20, 20)), Image.new("RGB", (192, 256), (20, 20, 200))]
    inputs = processor(text=prompts, images=images, return_tensors="pt", padding=True)
    assert (inputs["attention_mask"][:, -1] == 1).all()  # left padding
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert (
        out.shape[0] == 2 and inputs["input_ids"].shape[1] < out.shape[1] <= inputs["input_ids"].shape[1] + 8
    )
    assert torch.equal(out[:, : inputs["input_ids"].shape[1]], inputs["input_ids"])


def test_save_and_reload_keeps_weights(tiny_model_dir, tmp_path):
    model = AutoModelForImageTextToText.from_pretrained(tiny_model_dir)
    model.save_pretrained(tmp_path / "again")
    again = AutoModelForImageTextToText.from_pretrained(tmp_path / "again")
    for (name, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items(), strict=True):
        assert torch.equal(a, b), name


def test_deterministic_for_a_seed(tiny_model_dir, tmp_path):
    same = build_tiny_model(tmp_path / "same", seed=0)
    other = build_tiny_model(tmp_path / "other", seed=1)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        assert _sha(same / name) == _sha(tiny_model_dir / name), name
    assert _sha(other / "model.safetensors") != _sha(same / "model.safetensors")


@pytest.mark.parametrize("size", [(320, 240), (192, 256), (1000, 300), (50, 60), (2000, 1500)])
def test_processor_resizes_as_gold_boxes_assume(tiny_model_dir, size):
    processor = load_processor(str(tiny_model_dir), min_pixels=3136, max_pixels=50176)
    grid = processor.image_processor(images=[Image.new("RGB", size)], return_tensors="pt")["image_grid_thw"][
        0
    ]
    _, rows, cols = grid.tolist()
    assert (cols * 14, rows * 14) == ImageSpace(3136, 50176).input_size(*size)


def test_build_tiny_command(tmp_path, capsys):
    mcr_main(["build-tiny", "--out", str(tmp_path / "m"), "--seed", "3"])
    assert '"seed": 3' in capsys.readouterr().out
    assert AutoModelForImageTextToText.from_pretrained(tmp_path / "m").config.model_type == "qwen2_5_vl"


def test_spec_fields_read_a_command_lines_items_by_the_fields_types():
    assert spec_fields(["mimetic_attention=4", "vision_full_attention=yes", "num_hidden_layers=2"]) == {
        "mimetic_attention": 4.0,
        "vision_full_attention": True,
        "num_hidden_layers": 2,
    }
    with pytest.raises(ValueError, match="'depth=2': expected FIELD=VALUE"):
        spec_fields(["depth=2"])
    with pytest.raises(ValueError, match="expected FIELD=VALUE"):
        spec_fields(["mimetic_attention="])
    with pytest.raises(ValueError, match="rotary_frequencies is not a number"):
        spec_fields(["rotary_frequencies=1"])


def test_spec_sizes_the_model(tmp_path):
    path = build_tiny_model(tmp_path / "m", spec=TinySpec(num_hidden_layers=1, tokenizer_corpus_size=200))
    assert AutoModelForImageTextToText.from_pretrained(path).config.text_config.num_hidden_layers == 1


def test_filled_vocabulary_decodes_every_id_and_encodes_as_before():
    from mcr.tiny_model import build_tokenizer

    spec = TinySpec(vocab_size=600, tokenizer_corpus_size=60)
    plain = build_tokenizer(spec, seed=0)
    filled = build_tokenizer(spec, seed=0, fill_to=5_000)
    assert len(filled) == 5_000 + len(SPECIAL_TOKENS)
    text = "Text: Marla wearing red met Lake Voss <answer>[]</answer>"
    assert filled(text)["input_ids"] == plain(text)["input_ids"]  # fillers are never produced
    fillers = filled.decode(list(range(len(plain) - len(SPECIAL_TOKENS), 5_000)))
    assert fillers.split()[:3] and all(word.isalpha() and word.islower() for word in fillers.split())
    assert len(set(filled.convert_ids_to_tokens(list(range(5_000))))) == 5_000


def test_rotary_frequencies_are_set_pair_by_pair(tmp_path):
    frequencies = tuple(0.5**i for i in range(16))
    spec = TinySpec(rotary_frequencies=frequencies, tokenizer_corpus_size=50)
    model = AutoModelForImageTextToText.from_pretrained(build_tiny_model(tmp_path / "m", spec=spec))
    rotary = model.model.language_model.rotary_emb
    assert torch.allclose(rotary.inv_freq, torch.tensor(frequencies)) and rotary.attention_scaling == 1.0
    with pytest.raises(ValueError, match="has 3 values; a head of 32 needs 16"):
        build_tiny_model(tmp_path / "bad", spec=TinySpec(rotary_frequencies=(1.0, 0.5, 0.25)))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_processor_is_built_from_the_familys_classes(family):
    f = get_family(family)
    spec = TinySpec(family=family, vocab_size=600, tokenizer_corpus_size=40)
    processor = build_processor(build_tokenizer(spec, 0), spec)
    assert type(processor).__name__ == f.processor_class
    assert type(processor.tokenizer).__name__ == f.tokenizer_class
    for part, name in (
        (processor.image_processor, f.image_processor_class),
        (processor.video_processor, f.video_processor_class),
    ):
        assert type(part).__name__ == name
        assert part.patch_size * part.merge_size == f.resize_factor


def test_vision_positions_can_start_from_a_sine_cosine_table(tmp_path):
    """Qwen3-VL's vision tower adds learned absolute positions to its patches; a tiny one may start
    them from a 2-D sine-cosine table (rows in one half, columns in the other) instead of noise."""
    from mcr.tiny_model import sincos_positions

    table = sincos_positions(64, 96)
    assert table.shape == (64, 96)
    rows, columns = table[:, :48].reshape(8, 8, 48), table[:, 48:].reshape(8, 8, 48)
    assert torch.equal(rows[:, 0], rows[:, 5]) and not torch.equal(rows[0], rows[1])  # a row's code
    assert torch.equal(columns[0], columns[7]) and not torch.equal(columns[:, 0], columns[:, 1])
    assert len({tuple(r.tolist()) for r in table}) == 64  # every cell its own code
    spec = TinySpec(family="qwen3_vl", vocab_size=600, tokenizer_corpus_size=40, sincos_vision_positions=True)
    model = AutoModelForImageTextToText.from_pretrained(build_tiny_model(tmp_path / "q3", spec=spec))
    weight = model.model.visual.pos_embed.weight
    assert torch.allclose(weight, sincos_positions(weight.shape[0], weight.shape[1]))
    with pytest.raises(ValueError, match="has no learned vision positions"):
        build_tiny_model(
            tmp_path / "q25", spec=TinySpec(tokenizer_corpus_size=40, sincos_vision_positions=True)
        )


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl"])
def test_mimetic_attention_starts_one_query_head_a_group_as_its_key_head(tmp_path, family):
    """The first query head of each key-value group equals that group's key head, scaled with it,
    so a token's query matches its own key from the first step; the other query heads stay random."""
    spec = TinySpec(family=family, vocab_size=600, tokenizer_corpus_size=40)
    plain = AutoModelForImageTextToText.from_pretrained(build_tiny_model(tmp_path / "plain", spec=spec))
    mimetic = AutoModelForImageTextToText.from_pretrained(
        build_tiny_model(tmp_path / "mimetic", spec=replace(spec, mimetic_attention=4.0))
    )
    for before, after in zip(
        plain.model.language_model.layers, mimetic.model.language_model.layers, strict=True
    ):
        attention, d = after.self_attn, after.self_attn.head_dim
        groups = attention.config.num_attention_heads // attention.config.num_key_value_heads
        assert torch.allclose(attention.k_proj.weight, 4.0 * before.self_attn.k_proj.weight)
        for group in range(attention.config.num_key_value_heads):
            first = group * groups * d
            assert torch.equal(
                attention.q_proj.weight[first : first + d],
                attention.k_proj.weight[group * d : (group + 1) * d],
            )
            others = slice(first + d, (group + 1) * groups * d)
            assert torch.equal(attention.q_proj.weight[others], before.self_attn.q_proj.weight[others])
    # what it is for: each token's score with itself is its row's largest, for most tokens
    x = torch.nn.functional.normalize(torch.randn(64, spec.hidden_size), dim=-1) * spec.hidden_size**0.5
    attention = mimetic.model.language_model.layers[0].self_attn
    d = attention.head_dim
    q, k = attention.q_proj(x)[:, :d], attention.k_proj(x)[:, :d]
    assert (torch.argmax(q @ k.T, dim=-1) == torch.arange(64)).float().mean() > 0.9


def test_previous_token_attention_makes_the_first_layers_last_group_attend_to_the_token_before(tmp_path):
    """With the shipped base's rotary frequencies and its own attention code, the first layer's
    last key-value group puts nearly all its weight on the previous token at every position of a
    long sequence of random tokens, whatever they are; the other heads stay as they were."""
    from mcr.pretrain.run import BASE_SPEC

    spec = replace(BASE_SPEC, vocab_size=600, tokenizer_corpus_size=40)
    plain = AutoModelForImageTextToText.from_pretrained(build_tiny_model(tmp_path / "plain", spec=spec))
    path = build_tiny_model(tmp_path / "previous", spec=replace(spec, previous_token_attention=8.0))
    model = AutoModelForImageTextToText.from_pretrained(path, attn_implementation="eager")
    ids = torch.randint(20, model.config.text_config.vocab_size - 20, (2, 400))
    weights = model(input_ids=ids, output_attentions=True).attentions[0]  # (batch, head, query, key)
    heads, rows = weights.shape[1], torch.arange(1, 400)
    per_group = heads // model.config.text_config.num_key_value_heads
    last_group = range(heads - per_group, heads)
    for head in range(heads):
        on_previous = weights[:, head, rows, rows - 1]
        if head in last_group:
            assert on_previous.min() > 0.9
        else:
            assert on_previous.mean() < 0.5
    first, before = (
        model.model.language_model.layers[0].self_attn,
        plain.model.language_model.layers[0].self_attn,
    )
    d = first.head_dim
    assert torch.equal(first.q_proj.weight[: 2 * d], before.q_proj.weight[: 2 * d])
    assert torch.equal(first.v_proj.weight, before.v_proj.weight)
    assert torch.equal(first.k_proj.weight[d:], torch.zeros_like(first.k_proj.weight[d:]))
    # a family without query and key biases cannot have it
    with pytest.raises(ValueError, match="needs query and key biases"):
        build_tiny_model(
            tmp_path / "q3",
            spec=TinySpec(
                family="qwen3_vl", vocab_size=600, tokenizer_corpus_size=40, previous_token_attention=8.0
            ),
        )


def test_previous_token_copy_starts_the_head_as_a_copy_of_the_token_before(tmp_path):
    """previous_token_copy: the previous-token group's values and outputs compose to a projection
    onto head_dim dimensions, scaled by the copy times the embeddings' standard deviation, so the
    head adds the token before (normed) at the size of an embedding; it needs the head itself."""
    from mcr.pretrain.run import BASE_SPEC

    spec = replace(
        BASE_SPEC,
        vocab_size=600,
        tokenizer_corpus_size=40,
        previous_token_attention=8.0,
        previous_token_copy=2.0,
    )
    model = AutoModelForImageTextToText.from_pretrained(build_tiny_model(tmp_path / "copy", spec=spec))
    attention = model.model.language_model.layers[0].self_attn
    d, config = attention.head_dim, model.config.text_config
    per_group = config.num_attention_heads // config.num_key_value_heads
    last = config.num_key_value_heads - 1
    values = attention.v_proj.weight[last * d : (last + 1) * d]
    heads = range(last * per_group, (last + 1) * per_group)
    composed = sum(attention.o_proj.weight[:, h * d : (h + 1) * d] @ values for h in heads).detach()
    assert torch.allclose(composed, composed.T, atol=1e-6)
    eigenvalues = torch.linalg.eigvalsh(composed.double())
    assert torch.allclose(
        eigenvalues[-d:], torch.full((d,), 2.0 * config.initializer_range, dtype=torch.float64), atol=1e-5
    )
    assert eigenvalues[:-d].abs().max() < 1e-6
    with pytest.raises(ValueError, match="previous_token_copy needs previous_token_attention"):
        TinySpec(previous_token_copy=1.0)
