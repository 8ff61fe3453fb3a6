"""A process's set-up: the process group, logging, W&B (offline without a login), and the command
line every entry point shares (``run_entry_point``)."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)
_USER_WANDB_DIR = os.environ.get("WANDB_DIR")
_USER_WANDB_DATA_DIR = os.environ.get("WANDB_DATA_DIR")


def wandb_logged_in() -> bool:
    """True when W&B has credentials: WANDB_API_KEY or an api.wandb.ai entry in ~/.netrc."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    try:
        return "api.wandb.ai" in netrc.read_text()
    except OSError:
        return False


def configure_wandb(report_to: Any, output_dir: str, project: str = "mcr") -> None:
    """Make W&B logging work everywhere: offline when there is no login, files in the run's folder."""
    targets = [report_to] if isinstance(report_to, str) else list(report_to or [])
    if "wandb" not in targets and "all" not in targets:
        return
    os.environ.setdefault("WANDB_PROJECT", project)
    # each run's files go to its own folder, unless the user chose one before starting
    os.environ["WANDB_DIR"] = _USER_WANDB_DIR or output_dir
    # W&B stages a table's images (in a run_table artifact) under WANDB_DATA_DIR, by default in
    # the home folder: keep them with the run, where `wandb sync` finds them
    os.environ["WANDB_DATA_DIR"] = _USER_WANDB_DATA_DIR or str(
        Path(os.environ["WANDB_DIR"]) / "wandb" / "data"
    )
    if "wandb" in sys.modules:  # a finished run earlier in this process froze W&B's settings
        sys.modules["wandb"].teardown()
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    if "WANDB_MODE" not in os.environ and not wandb_logged_in():
        os.environ["WANDB_MODE"] = "offline"
        logger.info(
            "no W&B login found: logging offline to %s/wandb (sync later with `wandb sync`)", output_dir
        )


def process_state():
    """The process's ``accelerate.PartialState``, created here before anything else asks for it.

    Without a GPU, accelerate only forms a process group over gloo when told it runs on the CPU
    (``cpu=True``); otherwise each process of ``accelerate launch --num_processes N`` would do the
    whole job alone. DeepSpeed launches set up their own group and keep the default.
    """
    import torch
    from accelerate import PartialState

    deepspeed = os.environ.get("ACCELERATE_USE_DEEPSPEED", "false").lower() == "true"
    return PartialState(cpu=not torch.cuda.is_available() and not deepspeed)


def setup_logging(is_main_process: bool) -> None:
    """INFO logs on the main process, warnings only elsewhere; quiet transformers and datasets."""
    import datasets
    import transformers

    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        level=logging.INFO if is_main_process else logging.WARNING,
        handlers=[logging.StreamHandler(sys.stdout)],
    )
    transformers.utils.logging.set_verbosity_warning()
    datasets.utils.logging.set_verbosity_warning()


def leave_process_group() -> None:
    """Wait for every process, then close the process group, before an entry point exits.

    A process that exits while another still uses the group (a rank done with its share while
    rank 0 writes the results) closes the connections under it; gloo can abort the survivor
    (SIGABRT) instead of letting it finish. A no-op in a single process.
    """
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def run_entry_point(
    main: Callable[[Any], Any],
    doc: str,
    argv: list[str] | None = None,
    check: Callable[[Any], None] | None = None,
) -> None:
    """The command line of an entry point (``mcr sft``, ``python -m mcr.train_sft``, ``accelerate
    launch -m mcr.train_sft``, a clone's ``train_sft.py``): ``recipe=NAME key=value ...``.

    ``--help`` prints ``doc`` and every recipe key (with ``recipe=NAME``, that recipe's values).
    Otherwise the recipe is loaded and checked (``check``: the entry point's own checks, run before
    anything heavy loads), ``main`` runs it, and the process group closes. A recipe that does not
    load exits with its message and no traceback.
    """
    from mcr.config import RecipeError, load_recipe, recipe_help, split_recipe_args

    argv = sys.argv[1:] if argv is None else list(argv)
    if {"-h", "--help"} & set(argv):
        named = [a for a in argv if a.startswith("recipe=")]
        print(doc + "\n" + recipe_help(split_recipe_args(named)[0] if named else None))
        return
    try:
        recipe = load_recipe(argv)
        if check is not None:
            check(recipe)
    except (RecipeError, RuntimeError, ValueError) as err:
        sys.exit(f"error: {err}")
    main(recipe)
    leave_process_group()
