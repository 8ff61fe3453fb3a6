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
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf
from omegaconf.errors import ConfigKeyError, OmegaConfBaseException

DEFAULT_RECIPE = "tiny"


class RecipeError(ValueError):
    """A recipe or override that does not fit the schema."""


@dataclass
class ModelArgs:
    name_or_path: str = field(
        default="outputs/tiny-qwen2.5-vl",
        metadata={"help": "Checkpoint directory or hub id of a Qwen2.5-VL-architecture model."},
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


@dataclass
class LoraArgs:
    enabled: bool = field(default=True, metadata={"help": "Train LoRA adapters (False trains all weights)."})
    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: str = field(
        default=r".*language_model.*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)",
        metadata={
            "help": "Regex over module names (PEFT full match); the default adapts the language model only."
        },
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
        default=0, metadata={"help": "Posts to synthesize into data.root when it is missing (0: never)."}
    )
    seed: int = 0


@dataclass
class DataArgs:
    format: str = field(default="twitter-gmner", metadata={"help": "Data set layout; twitter-gmner."})
    root: str = field(
        default="outputs/data/synth-gmner",
        metadata={"help": "Release root holding txt/ and xml/ (Twitter10000_v2.0 for the real set)."},
    )
    images: str | None = field(
        default=None,
        metadata={"help": "Folder of <id>.jpg images (shipped separately); default <root>/images."},
    )
    train_split: str = "train"
    eval_split: str | None = field(
        default=None, metadata={"help": "Split evaluated during training, if any."}
    )
    max_train_samples: int | None = None
    synth: SynthArgs = field(default_factory=SynthArgs)


@dataclass
class RewardArgs:
    # Empty by default: OmegaConf merges dicts key by key, so defaults here would leak into
    # every recipe's list. A recipe names all its rewards; the command line may add some.
    funcs: dict[str, float] = field(
        default_factory=dict, metadata={"help": "Reward name (from mcr.rewards.REGISTRY) -> weight λ."}
    )
    iou_threshold: float = field(
        default=0.5, metadata={"help": "σ: IoU a predicted box needs to count as correct."}
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
    benchmarks: list[str] = field(
        default_factory=list,
        metadata={
            "help": "Benchmarks to evaluate (gmner, mate, mmra, grec, mner_mi); [] evaluates the recipe's "
            "task on its own data.root. Others read their data from eval.data.<name>."
        },
    )
    data: dict[str, BenchmarkDataArgs] = field(
        default_factory=dict,
        metadata={"help": "Where each benchmark's data live: <name>: {root, images, split}."},
    )
    split: str = field(default="test", metadata={"help": "Split of the recipe's own task to evaluate on."})
    batch_size: int = field(default=16, metadata={"help": "Prompts per batched, left-padded generate call."})
    max_new_tokens: int = 256
    do_sample: bool = field(default=False, metadata={"help": "Greedy by default."})
    temperature: float = 1.0
    max_samples: int | None = None
    output_dir: str | None = field(
        default=None, metadata={"help": "Where predictions and metrics go; default outputs/<recipe>/eval."}
    )
    report_to: list[str] = field(
        default_factory=list,
        metadata={"help": "[wandb] logs metrics and a table of samples (offline without login)."},
    )
    log_samples: int = field(default=32, metadata={"help": "Samples per checkpoint in the W&B table."})
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
    name: str = DEFAULT_RECIPE
    task: str = field(default="gmner", metadata={"help": "Prompt template under templates/prompts/."})
    seed: int = 42
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


def split_recipe_args(argv: list[str]) -> tuple[str, list[str]]:
    """``["recipe=tiny", "a.b=1"]`` -> ``("tiny", ["a.b=1"])``; every argument must be key=value."""
    name, overrides = DEFAULT_RECIPE, []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep or not key:
            raise RecipeError(
                f"expected key=value, got {arg!r} (example: recipe=tiny grpo.learning_rate=1e-6)"
            )
        if key == "recipe":
            name = value
        elif value.lower() in _YAML_WORDS and value.lower() not in ("true", "false"):
            # keep yes/no/on/off as written (save_strategy=no); boolean fields convert them later
            overrides.append(f"{key.removeprefix('+')}='{value}'")
        else:
            overrides.append(arg.removeprefix("+"))
    return name, overrides


def load_recipe(argv: list[str] | None = None) -> Recipe:
    """Load ``recipe=NAME`` with its dotted overrides and check every key."""
    name, overrides = split_recipe_args(list(argv or []))
    path = recipe_path(name)
    try:
        from_file = OmegaConf.load(path)
        from_cli = OmegaConf.from_dotlist(overrides)
    except OmegaConfBaseException as err:
        raise RecipeError(f"{path}: {err}") from None
    schema = Recipe()
    _check_keys(OmegaConf.to_container(from_file, resolve=False), schema, "", str(path))
    _check_keys(OmegaConf.to_container(from_cli, resolve=False), schema, "", "the command line")
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
    if not recipe.rewards.funcs:
        raise RecipeError(
            f"{path}: rewards.funcs names no reward; list name: weight pairs from mcr.rewards.REGISTRY"
        )
    if "name" not in from_file and "name" not in from_cli:
        recipe.name = path.stem
    from trl import GRPOConfig, SFTConfig

    recipe.grpo = _check_trainer_args("grpo", recipe.grpo, GRPOConfig, f"{path} or the command line")
    recipe.sft = _check_trainer_args("sft", recipe.sft, SFTConfig, f"{path} or the command line")
    return recipe


def recipe_to_dict(recipe: Recipe) -> dict[str, Any]:
    return dataclasses.asdict(recipe)
