"""One home per benchmark: ``mcr.benchmarks.<name>`` holds everything about it.

Each home has its loader and stats, its rows (prompt, gold column, image sizes), its MRSI style
context (training tasks), its official scorer and its prediction-file reading, and names where
its templates (``templates/prompts/<name>.jinja``, ``templates/mrsi/<name>/``) and rewards
(``rewards/``) are. The protocol, with the optional capabilities and their defaults, is in
``base``; the micro P/R/F1 and accuracy the scorers share in ``metrics``; the reliance probes'
altered inputs in ``reliance_inputs``.

| name | trains | home |
|---|---|---|
| ``gmner`` | yes | Twitter-GMNER (grounded multimodal NER) |
| ``mate`` | yes | MATE (cross-modal entity linking) |
| ``mmra`` | no | MMRA (multi-image relational association) |
| ``grec`` | no | GREC on gRefCOCO (generalized referring expressions) |
| ``mner_mi`` | no | MNER-MI (multimodal NER, several images) |

``BENCHMARKS`` maps a benchmark's name to it. It is found, not listed: every package here whose
``__init__`` defines ``BENCHMARK`` (an instance of a ``Benchmark`` subclass) registers on import,
so a new home needs no other edit. A benchmark outside this package, in a user's own project,
registers the same way once its module is imported: a recipe names it in ``benchmarks.modules``
and the ``mcr`` command takes ``--benchmark-module`` (a dotted module on ``sys.path`` or a ``.py``
file, as ``rewards.modules``: ``mcr.user_modules``).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable

from mcr.benchmarks.base import Benchmark, TrainingTask
from mcr.user_modules import UserModuleError, import_user_module

BENCHMARKS: dict[str, Benchmark] = {}
_ORIGINS: dict[str, str] = {}  # benchmark name -> the module that registered it
_NAME = re.compile(r"[a-z][a-z0-9_]*")


def register_benchmark(benchmark: Benchmark, origin: str) -> Benchmark:
    """Add a benchmark to ``BENCHMARKS`` (``origin``: the module defining it, for errors).
    Registering the same object again is a no-op; another under a name taken is an error."""
    if not isinstance(benchmark, Benchmark):
        raise TypeError(
            f"{origin}: BENCHMARK must be an instance of a mcr.benchmarks.Benchmark subclass, "
            f"not {type(benchmark).__name__}"
        )
    if benchmark.trains != isinstance(benchmark, TrainingTask):
        raise TypeError(
            f"{origin}: a benchmark trains when it subclasses TrainingTask ({type(benchmark).__name__} "
            f"sets trains={benchmark.trains})"
        )
    name = getattr(type(benchmark), "name", None)
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(
            f"{origin}: a benchmark's name is lower case letters, digits and underscores, not {name!r}"
        )
    known = BENCHMARKS.get(name)
    if known is benchmark:
        return benchmark
    if known is not None:
        raise ValueError(
            f"{origin}: benchmark {name!r} is already registered by {_ORIGINS[name]}: choose another "
            "name (or, for the same module, name it one way only: by its file or by its dotted name)"
        )
    taken = {b.cli_name: n for n, b in BENCHMARKS.items()}
    if benchmark.cli_name in taken:
        raise ValueError(
            f"{origin}: benchmark {name!r}'s command name {benchmark.cli_name!r} is benchmark "
            f"{taken[benchmark.cli_name]!r}'s"
        )
    BENCHMARKS[name] = benchmark
    _ORIGINS[name] = origin
    return benchmark


def load_benchmark_modules(entries: Iterable[str], setting: str = "benchmarks.modules") -> list[Benchmark]:
    """Import every entry (a dotted module or a ``.py`` file, each once) and register the
    ``BENCHMARK`` it defines; ``setting`` names where the entries come from, for errors."""
    return [load_benchmark_module(entry, setting) for entry in entries]


def load_benchmark_module(entry: str, setting: str = "benchmarks.modules") -> Benchmark:
    module = import_user_module(entry, setting)
    if "BENCHMARK" not in vars(module):
        raise UserModuleError(
            f"{setting}: {entry!r}: defines no BENCHMARK (an instance of a mcr.benchmarks.Benchmark subclass)"
        )
    try:
        return register_benchmark(module.BENCHMARK, repr(entry))
    except (TypeError, ValueError) as err:
        raise UserModuleError(f"{setting}: {err}") from err


def get_benchmark(name: str) -> Benchmark:
    """A registered benchmark by its name or its command name (``mner_mi``, ``mner-mi``)."""
    key = name.replace("-", "_")
    if key in BENCHMARKS:
        return BENCHMARKS[key]
    for benchmark in BENCHMARKS.values():
        if benchmark.cli_name == name:
            return benchmark
    raise ValueError(
        f"unknown benchmark {name!r}; available: {sorted(BENCHMARKS)} (a benchmark of your own: "
        "name its module in benchmarks.modules, or --benchmark-module for the mcr command)"
    )


def get_task(name: str) -> TrainingTask:
    """A benchmark a recipe can train on (its ``task``)."""
    benchmark = get_benchmark(name)
    if not isinstance(benchmark, TrainingTask):
        trainable = sorted(n for n, b in BENCHMARKS.items() if b.trains)
        raise ValueError(f"task {name!r} is evaluated only; a recipe trains on one of {trainable}")
    return benchmark


def _register_homes() -> None:
    """Register the ``BENCHMARK`` of every package here that defines one."""
    for found in pkgutil.iter_modules(__path__):
        if found.ispkg:
            module = importlib.import_module(f"{__name__}.{found.name}")
            if "BENCHMARK" in vars(module):
                register_benchmark(module.BENCHMARK, module.__name__)


_register_homes()

__all__ = [
    "BENCHMARKS",
    "Benchmark",
    "TrainingTask",
    "get_benchmark",
    "get_task",
    "load_benchmark_modules",
    "register_benchmark",
]
