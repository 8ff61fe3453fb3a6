"""GRPO's generation paths (docs/generation.md; bench/gpu_paths.py measures the same ones on a GPU).

On the tiny model, every path that runs on a CPU gives today's greedy completions, samples as
today does (the same samples for the same seed where the batch is the same, the same
log-likelihood of its samples where it is not), hands the rewards the same columns, trains two
GRPO steps that move the LoRA adapters, and leaves every other weight bit for bit as it was.
What a CPU cannot do (CUDA graphs, Flash-Attention) is checked for its wiring: the config TRL
generates with.
"""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from mcr.config import RecipeError, load_recipe
from mcr.generation import merge_lora, merged_lora
from mcr.shipped import resolve_model_path

from helpers.runs import REPO, load_bench, tiny_run_args

PATHS = load_bench("gpu_paths")
DENSE_REWARD = REPO / "tests" / "helpers" / "dense_reward.py"  # a reward that differs between completions
TINY_BASE = resolve_model_path("mcr:tiny-base")  # the pretrained tiny base: varied greedy text
# paths that run on a CPU (the compiled ones run their overrides; transformers compiles only on an
# accelerator, and test_compiled_decoding_on_a_cpu compiles with dynamo's eager backend instead)
ON_CPU = ("default", "merged_lora", "static_cache", "compiled", "big_batch")
REWARD_COLUMNS = ("gold", "input_size", "box_frame", "image_size", "task")


# ---------------------------------------------------------------------------------------------
# Merging exactly
# ---------------------------------------------------------------------------------------------
def _lora_mlp(dtype: torch.dtype):
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(64, 96), nn.SiLU(), nn.Linear(96, 32)).to(dtype)
    model = get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["0", "2"]))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:  # B starts at zero: give the adapters something to merge
                parameter.normal_(0, 0.5)
    return model.to(dtype)


def _frozen(model) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" not in n}


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_merging_and_restoring_gives_the_weights_back_bit_for_bit(dtype):
    model = _lora_mlp(dtype)
    x = torch.randn(5, 64, dtype=dtype)
    before, unmerged = _frozen(model), model(x)
    pointers = {n: p.data_ptr() for n, p in model.named_parameters()}
    with merged_lora(model):
        layers = [m for m in model.modules() if hasattr(m, "merged") and hasattr(m, "lora_A")]
        assert layers and all(m.merged for m in layers)
        inside = _frozen(model)
        assert any(not torch.equal(inside[n], before[n]) for n in before)  # the deltas are in
        tolerance = {"atol": 1e-5, "rtol": 1e-5} if dtype == torch.float32 else {"atol": 0.1, "rtol": 0.05}
        torch.testing.assert_close(model(x), unmerged, **tolerance)  # the same function, merged
    assert not any(m.merged for m in layers)
    after = _frozen(model)
    assert all(torch.equal(after[n], before[n]) for n in before)  # bit for bit
    assert pointers == {n: p.data_ptr() for n, p in model.named_parameters()}  # the same tensors
    assert torch.equal(model(x), unmerged)


def test_peft_unmerging_alone_moves_bf16_weights_which_the_copy_restores():
    """Why merge_lora keeps a copy: in bf16, merge then unmerge does not give the weights back."""
    model = _lora_mlp(torch.bfloat16)
    before = _frozen(model)
    model.merge_adapter()
    model.unmerge_adapter()
    assert any(not torch.equal(p, before[n]) for n, p in _frozen(model).items())


def test_after_a_merged_generation_the_adapters_train_as_without_it():
    model, twin = _lora_mlp(torch.float32), _lora_mlp(torch.float32)
    x = torch.randn(7, 64)
    with torch.no_grad(), merged_lora(model):
        model(x)  # a generation
    for m in (model, twin):
        m(x).square().mean().backward()
    grads = {n: p.grad for n, p in model.named_parameters() if p.requires_grad}
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads.values())
    assert all("lora_" in n for n in grads)  # only the adapters train
    twins = {n: p.grad for n, p in twin.named_parameters() if p.requires_grad}
    assert all(torch.equal(grads[n], twins[n]) for n in grads)


def test_restoring_happens_even_when_generation_fails():
    model = _lora_mlp(torch.float32)
    before = _frozen(model)
    with pytest.raises(RuntimeError, match="generation failed"), merged_lora(model):
        raise RuntimeError("generation failed")
    assert all(torch.equal(p, before[n]) for n, p in _frozen(model).items())
    restore = merge_lora(model)  # merging again works: nothing was left merged
    restore()
    assert all(torch.equal(p, before[n]) for n, p in _frozen(model).items())


# ---------------------------------------------------------------------------------------------
# The recipe
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["tiny", "mcr_qwen"])
def test_the_shipped_recipes_generate_as_before(name):
    extra = [] if name == "tiny" else ["data.root=/data/x", "data.images=/data/x/images"]
    recipe = load_recipe([f"recipe={name}", *extra])
    assert not recipe.grpo_generation.merge_lora and not recipe.grpo_generation.compile
    generation_keys = {"cache_implementation", "steps_per_generation", "generation_batch_size"}
    assert not generation_keys & set(recipe.grpo) and not recipe.grpo.get("use_vllm")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["grpo.use_transformers_continuous_batching=true"], r"refuses continuous batching for multimodal"),
        (["grpo.use_transformers_paged=true"], r"grpo.use_transformers_paged: TRL's GRPOTrainer refuses"),
        (["grpo_generation.compile=true"], r"compile needs a static cache \(grpo.cache_implementation"),
        (["grpo_generation.merge_lora=true", "lora.enabled=false"], r"merge_lora merges LoRA.*lora.enabled"),
        (["grpo_generation.merge_lora=true", "grpo.use_vllm=true"], r"merge_lora sets how transformers"),
    ],
)
def test_the_recipe_refuses_generation_settings_that_cannot_work(overrides, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(["recipe=tiny", *overrides])


def test_trl_still_refuses_continuous_batching_for_a_vision_language_model(tiny_model_dir):
    """The continuous_batching path stays refused while TRL refuses it; when this fails, TRL
    accepts images there: measure the path (bench/gpu_paths.py) and lift the recipe check."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from mcr.models import load_processor

    args = GRPOConfig(
        output_dir="unused", use_transformers_continuous_batching=True, use_cpu=True, report_to="none"
    )
    processor = load_processor(str(tiny_model_dir), min_pixels=3136, max_pixels=50176)
    with pytest.raises(ValueError, match="does not support multimodal models"):
        GRPOTrainer(
            model=str(tiny_model_dir),
            reward_funcs=[lambda completions, **_: [0.0] * len(completions)],
            args=args,
            train_dataset=Dataset.from_list([{"prompt": "hi"}]),
            processing_class=processor,
        )


# ---------------------------------------------------------------------------------------------
# Each path on the tiny model
# ---------------------------------------------------------------------------------------------
def _recipe(root, name: str, *extra: str):
    return load_recipe(
        [
            *tiny_run_args(root, TINY_BASE, posts=20),
            f"grpo.output_dir={root / 'runs' / name}",
            "grpo.max_steps=2",
            # as mcr_qwen: two micro-batches a step, generated together (2 prompts x 2 generations)
            "grpo.per_device_train_batch_size=2",
            "grpo.gradient_accumulation_steps=2",
            "grpo.num_generations=2",
            "grpo.max_completion_length=16",
            "grpo.learning_rate=0.01",
            "grpo.report_to=none",
            "grpo.save_strategy=no",
            "grpo.generation_kwargs={do_sample: false}",  # greedy first; sampling is switched on below
            f"rewards.modules=[{DENSE_REWARD}]",
            "rewards.funcs.test_distinct_chars=1.0",
            *extra,
        ]
    )


def _same_adapters(model) -> None:
    """The same non-zero adapters on every path, whatever peft drew."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in sorted(model.named_parameters(), key=lambda item: item[0]):
            if "lora_" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.02)


def _record_reward_inputs(trainer) -> dict[str, dict]:
    """Wrap the first reward: every row it scores, its columns by record id."""
    seen: dict[str, dict] = {}
    reward = trainer.reward_funcs[0]

    def recording(*args, **kwargs):
        for i, rid in enumerate(kwargs["id"]):
            seen[rid] = {key: copy.deepcopy(kwargs[key][i]) for key in REWARD_COLUMNS if key in kwargs}
        return reward(*args, **kwargs)

    recording.__name__ = getattr(reward, "__name__", "recording")
    trainer.reward_funcs[0] = recording
    return seen


def _by_id(batch: list[dict], out: dict) -> dict[str, list[list[int]]]:
    completions: dict[str, list[list[int]]] = {}
    for row, ids, mask in zip(batch, out["completion_ids"], out["completion_mask"], strict=True):
        completions.setdefault(row["id"], []).append(ids[mask.bool()].tolist())
    return completions


def _sample_logprob(trainer, out: dict) -> float:
    """Mean log-probability of the sampled tokens under the policy at the sampling temperature
    (minus the entropy of what was sampled: a path sampling otherwise moves it)."""
    ids = torch.cat([out["prompt_ids"], out["completion_ids"]], dim=1)
    mask = torch.cat([out["prompt_mask"], out["completion_mask"]], dim=1)
    with torch.no_grad():
        logps, _, _ = trainer._get_per_token_logps_and_entropies(
            trainer.model,
            ids,
            mask,
            out["completion_ids"].size(1),
            pixel_values=out.get("pixel_values"),
            image_grid_thw=out.get("image_grid_thw"),
            num_images=out.get("num_images"),
            mm_token_type_ids=out.get("mm_token_type_ids"),
        )
    return logps[out["completion_mask"].bool()].mean().item()


def _named(trainer, *, lora: bool):
    return [(n, p) for n, p in trainer.model.named_parameters() if ("lora_" in n) == lora]


def _run_path(root, name: str) -> dict:
    """A path's trainer: greedy, then sampled generations of its first generation batch, the
    rewards' inputs, then two training steps; what changed."""
    import mcr.train_grpo

    trainer, _ = mcr.train_grpo.build_trainer(_recipe(root, name, *PATHS.BY_NAME[name].overrides))
    _same_adapters(trainer.model)
    frozen = {n: p.detach().clone() for n, p in _named(trainer, lora=False)}
    seen = _record_reward_inputs(trainer)
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    greedy = trainer._generate_and_score_completions(batch)
    trainer.generation_config.do_sample = True  # the recipe's sampling, for the rest
    torch.manual_seed(1)
    sampled = trainer._generate_and_score_completions(batch)
    logprob = _sample_logprob(trainer, sampled)
    adapters = {n: p.detach().clone() for n, p in _named(trainer, lora=True)}
    trainer.train()
    return {
        "trainer": trainer,
        "batch": batch,
        "greedy": _by_id(batch, greedy),
        "sampled": _by_id(batch, sampled),
        "logprob": logprob,
        "rewards_saw": seen,
        "steps": trainer.state.global_step,
        "adapters_moved": [
            n for n, p in trainer.model.named_parameters() if "lora_" in n and not torch.equal(p, adapters[n])
        ],
        "frozen_moved": [
            n
            for n, p in trainer.model.named_parameters()
            if "lora_" not in n and not torch.equal(p, frozen[n])
        ],
    }


@pytest.fixture(scope="module")
def paths_root(tmp_path_factory):
    return tmp_path_factory.mktemp("paths")


@pytest.fixture(scope="module")
def today(paths_root):
    """The recipe as written: what every path is compared with."""
    return _run_path(paths_root, "default")


def test_every_measured_path_is_tested_here_or_says_why_not():
    for path in PATHS.PATHS:
        assert path.name in ON_CPU or path.skipped("cpu"), path.name


@pytest.mark.slow
@pytest.mark.parametrize("name", ON_CPU)
def test_a_generation_path_generates_and_trains_as_today(name, paths_root, today):
    run = today if name == "default" else _run_path(paths_root, name)
    trainer = run["trainer"]
    shared = sorted(set(run["greedy"]) & set(today["greedy"]))
    assert len(shared) == 2  # the first two prompts (a larger generation batch holds more)
    if name == "big_batch":
        assert len(run["batch"]) == 8 and trainer.args.generation_batch_size == 8
    else:
        assert len(run["batch"]) == 4
    # greedy: today's completions, token for token
    assert {rid: run["greedy"][rid] for rid in shared} == {rid: today["greedy"][rid] for rid in shared}
    assert all(len(set(map(tuple, c))) == 1 for c in run["greedy"].values())  # greedy is greedy
    if len(run["batch"]) == len(today["batch"]):  # the same draws: the same samples
        assert run["sampled"] == today["sampled"]
    else:  # other draws from the same distribution
        assert run["logprob"] == pytest.approx(today["logprob"], abs=1.0)
    assert any(len(set(map(tuple, c))) > 1 for c in run["sampled"].values())  # sampling samples
    # the rewards see the same gold, image sizes and box frames
    assert set(REWARD_COLUMNS) <= set(next(iter(run["rewards_saw"].values())))
    assert {rid: run["rewards_saw"][rid] for rid in shared} == {
        rid: today["rewards_saw"][rid] for rid in shared
    }
    # two steps train the adapters and nothing else, merged or not
    assert run["steps"] == 2 and run["adapters_moved"] and not run["frozen_moved"]


@pytest.mark.slow
def test_the_compiled_path_is_wired_for_cuda_graphs(paths_root):
    """The config TRL generates with on the compiled path: compilation allowed (TRL forbids it),
    CUDA graphs (mode reduce-overhead), a static cache sized once for the longest prompt."""
    import mcr.train_grpo
    from mcr.lengths import sequence_lengths

    recipe = _recipe(paths_root, "wiring", *PATHS.BY_NAME["compiled"].overrides)
    trainer, processor = mcr.train_grpo.build_trainer(recipe)
    config = trainer.generation_config
    assert config.cache_implementation == "static" and config.disable_compile is False
    assert config.compile_config.mode == "reduce-overhead" and config.compile_config.backend == "inductor"
    assert trainer.generation_settings.merge_lora
    rows = trainer.train_dataset.to_list()
    longest = max(p for p, _, _ in sequence_lengths(processor, rows, recipe.image_space))
    assert config.max_cache_len == longest + 16
    default, _ = mcr.train_grpo.build_trainer(_recipe(paths_root, "wiring-default"))
    assert default.generation_config.disable_compile is True  # TRL's, untouched
    assert default.generation_config.compile_config is None
    assert default.generation_config.cache_implementation is None


@pytest.mark.slow
@pytest.mark.skipif(
    not torch.cuda.is_available(), reason="CUDA graphs need a GPU (bench/gpu.py measures them)"
)
def test_the_compiled_path_generates_with_cuda_graphs(paths_root):
    import mcr.train_grpo

    trainer, _ = mcr.train_grpo.build_trainer(
        _recipe(paths_root, "cuda-graphs", *PATHS.BY_NAME["compiled"].overrides, "grpo.use_cpu=false")
    )
    batch = next(iter(trainer.get_train_dataloader()))
    trainer.model.train()
    out = trainer._generate_and_score_completions(batch)
    assert out["completion_ids"].shape[0] == len(batch)


@pytest.mark.slow
def test_compiled_decoding_on_a_cpu_gives_todays_completions_and_compiles_once(paths_root, today):
    """The compiled path with dynamo's eager backend, the compilation forced on a CPU (transformers'
    testing switch): today's greedy completions, and a longer prompt after them reuses the same
    graphs (the static cache is sized once for the run: no recompilation)."""
    import torch._dynamo
    from torch._dynamo.utils import counters

    import mcr.train_grpo
    from mcr.lengths import sequence_lengths

    recipe = _recipe(
        paths_root,
        "eager-compiled",
        *PATHS.BY_NAME["compiled"].overrides,
        "grpo_generation.compile_config={backend: eager}",
    )
    trainer, processor = mcr.train_grpo.build_trainer(recipe)
    trainer.generation_config.compile_config._compile_all_devices = True
    _same_adapters(trainer.model)
    first = next(iter(trainer.get_train_dataloader()))
    rows = trainer.train_dataset.to_list()
    lengths = [p for p, _, _ in sequence_lengths(processor, rows, recipe.image_space)]
    longest = max(range(len(rows)), key=lengths.__getitem__)
    second = [*first[:2], *[trainer.train_dataset[longest]] * 2]  # the same size, a longer prompt
    torch._dynamo.reset()
    counters.clear()
    try:
        trainer.model.train()
        out = trainer._generate_and_score_completions(first)
        graphs = counters["stats"]["unique_graphs"]
        assert graphs > 0  # dynamo compiled the decoding step
        greedy = _by_id(first, out)
        shared = set(greedy) & set(today["greedy"])
        assert shared and {r: greedy[r] for r in shared} == {r: today["greedy"][r] for r in shared}
        again = trainer._generate_and_score_completions(second)
        assert again["prompt_ids"].shape[1] > out["prompt_ids"].shape[1]
        assert counters["stats"]["unique_graphs"] == graphs  # the same graphs: no recompilation
    finally:
        torch._dynamo.reset()
