"""The recipe's schema: one dataclass per section, every field with its default and help text.

The ``grpo`` and ``sft`` sections are free dicts here, checked against ``trl.GRPOConfig`` and
``trl.SFTConfig`` when a recipe is loaded (``mcr.config.checks``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcr.families import Family, family_of_model_type, get_family
from mcr.image_space import ImageSpace

DEFAULT_RECIPE = "tiny"


@dataclass
class ModelArgs:
    name_or_path: str = field(
        default="outputs/tiny-qwen2.5-vl",
        metadata={
            "help": "Checkpoint directory or hub id of the model, or mcr:NAME for a model shipped with MCR "
            "(mcr:tiny-base, the pretrained tiny base in assets/tiny-base)."
        },
    )
    build_tiny: bool = field(
        default=False,
        metadata={
            "help": "Build the offline tiny Qwen2.5-VL at name_or_path when that directory does not exist."
        },
    )
    tiny_seed: int = field(default=0, metadata={"help": "Seed of the tiny model's weights and tokenizer."})
    dtype: str = field(default="float32", metadata={"help": "float32, bfloat16, float16 or auto."})
    attn_implementation: str | None = field(
        default=None,
        metadata={
            "help": "auto (flash_attention_2 when flash-attn and a GPU are there, else sdpa), sdpa, eager, "
            "flash_attention_2; None lets transformers choose."
        },
    )
    init_adapter: str | None = field(
        default=None,
        metadata={"help": "A LoRA adapter to start from (the SFT stage's output_dir), or None."},
    )
    merge_init_adapter: bool = field(
        default=True,
        metadata={
            "help": "Merge init_adapter into the weights and train a fresh LoRA on top (True), "
            "or keep training the same adapter (False)."
        },
    )
    min_pixels: int = field(
        default=56 * 56, metadata={"help": "Smallest image area after Qwen2.5-VL resizing."}
    )
    max_pixels: int = field(
        default=224 * 224,
        metadata={"help": "Largest image area after resizing; also fixes the pixel space of gold boxes."},
    )
    family: str = field(
        default="auto",
        metadata={
            "help": "Model family (mcr.families): qwen2_vl, qwen2_5_vl (also MiMo-VL), qwen3_vl, qwen3_5, or "
            "one of families.modules; auto reads it from the checkpoint's config.json (the tiny model: "
            "qwen2_5_vl)."
        },
    )
    box_convention: str | None = field(
        default=None,
        metadata={
            "help": "How the model writes boxes: pixels (of the resized image) or norm1000 (0-1000 of width "
            "and height); None takes the family's."
        },
    )


@dataclass
class LoraArgs:
    enabled: bool = field(default=True, metadata={"help": "Train LoRA adapters (False trains all weights)."})
    r: int = field(default=16, metadata={"help": "LoRA rank."})
    alpha: int = field(default=32, metadata={"help": "LoRA alpha (scaling = alpha / r)."})
    dropout: float = field(default=0.05, metadata={"help": "Dropout on the LoRA path."})
    target_modules: str | None = field(
        default=None,
        metadata={
            "help": "Regex over module names (PEFT full match); None takes the family's language-model "
            "projections (and, with vision, the vision tower's)."
        },
    )
    vision: bool = field(
        default=False, metadata={"help": "Adapt the vision tower and its merger too (family's module names)."}
    )
    modules_to_save: list[str] | None = field(
        default=None,
        metadata={
            "help": "Modules trained in full beside the adapters (PEFT modules_to_save), e.g. [norm] for the "
            "language model's final norm."
        },
    )


@dataclass
class SynthArgs:
    n: int = field(
        default=0, metadata={"help": "Examples to synthesize into data.root when it is missing (0: never)."}
    )
    seed: int = field(default=0, metadata={"help": "Seed of the synthetic data."})
    splits: list[float] = field(
        default_factory=lambda: [0.8, 0.1, 0.1],
        metadata={"help": "Shares of train, dev and test among the n examples."},
    )
    layout: str = field(
        default="free",
        metadata={
            "help": "Where synthetic GMNER images draw their objects (LAYOUTS in "
            "mcr.benchmarks.gmner.synthetic): free (four sizes, anywhere) or grid (one size, "
            "objects in cells of 2x2 visual tokens)."
        },
    )
    colour_look_alikes: float = field(
        default=0.0,
        metadata={
            "help": "GMNER: chance that an entity named but not shown gets a look-alike in its colour "
            "(another shape drawn in it), besides the look-alikes every entity may get. Raised, "
            "whether the colour is drawn no longer tells shown from not shown; only the shape does."
        },
    )


@dataclass
class DataArgs:
    root: str = field(
        default="outputs/data/synth-gmner",
        metadata={
            "help": "The task's release: Twitter-GMNER root holding txt/ and xml/ (Twitter10000_v2.0), "
            "or a MATE folder of <split>.jsonl or its parquet export."
        },
    )
    images: str | None = field(
        default=None,
        metadata={
            "help": "Folder of the images (GMNER ships them separately); default <root>/images, or for "
            "MATE the JSONL file's folder."
        },
    )
    train_split: str = field(default="train", metadata={"help": "Split trained on."})
    eval_split: str | None = field(
        default=None, metadata={"help": "Split evaluated during training, if any."}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Keep the first N training examples (None: all)."}
    )
    synth: SynthArgs = field(default_factory=SynthArgs)


@dataclass
class FamilyArgs:
    modules: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Model-family modules of your own, imported before model.family is resolved: a dotted "
            "module on sys.path (my_pkg.families) or a .py file (relative paths from the current "
            "directory), each declaring a mcr.families.Family and calling register_family; named in "
            "model.family like the built-in ones."
        },
    )


@dataclass
class BenchmarkArgs:
    modules: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Benchmark modules of your own, imported before task and eval.benchmarks are used: a "
            "dotted module on sys.path (my_pkg.my_bench) or a .py file (relative paths from the current "
            "directory), each defining BENCHMARK (a mcr.benchmarks.Benchmark); named in task and "
            "eval.benchmarks like the built-in ones."
        },
    )


@dataclass
class RewardArgs:
    modules: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Reward modules of your own, imported before funcs is checked: a dotted module on "
            "sys.path (my_pkg.rewards) or a .py file (relative paths from the current directory); the "
            "rewards they register (@register from mcr.rewards) are named in funcs like the built-in ones."
        },
    )
    # Empty by default: OmegaConf merges dicts key by key, so defaults here would leak into
    # every recipe's list. A recipe names all its rewards; the command line may add some.
    funcs: dict[str, float] = field(
        default_factory=dict, metadata={"help": "Reward name (from mcr.rewards.REGISTRY) -> weight λ."}
    )
    iou_threshold: float = field(
        default=0.5,
        metadata={"help": "σ: IoU a predicted box needs to count as correct (every reward taking it)."},
    )
    params: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata={
            "help": "Parameters of one reward: <name>: {<parameter>: value}, e.g. grounding: "
            "{iou_threshold: 0.7}; over iou_threshold."
        },
    )


@dataclass
class MonitorArgs:
    enabled: bool = field(
        default=True,
        metadata={"help": "Log the reward-hacking monitors each GRPO step (mcr.rewards.monitors), weight 0."},
    )
    log_boxes: int = field(
        default=4,
        metadata={
            "help": "Completions per GRPO logging step drawn on their images with gold and predicted boxes "
            "(W&B table grpo/boxes; needs report_to wandb)."
        },
    )
    # defaults here merge with a recipe's (OmegaConf merges dicts key by key): a recipe sets
    # only the thresholds it changes
    thresholds: dict[str, float] = field(
        default_factory=lambda: {
            "empty_answer": 0.5,
            "text_outside_tags": 0.3,
            "whole_image_box": 0.2,
            "box_area_ratio": 4.0,
            "entity_ratio": 2.0,
            "duplicate_entities": 0.2,
            "completion_length": 0.95,
        },
        metadata={
            "help": "A warning names the monitor and the step when its logged mean exceeds this "
            "(completion_length: a share of max_completion_length)."
        },
    )


@dataclass
class MrsiArgs:
    # Empty by default for the same reason as rewards.funcs: a recipe lists all its styles.
    styles: dict[str, float] = field(
        default_factory=dict,
        metadata={"help": "Reasoning style (a template in templates/mrsi/<task>/) -> sampling weight."},
    )
    seed: int = field(default=0, metadata={"help": "Seed of the style draw and of the D1/D2 split."})
    sft_fraction: float = field(
        default=0.5,
        metadata={"help": "Share of the training split that goes to D1 (SFT); the rest is D2 (GRPO)."},
    )
    output_dir: str | None = field(
        default=None,
        metadata={"help": "Where the injected data set is saved; default outputs/<recipe>/mrsi."},
    )


# transformers' static caches (grpo.cache_implementation): the ones generate can compile over
STATIC_CACHES = ("static", "offloaded_static")


@dataclass
class GrpoGenerationArgs:
    """How GRPO generates with transformers, beyond TRL's own ``grpo`` keys (``cache_implementation``,
    ``steps_per_generation``, ``generation_kwargs``; docs/generation.md): ``mcr.generation``."""

    merge_lora: bool = field(
        default=False,
        metadata={
            "help": "Merge the LoRA adapters into the weights while GRPO generates (transformers generate; "
            "with grpo.use_vllm TRL merges for vLLM itself) and restore the weights bit for bit after, so "
            "the update sees the unmerged adapters. One matmul per projection at every decoding position "
            "instead of three; generation samples without lora.dropout; a copy of the adapted weights is "
            "held while generating."
        },
    )
    compile: bool = field(
        default=False,
        metadata={
            "help": "Let transformers compile GRPO's decoding step with torch.compile (CUDA graphs with "
            "the default compile_config), which TRL turns off. Needs grpo.cache_implementation: static "
            "(the cache is sized once, for the longest prompt plus max_completion_length) and a GPU: on a "
            "CPU transformers generates uncompiled."
        },
    )
    compile_config: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "Keyword arguments of transformers.CompileConfig for compile (fullgraph, dynamic, "
            "backend, mode, options); {} takes its defaults: inductor, mode reduce-overhead."
        },
    )


@dataclass
class BenchmarkDataArgs:
    root: str | None = field(
        default=None,
        metadata={
            "help": "The benchmark's release: Twitter-GMNER root, MATE/MMRA export folder or file, "
            "gRefCOCO folder (grefs(unc).json + instances.json), MNER-MI folder (MNER-MI_<split>.txt)."
        },
    )
    images: str | None = field(default=None, metadata={"help": "Images folder; default <root>/images."})
    split: str | None = field(default=None, metadata={"help": "Split; default the benchmark's test split."})


@dataclass
class EvalArgs:
    checkpoints: list[str] = field(
        default_factory=lambda: ["base"],
        metadata={
            "help": "Checkpoints to evaluate: adapters or full model folders; base is the untouched model "
            "(on the command line also checkpoints=[...] or checkpoint=DIR)."
        },
    )
    benchmarks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Benchmarks to evaluate (gmner, mate, mmra, grec, mner_mi, or one of "
            "benchmarks.modules); [] evaluates the recipe's task on its own data.root. Others read their "
            "data from eval.data.<name> (on the command line also benchmarks=[...])."
        },
    )
    data: dict[str, BenchmarkDataArgs] = field(
        default_factory=dict,
        metadata={"help": "Where each benchmark's data live: <name>: {root, images, split}."},
    )
    split: str = field(default="test", metadata={"help": "Split of the recipe's own task to evaluate on."})
    batch_size: int = field(default=16, metadata={"help": "Prompts per batched, left-padded generate call."})
    max_new_tokens: int = field(default=256, metadata={"help": "Tokens generated at most per answer."})
    do_sample: bool = field(default=False, metadata={"help": "Greedy by default."})
    temperature: float = field(default=1.0, metadata={"help": "Sampling temperature (with do_sample)."})
    max_samples: int | None = field(
        default=None, metadata={"help": "Evaluate the first N examples of each benchmark (None: all)."}
    )
    output_dir: str | None = field(
        default=None, metadata={"help": "Where predictions and metrics go; default outputs/<recipe>/eval."}
    )
    report_to: list[str] = field(
        default_factory=list,
        metadata={"help": "[wandb] logs metrics and a table of samples (offline without login)."},
    )
    log_samples: int = field(default=32, metadata={"help": "Samples per checkpoint in the W&B table."})
    probes: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Modality-reliance probes (eval/reliance.py): blank_image, swapped_image, masked_text "
            "(GMNER, MNER-MI), no_pointer, no_target (MATE); each benchmark runs those it has."
        },
    )
    probe_samples: int | None = field(
        default=None,
        metadata={"help": "Run the probes on the first N examples of each benchmark (None: all)."},
    )
    backend: str = field(
        default="hf", metadata={"help": "hf (transformers generate, data-parallel) or vllm (needs vLLM)."}
    )
    vllm: dict[str, Any] = field(
        default_factory=dict,
        metadata={
            "help": "Keyword arguments of vllm.LLM, e.g. tensor_parallel_size, gpu_memory_utilization."
        },
    )


@dataclass
class Recipe:
    name: str = field(default=DEFAULT_RECIPE, metadata={"help": "The run's name; default the recipe file's."})
    base: str | None = field(
        default=None,
        metadata={
            "help": "A recipe this one extends (a name in recipes/ or a YAML path): its keys, then these "
            "on top (dicts merge key by key)."
        },
    )
    task: str = field(
        default="gmner",
        metadata={
            "help": "The benchmark trained on (mcr.benchmarks): gmner, mate, or a training task of "
            "benchmarks.modules."
        },
    )
    seed: int = field(default=42, metadata={"help": "Seed of training (model init, sampling, data order)."})
    resume: str | None = field(
        default=None,
        metadata={
            "help": "auto: continue from the newest checkpoint in grpo.output_dir; or a checkpoint path."
        },
    )
    model: ModelArgs = field(default_factory=ModelArgs)
    lora: LoraArgs = field(default_factory=LoraArgs)
    data: DataArgs = field(default_factory=DataArgs)
    families: FamilyArgs = field(default_factory=FamilyArgs)
    benchmarks: BenchmarkArgs = field(default_factory=BenchmarkArgs)
    rewards: RewardArgs = field(default_factory=RewardArgs)
    mrsi: MrsiArgs = field(default_factory=MrsiArgs)
    monitors: MonitorArgs = field(default_factory=MonitorArgs)
    sft: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword arguments of trl.SFTConfig."}
    )
    grpo: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword arguments of trl.GRPOConfig."}
    )
    grpo_generation: GrpoGenerationArgs = field(default_factory=GrpoGenerationArgs)
    eval: EvalArgs = field(default_factory=EvalArgs)

    @property
    def images_dir(self) -> str:
        return self.data.images or str(Path(self.data.root) / "images")

    @property
    def family(self) -> Family:
        """The model family: ``model.family``, or the one of the checkpoint's config.json."""
        if self.model.family != "auto":
            return get_family(self.model.family)
        if self.model.build_tiny and not (Path(self.model.name_or_path) / "config.json").is_file():
            return get_family("qwen2_5_vl")  # what the tiny build makes unless model.family names one
        return family_of_model_type(_model_type(self.model.name_or_path))

    @property
    def image_space(self) -> ImageSpace:
        """How the model sees images and writes boxes: the resizing bounds and the family's factor
        and box convention."""
        return ImageSpace.of(
            self.family, self.model.min_pixels, self.model.max_pixels, self.model.box_convention
        )

    @property
    def sft_output_dir(self) -> str:
        return self.sft.get("output_dir") or f"outputs/{self.name}-sft"

    @property
    def grpo_output_dir(self) -> str:
        return self.grpo.get("output_dir") or f"outputs/{self.name}-grpo"

    @property
    def mrsi_dir(self) -> str:
        return self.mrsi.output_dir or f"outputs/{self.name}/mrsi"

    @property
    def eval_dir(self) -> str:
        return self.eval.output_dir or f"outputs/{self.name}/eval"


@functools.cache
def _model_type(name_or_path: str) -> str:
    """A checkpoint's ``model_type``: from its folder's config.json, or the hub's."""
    config = Path(name_or_path) / "config.json"
    if config.is_file():
        return json.loads(config.read_text())["model_type"]
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(name_or_path).model_type


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    return dataclasses.asdict(recipe)
