#!/usr/bin/env bash
# MCR launcher: sets up the environment when needed, then runs a job through `accelerate launch`.
#
#   bash launch.sh                                   # default job: the tiny recipe's whole pipeline
#   bash launch.sh test                              # set up, lint, run the test suite
#   bash launch.sh setup                             # set up the environment only
#   bash launch.sh pipeline [options] recipe=NAME [key=value ...]   # SFT -> GRPO -> evaluation
#   bash launch.sh train [options] recipe=NAME [key=value ...]      # one stage (default train_grpo.py)
#   bash launch.sh ablation [options] [recipe=NAME ...]  # seven variants from one base, one table
#
# The pipeline runs the stages of `mcr pipeline plan`: train_sft.py, then train_grpo.py from the SFT
# adapter, then eval/evaluate.py on the untrained, SFT and GRPO checkpoints, printing one comparison
# table, then the time of each stage. (Without a clone, `mcr pipeline` runs the same in one process.)
#
# Options (before the recipe arguments):
#   --config FILE        accelerate config (default: recipes/accelerate/ddp.yaml with a GPU or
#                        with several processes, recipes/accelerate/cpu.yaml for one on the CPU)
#   --nproc N            processes (GPUs) per node (default: the config's, or every visible GPU)
#   --nnodes N           number of nodes; with --node-rank R --master-addr HOST --master-port PORT
#                        (default from Slurm's SLURM_NNODES/SLURM_NODEID or MASTER_ADDR/MASTER_PORT)
#   --entry FILE         the training script (default: train_grpo.py)
#
# Environment: MCR_VENV is where the virtual environment lives (default: .venv in this folder),
# so CI and shared machines can reuse one across clones; MCR_TORCH_SPEC is what `pip install`
# takes for torch when it is missing (default: torch==2.14.1 torchvision==0.29.1); MCR_DRY_RUN=1
# prints the commands without running them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$ROOT"
VENV="${MCR_VENV:-$ROOT/.venv}"
TORCH_SPEC="${MCR_TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}"
PY="$VENV/bin/python"

log() { printf '[launch] %s\n' "$*" >&2; }

find_python() {
  for candidate in python3.11 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  log "Python 3.11 or newer is needed"; return 1
}

setup() {
  # The stamp ties the environment to the dependency files and to this checkout (editable install).
  local stamp_file="$VENV/.mcr-stamp"
  local stamp
  stamp="$(cat pyproject.toml | sha256sum | cut -c1-16) $ROOT"
  if [[ -x "$PY" && -f "$stamp_file" && "$(cat "$stamp_file")" == "$stamp" ]]; then
    return 0
  fi
  if [[ ! -x "$PY" ]]; then
    log "creating the virtual environment at $VENV"
    "$(find_python)" -m venv "$VENV"
    "$PY" -m pip install --quiet --upgrade pip
  fi
  if ! "$PY" -c 'import torch, torchvision' >/dev/null 2>&1; then
    log "installing $TORCH_SPEC (several GB, once)"
    # shellcheck disable=SC2086
    "$PY" -m pip install --quiet $TORCH_SPEC
  fi
  log "installing mcr and its dependencies"
  "$PY" -m pip install --quiet -e ".[dev]"
  echo "$stamp" > "$stamp_file"
}

gpu_count() {
  "$PY" -c 'import torch; print(torch.cuda.device_count())' 2>/dev/null || echo 0
}

run_tests() {
  export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 WANDB_MODE=offline
  log "ruff check && ruff format --check"
  "$VENV/bin/ruff" check .
  "$VENV/bin/ruff" format --check .
  log "pytest $*"
  "$VENV/bin/pytest" "$@"
}

parse_launch_options() {
  # Sets LAUNCH (the accelerate launch prefix) and ARGS (recipe arguments) from the command line.
  # Defaults from the environment: Slurm's, then torchrun's names.
  local config="" nproc="" nnodes="${SLURM_NNODES:-${NNODES:-1}}" node_rank="${SLURM_NODEID:-${NODE_RANK:-0}}"
  local master_addr="${MASTER_ADDR:-}" master_port="${MASTER_PORT:-29500}"
  if [[ -z "$master_addr" && -n "${SLURM_JOB_NODELIST:-}" ]] && command -v scontrol >/dev/null 2>&1; then
    master_addr="$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)"
  fi
  ENTRY="train_grpo.py"
  ARGS=()
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --config) config="$2"; shift 2 ;;
      --nproc) nproc="$2"; shift 2 ;;
      --nnodes) nnodes="$2"; shift 2 ;;
      --node-rank) node_rank="$2"; shift 2 ;;
      --master-addr) master_addr="$2"; shift 2 ;;
      --master-port) master_port="$2"; shift 2 ;;
      --entry) ENTRY="$2"; shift 2 ;;
      -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
      --*) log "unknown option $1 (see bash launch.sh --help)"; exit 2 ;;
      *) ARGS+=("$1"); shift ;;
    esac
  done
  local gpus
  gpus="$(gpu_count)"
  local cpu_processes=""
  if [[ -z "$config" ]]; then
    if [[ "$gpus" -gt 0 ]]; then
      config="recipes/accelerate/ddp.yaml"
    elif [[ "${nproc:-1}" -gt 1 || "$nnodes" -gt 1 ]]; then
      # several processes without a GPU: data parallel over gloo (cpu.yaml would start one)
      config="recipes/accelerate/ddp.yaml"
      cpu_processes=1
    else
      config="recipes/accelerate/cpu.yaml"
    fi
  fi
  if [[ -z "$nproc" && "$gpus" -gt 0 ]]; then nproc="$gpus"; fi
  LAUNCH=("$VENV/bin/accelerate" launch --config_file "$config")
  if [[ -n "$cpu_processes" ]]; then LAUNCH+=(--mixed_precision no); fi
  if [[ -n "$nproc" ]]; then LAUNCH+=(--num_processes "$((nproc * nnodes))"); fi
  if [[ "$nnodes" -gt 1 ]]; then
    if [[ -z "$master_addr" ]]; then log "--nnodes $nnodes needs --master-addr (or MASTER_ADDR)"; exit 2; fi
    LAUNCH+=(--num_machines "$nnodes" --machine_rank "$node_rank" --main_process_ip "$master_addr"
             --main_process_port "$master_port")
  fi
}

run() {
  log "running: $*"
  if [[ -n "${MCR_DRY_RUN:-}" ]]; then return 0; fi  # print the commands only
  "$@"
}

train() {
  parse_launch_options "$@"
  run "${LAUNCH[@]}" "$ENTRY" "${ARGS[@]}"
}

STAGE_TIMES=()
stage() {
  # stage NAME COMMAND...: run it and keep its wall time for the summary
  local name="$1" began=$SECONDS
  shift
  run "$@"
  STAGE_TIMES+=("$name $((SECONDS - began))s")
  log "$name done in $((SECONDS - began))s"
}

run_plan() {
  # run_plan PLAN: each line of PLAN is a stage (its name, its script, then its recipe arguments,
  # tab-separated: `mcr pipeline plan`, `mcr ablation plan`), run through accelerate
  local fields
  while IFS=$'\t' read -r -u 3 -a fields; do
    if [[ ${#fields[@]} -lt 2 ]]; then continue; fi  # not a stage: a library's message on stdout
    stage "${fields[0]}" "${LAUNCH[@]}" "${fields[1]}" "${fields[@]:2}"
  done 3<<< "$1"
}

summary() {
  # summary TITLE STARTED: the whole job's time and each stage's
  local times
  times="$(printf '%s, ' "${STAGE_TIMES[@]}")"
  log "$1 done in $((SECONDS - $2))s (${times%, })"
}

pipeline() {
  # the stages and their hand-offs (the SFT adapter to GRPO, the three checkpoints to the
  # evaluation) come from `mcr pipeline plan` (mcr/pipeline.py)
  parse_launch_options "$@"
  if [[ ${#ARGS[@]} -eq 0 ]]; then ARGS=(recipe=tiny); fi
  local started=$SECONDS plan
  plan="$("$VENV/bin/mcr" pipeline plan "${ARGS[@]}")"
  run_plan "$plan"
  summary pipeline "$started"
}

ablation() {
  # the stages come from `mcr ablation plan` (eval/ablation.py), then its table
  parse_launch_options "$@"
  if [[ ${#ARGS[@]} -eq 0 ]]; then ARGS=(recipe=tiny); fi
  local started=$SECONDS plan
  plan="$("$VENV/bin/mcr" ablation plan "${ARGS[@]}")"
  run_plan "$plan"
  run "$VENV/bin/mcr" ablation table "${ARGS[@]}"
  summary ablation "$started"
}

mode="pipeline"
case "${1:-}" in
  setup|test|train|pipeline|ablation) mode="$1"; shift ;;
esac

setup
case "$mode" in
  setup) log "environment ready at $VENV" ;;
  test) run_tests "$@" ;;
  train) train "$@" ;;
  pipeline) pipeline "$@" ;;
  ablation) ablation "$@" ;;
esac
