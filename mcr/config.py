"""Recipes: YAML files in ``recipes/`` checked against the dataclasses below.

A run is chosen as ``recipe=NAME`` (a file ``recipes/NAME.yaml`` or a path to a YAML file)
plus dotted overrides such as ``grpo.learning_rate=1e-6`` or ``lora.r=8``. Every key is
checked: an unknown one fails with the close matches and the valid keys of its section.
The ``grpo`` section holds keyword arguments of ``trl.GRPOConfig`` and is checked against
that class's fields.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

from mcr.families import BOX_CONVENTIONS, Family, family_of_model_type, get_family
from mcr.image_space import ImageSpace
from mcr.shipped import resolve_model_path

DEFAULT_RECIPE = "tiny"


class RecipeError(ValueError):
    """A recipe or override that does not fit the schema."""


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
            "help": "Model family (mcr.families): qwen2_vl, qwen2_5_vl (also MiMo-VL), qwen3_vl, qwen3_5; "
            "auto reads it from the checkpoint's config.json (the tiny model: qwen2_5_vl)."
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
class RewardArgs:
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
            "help": "Benchmarks to evaluate (gmner, mate, mmra, grec, mner_mi); [] evaluates the recipe's "
            "task on its own data.root. Others read their data from eval.data.<name> (on the command "
            "line also benchmarks=[...])."
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
        default="gmner", metadata={"help": "The benchmark trained on (mcr.benchmarks): gmner or mate."}
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
    rewards: RewardArgs = field(default_factory=RewardArgs)
    mrsi: MrsiArgs = field(default_factory=MrsiArgs)
    monitors: MonitorArgs = field(default_factory=MonitorArgs)
    sft: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword arguments of trl.SFTConfig."}
    )
    grpo: dict[str, Any] = field(
        default_factory=dict, metadata={"help": "Keyword arguments of trl.GRPOConfig."}
    )
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
        family = self.family
        return ImageSpace(
            self.model.min_pixels,
            self.model.max_pixels,
            family.resize_factor,
            self.model.box_convention or family.box_convention,
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


def recipes_dir() -> Path:
    return Path(str(files("mcr.recipes")))


def available_recipes() -> list[str]:
    return sorted(p.stem for p in recipes_dir().glob("*.yaml"))


def recipe_path(name: str) -> Path:
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    candidate = recipes_dir() / f"{name}.yaml"
    if not candidate.is_file():
        raise RecipeError(
            f"unknown recipe {name!r}; available: {available_recipes()} (or a path to a YAML file)"
        )
    return candidate


def _valid_keys(node: Any) -> list[str]:
    if dataclasses.is_dataclass(node):
        return [f.name for f in dataclasses.fields(node)]
    return []


def _key_error(dotted: str, valid: list[str], where: str) -> RecipeError:
    section, _, key = dotted.rpartition(".")
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return RecipeError(
        f"unknown key {dotted!r} in {where}{hint}\nvalid keys under "
        f"{section or 'the top level'!r}: {', '.join(sorted(valid))}"
    )


def _check_keys(cfg: dict[str, Any], schema: Any, prefix: str, where: str) -> None:
    valid = _valid_keys(schema)
    for key, value in cfg.items():
        dotted = f"{prefix}{key}"
        if key not in valid:
            raise _key_error(dotted, valid, where)
        sub = getattr(schema, key)
        if dataclasses.is_dataclass(sub) and isinstance(value, dict):
            _check_keys(value, sub, dotted + ".", where)


_YAML_WORDS = {"yes": True, "no": False, "on": True, "off": False, "true": True, "false": False}


def _check_trainer_args(section: str, args: dict[str, Any], config_class: type, where: str) -> dict[str, Any]:
    """Check a section's keys against a TRL config class and give YAML's yes/no/on/off their field's type."""
    fields = {f.name: f for f in dataclasses.fields(config_class) if f.init}
    checked = {}
    for key, value in args.items():
        if key not in fields:
            raise _key_error(f"{section}.{key}", list(fields), where)
        f = fields[key]
        is_bool = isinstance(f.default, bool) or str(f.type).replace(" ", "") in ("bool", "bool|None")
        if is_bool and isinstance(value, str) and value.lower() in _YAML_WORDS:
            value = _YAML_WORDS[value.lower()]
        elif not is_bool and isinstance(value, bool):
            raise RecipeError(
                f"{section}.{key} got the boolean {value} in {where}; YAML reads yes/no/on/off as "
                f"booleans, so quote the word (for example {section}.{key}='no')"
            )
        checked[key] = value
    return checked


def _set_keys(cfg: Any, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in OmegaConf.to_container(cfg, resolve=False).items():
        keys.add(prefix + str(key))
        if isinstance(value, dict):
            keys |= _set_keys(OmegaConf.create(value), f"{prefix}{key}.")
    return keys


# command-line shorthands for keys of the eval section
ALIASES = {
    "checkpoints": "eval.checkpoints",
    "checkpoint": "eval.checkpoints",
    "benchmarks": "eval.benchmarks",
}


def split_recipe_args(argv: list[str]) -> tuple[str, list[str]]:
    """``["recipe=tiny", "a.b=1"]`` -> ``("tiny", ["a.b=1"])``; every argument must be key=value."""
    name, overrides = DEFAULT_RECIPE, []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise RecipeError(
                f"expected key=value, got {arg!r} (example: recipe=tiny grpo.learning_rate=1e-6)"
            )
        key = key.removeprefix("+")
        if key == "recipe":
            name = value
        elif key in ALIASES:
            items = [v.strip() for v in value.strip().strip("[]").split(",") if v.strip()]
            overrides.append(f"{ALIASES[key]}=[{','.join(items)}]")
        elif value.lower() in _YAML_WORDS and value.lower() not in ("true", "false"):
            # keep yes/no/on/off as written (save_strategy=no); boolean fields convert them later
            overrides.append(f"{key}='{value}'")
        else:
            overrides.append(f"{key}={value}")
    return name, overrides


def _load_file(path: Path, chain: tuple[Path, ...] = ()) -> Any:
    """A recipe file with the recipes it extends (``base:``) merged under it, every key checked."""
    if path.resolve() in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path.resolve()))
        raise RecipeError(f"recipes extend each other in a cycle: {cycle}")
    try:
        cfg = OmegaConf.load(path)
    except OmegaConfBaseException as err:
        raise RecipeError(f"{path}: {err}") from None
    _check_keys(OmegaConf.to_container(cfg, resolve=False), Recipe(), "", str(path))
    base = cfg.get("base")
    if base is None:
        return cfg
    parent = recipe_path(str(base)) if not Path(str(base)).is_absolute() else Path(str(base))
    if not Path(str(base)).suffix and not parent.is_file():
        raise RecipeError(f"{path}: base recipe {base!r} not found; available: {available_recipes()}")
    return OmegaConf.merge(_load_file(parent, (*chain, path.resolve())), cfg)


def load_recipe(argv: list[str] | None = None) -> Recipe:
    """Load ``recipe=NAME`` (with the recipes it extends) and its dotted overrides; check every key."""
    name, overrides = split_recipe_args(list(argv or []))
    path = recipe_path(name)
    from_file = _load_file(path)
    try:
        from_cli = OmegaConf.from_dotlist(overrides)
    except OmegaConfBaseException as err:
        raise RecipeError(f"the command line: {err}") from None
    _check_keys(OmegaConf.to_container(from_cli, resolve=False), Recipe(), "", "the command line")
    try:
        merged = OmegaConf.merge(OmegaConf.structured(Recipe), from_file, from_cli)
    except ConfigKeyError as err:  # pragma: no cover - the checks above catch unknown keys first
        raise RecipeError(str(err)) from None
    except OmegaConfBaseException as err:
        raise RecipeError(
            f"{path} with overrides {overrides}: {err.msg if hasattr(err, 'msg') else err}"
        ) from None
    # "???" in a recipe marks a value the user must give (a merge would silently keep the default)
    missing = sorted(OmegaConf.missing_keys(from_file) - _set_keys(from_cli))
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        example = " ".join(f"{key}=..." for key in missing)
        raise RecipeError(f"{path}: {', '.join(missing)} {verb} required; pass {example} on the command line")
    recipe: Recipe = OmegaConf.to_object(merged)
    try:
        recipe.model.name_or_path = resolve_model_path(recipe.model.name_or_path)
    except FileNotFoundError as err:
        raise RecipeError(f"{path}: model.name_or_path: {err}") from None
    if not recipe.rewards.funcs:
        raise RecipeError(
            f"{path}: rewards.funcs names no reward; list name: weight pairs from mcr.rewards.REGISTRY"
        )
    _check_task_rewards(recipe, path)
    splits = recipe.data.synth.splits
    if len(splits) != 3 or min(splits) < 0 or abs(sum(splits) - 1) > 1e-6:
        raise RecipeError(
            f"{path}: data.synth.splits must be three shares (train, dev, test) summing to 1, not {splits}"
        )
    if recipe.model.family != "auto":
        try:
            get_family(recipe.model.family)
        except ValueError as err:
            raise RecipeError(f"{path}: model.family: {err}") from None
    from mcr.benchmarks import BENCHMARKS
    from mcr.rewards.monitors import MONITORS

    known_probes = {probe for b in BENCHMARKS.values() for probe in getattr(b, "probes", ())}
    if set(recipe.eval.probes) - known_probes:
        raise RecipeError(
            f"{path}: eval.probes names {sorted(set(recipe.eval.probes) - known_probes)}; the probes: "
            f"{sorted(known_probes)}"
        )

    unknown = sorted(set(recipe.monitors.thresholds) - set(MONITORS))
    if unknown:
        raise RecipeError(f"{path}: monitors.thresholds names {unknown}; the monitors: {sorted(MONITORS)}")
    if recipe.model.box_convention not in (None, *BOX_CONVENTIONS):
        raise RecipeError(
            f"{path}: model.box_convention must be one of {list(BOX_CONVENTIONS)} (or null for the "
            f"family's), not {recipe.model.box_convention!r}"
        )
    if "name" not in OmegaConf.load(path) and "name" not in from_cli:
        recipe.name = path.stem
    from trl import GRPOConfig, SFTConfig

    recipe.grpo = _check_trainer_args("grpo", recipe.grpo, GRPOConfig, f"{path} or the command line")
    recipe.sft = _check_trainer_args("sft", recipe.sft, SFTConfig, f"{path} or the command line")
    return recipe


def _check_task_rewards(recipe: Recipe, path: Path) -> None:
    """A reward another training task owns would score none of this task's rows: refuse it."""
    from mcr.benchmarks import BENCHMARKS

    task = BENCHMARKS.get(recipe.task)
    if task is None or not task.trains:
        trainable = sorted(name for name, b in BENCHMARKS.items() if b.trains)
        raise RecipeError(f"{path}: task {recipe.task!r} is not a training task; expected one of {trainable}")
    foreign = {
        name: other.name
        for other in BENCHMARKS.values()
        if other.trains and other is not task
        for name in other.rewards
        if name not in task.rewards
    }
    wrong = [name for name in recipe.rewards.funcs if name in foreign]
    if wrong:
        raise RecipeError(
            f"{path}: reward(s) {wrong} score {foreign[wrong[0]]} rows only, none of the {task.name} task's; "
            f"its rewards: {list(task.rewards)} (or rewards of your own)"
        )


def _field_help(f: dataclasses.Field) -> str:
    return f.metadata.get("help", "")


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        value = f.default_factory()
        return value if not dataclasses.is_dataclass(value) else None
    return None


def recipe_help(name: str | None = None) -> str:
    """Every section's keys with their defaults and help text (and, with ``name``, the recipe's values)."""
    values = OmegaConf.to_container(_load_file(recipe_path(name)), resolve=False) if name else {}
    lines = [
        "Recipe keys (recipe=NAME, then key=value overrides; a YAML recipe sets the same keys):",
        "",
    ]

    def section(schema: Any, prefix: str, given: dict) -> None:
        for f in dataclasses.fields(schema):
            value = getattr(schema, f.name)
            if dataclasses.is_dataclass(value):
                lines.append(f"{prefix}{f.name}:")
                section(value, f"{prefix}{f.name}.", given.get(f.name) or {})
                continue
            shown = given.get(f.name, _default(f))
            text = _field_help(f)
            if f.name in ("sft", "grpo"):
                config = "SFTConfig" if f.name == "sft" else "GRPOConfig"
                given_keys = ", ".join(sorted(shown or {})) or "-"
                text = f"{text} Any field of trl.{config}; the recipe sets: {given_keys}"
                shown = "{...}"
            lines.append(f"  {prefix}{f.name} = {shown!r}" + (f"\n      {text}" if text else ""))

    section(Recipe(), "", values)
    lines += ["", f"Recipes: {', '.join(available_recipes())} (or a path to a YAML file)."]
    return "\n".join(lines)


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    return dataclasses.asdict(recipe)
