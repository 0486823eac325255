#!/usr/bin/env bash
# The whole test suite of lif-bridge, from a clean clone: builds the environments it needs,
# runs the project's checks (ruff lint + format, mypy) and every test.
#
#   bash scripts/test.sh            # everything: lint, types, core + reference + torch + Brian2
#                                   # (3.11), Lava (3.10), brian2cuda code generation (3.12)
#   STAGES="main lava" bash scripts/test.sh   # a subset of: lint types main lava cuda
#   PARALLEL=0 bash scripts/test.sh           # one stage after the other
#   WORKERS=1 bash scripts/test.sh            # the main stage's tests in one process (default 2)
#
# Environments (created when missing, reused otherwise; installed again only when
# pyproject.toml changed since the last install):
#   .venv       Python 3.11: lif-bridge[torch,brian2,sweep,dev,nir,nir-tools] (torch==2.13.0 CPU
#               wheel first; then norse and sinabs with --no-deps)
#   .venv-lava  Python 3.10: lif-bridge[lava,dev]           (lava-nc 0.10 needs 3.10)
#   .venv-cuda  Python 3.12: brian2cuda 1.0b1 + brian2 2.10.1 (scripts/setup_cuda_env.sh)
# Python 3.X is python3.X on PATH, else pyenv's latest 3.X, else a clear error.
#
# The lava and cuda stages (their environments included) run beside the 3.11 stages; their
# output is printed when they end. A table of each stage's wall time ends the output, also when
# a stage failed. Tests needing a GPU are marked `gpu` and deselected: no GPU on these machines.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAGES=${STAGES:-"lint types main lava cuda"}
PARALLEL=${PARALLEL:-1}
# pytest-xdist workers of the main stage (the lava and cuda stages share the cores beside it).
WORKERS=${WORKERS:-2}
# MNIST: $LIF_BRIDGE_DATA_DIR, else the shared copy beside the repository (../shared/data/mnist).
if [ -z "${LIF_BRIDGE_DATA_DIR:-}" ] && [ -d ../shared/data/mnist ]; then
  LIF_BRIDGE_DATA_DIR=$(cd ../shared/data/mnist && pwd)
fi
export LIF_BRIDGE_DATA_DIR=${LIF_BRIDGE_DATA_DIR:-}
# Brian2 builds and the Cython cache of this run: shared by all tests, so each code object is
# compiled once per run (and kept for the next run of this checkout).
export LIF_BRIDGE_CACHE=${LIF_BRIDGE_CACHE:-$ROOT/.cache/lif-bridge}
export MPLBACKEND=Agg
PIP_FLAGS=(-q --disable-pip-version-check)
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/lif-bridge-test.XXXXXX")
T_START=$(date +%s)

has_stage() { [[ " $STAGES " == *" $1 "* ]]; }

# The Python executable for version $1 (e.g. 3.10), or a message and failure.
find_python() {
  local v=$1 py
  if py=$(command -v "python$v") && "$py" -c 'import sys' 2>/dev/null; then
    echo "$py"; return 0
  fi
  if command -v pyenv >/dev/null 2>&1; then
    py="$(pyenv root)/versions/$(pyenv latest "$v" 2>/dev/null)/bin/python"
    if [ -x "$py" ]; then echo "$py"; return 0; fi
  fi
  echo "test.sh: Python $v not found: put python$v on PATH (or install it with pyenv)" >&2
  return 1
}

# make_venv DIR VERSION: create DIR with Python VERSION unless it exists.
make_venv() {
  [ -x "$1/bin/python" ] && return 0
  local py
  py=$(find_python "$2") || return 1
  "$py" -m venv "$1"
}

# installer DIR: the install command for DIR's Python: uv (installed into DIR with pip first;
# it resolves and installs the environments in seconds where pip takes minutes), or pip where
# uv cannot be installed or USE_UV=0. Local wheel folders pip is pointed at ($PIP_FIND_LINKS,
# e.g. this machine's CPU build of torch) are passed on to uv.
installer() {
  local dir=$1
  if [ "${USE_UV:-1}" = 1 ] && { [ -x "$dir/bin/uv" ] ||
    "$dir/bin/python" -m pip install "${PIP_FLAGS[@]}" uv >/dev/null 2>&1; }; then
    echo "$dir/bin/uv pip install -q --python $dir/bin/python${PIP_FIND_LINKS:+ --find-links $PIP_FIND_LINKS}"
  else
    echo "$dir/bin/python -m pip install ${PIP_FLAGS[*]}"
  fi
}

# install_once DIR ARGS...: install ARGS into DIR unless done for this pyproject.toml (one stamp
# per argument list, so that several installs into one environment are each done once).
install_once() {
  local dir=$1; shift
  local want stamp
  want="$(sha256sum pyproject.toml | cut -d' ' -f1) $*"
  stamp="$dir/.lif-bridge-installed-$(echo "$*" | sha256sum | cut -c1-12)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  # shellcheck disable=SC2046  # the installer command is split into words on purpose
  $(installer "$dir") "$@" && echo "$want" >"$stamp"
}

ensure_main() {
  make_venv .venv 3.11 || return 1
  # torch pinned: this version is a local CPU wheel here; other specs pull CUDA packages.
  install_once .venv "torch==2.13.0" -e ".[torch,brian2,sweep,dev,nir,nir-tools]" || return 1
  # Norse and sinabs (the NIR exporters of tests/core/test_nir_{norse,sinabs}.py) without their
  # declared dependencies: torchvision would bring a CUDA torch, sinabs pins nir<=1.0.4 and samna.
  # What they import on CPU is in the extra nir-tools (pyproject.toml).
  install_once .venv --no-deps "norse==1.1.0" "sinabs==3.1.3"
}

ensure_lava() {
  make_venv .venv-lava 3.10 && install_once .venv-lava -e ".[lava,sweep,dev,nir]"
}

ensure_cuda() {
  if [ -x .venv-cuda/bin/python ] && [ -f .venv-cuda/.lif-bridge-ready ]; then return 0; fi
  PYTHON=$(find_python 3.12) || return 1
  PYTHON=$PYTHON bash scripts/setup_cuda_env.sh && touch .venv-cuda/.lif-bridge-ready
}

# run_stage NAME CMD...: run, time and record one stage (never aborts the script).
run_stage() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  echo "=== $name ==="
  "$@"
  rc=$?
  echo "$name|$(($(date +%s) - t0))|$rc" >>"$LOGS/times"
  [ "$rc" -eq 0 ] || echo "=== $name FAILED (exit $rc) ==="
  return "$rc"
}

summary() {
  echo
  echo "=== stage times (wall, seconds) ==="
  local status=0 name secs rc
  while IFS='|' read -r name secs rc; do
    printf '  %-62s %5s s  %s\n' "$name" "$secs" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)"
    [ "$rc" -eq 0 ] || status=1
  done <"$LOGS/times"
  printf '  %-62s %5s s\n' "total (stages side by side: PARALLEL=$PARALLEL)" \
    "$(($(date +%s) - T_START))"
  echo "load: $(uptime)"
  return $status
}
for stage in $STAGES; do
  case $stage in
    lint | types | main | lava | cuda) ;;
    *) echo "unknown stage $stage (choose from: lint types main lava cuda)" >&2; exit 2 ;;
  esac
done
touch "$LOGS/times"
# On any exit: the table of stage times; the exit status is 1 if a stage failed.
trap 'summary; rc=$?; rm -rf "$LOGS"; exit $rc' EXIT

lava_stage() {
  run_stage "env .venv-lava (Python 3.10)" ensure_lava || return 1
  # brian2 and torch are not in this environment: the markers deselect what needs them.
  # The core runs again here, on the oldest supported Python.
  run_stage "pytest (Python 3.10: lava, and the core on 3.10)" \
    .venv-lava/bin/python -m pytest -q -p no:cacheprovider \
    -m "lava or not (brian2 or torch or cuda or gpu or slow)"
}

cuda_stage() {
  run_stage "env .venv-cuda (Python 3.12)" ensure_cuda || return 1
  run_stage "pytest (brian2cuda in Python 3.12: generate + compile the CUDA project)" \
    .venv-cuda/bin/python -m pytest -q -p no:cacheprovider -m "cuda and not gpu" tests/backends/brian2
}

# Stages beside the main one: each in the background, its output in a log printed at the end.
pids=()
for stage in lava cuda; do
  has_stage $stage || continue
  if [ "$PARALLEL" = 1 ]; then
    "${stage}_stage" >"$LOGS/$stage.log" 2>&1 &
    pids+=("$!:$stage")
  fi
done

if has_stage lint || has_stage types || has_stage main; then
  if run_stage "env .venv (Python 3.11)" ensure_main; then
    if has_stage lint; then
      run_stage "ruff check" .venv/bin/ruff check .
      run_stage "ruff format --check" .venv/bin/ruff format --check .
    fi
    if has_stage types; then
      run_stage "mypy (lif_bridge, backends)" .venv/bin/mypy lif_bridge backends
    fi
    if has_stage main; then
      run_stage "pytest (Python 3.11: core, reference, torch, brian2)" \
        .venv/bin/python -m pytest -m "not lava and not cuda and not gpu" -q --durations=40 \
        -n "$WORKERS" --dist worksteal
    fi
  fi
fi

for stage in lava cuda; do
  has_stage $stage || continue
  if [ "$PARALLEL" = 1 ]; then
    for entry in "${pids[@]}"; do
      [ "${entry#*:}" = "$stage" ] && wait "${entry%%:*}"
    done
    cat "$LOGS/$stage.log"
  else
    "${stage}_stage"
  fi
done
exit 0  # the EXIT trap prints the summary and sets the status
