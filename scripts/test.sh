#!/usr/bin/env bash
# The whole test suite of lif-bridge, from a clean clone: builds the environments it needs,
# runs the project's checks (ruff lint + format) and every test.
#
#   bash scripts/test.sh            # everything: core + reference + torch + Brian2 (3.11),
#                                   # Lava (3.10), brian2cuda code generation (3.12)
#   STAGES="main lava" bash scripts/test.sh   # a subset of: lint main lava cuda
#
# Environments (created when missing, reused otherwise):
#   .venv       Python 3.11: lif-bridge[torch,brian2,dev]   (torch==2.13.0 CPU wheel first)
#   .venv-lava  Python 3.10: lif-bridge[lava,dev]           (lava-nc 0.10 needs 3.10)
#   .venv-cuda  Python 3.12: brian2cuda 1.0b1 + brian2 2.10.1 (scripts/setup_cuda_env.sh)
# Tests needing a GPU are marked `gpu` and deselected: no GPU on these machines.
set -euo pipefail
cd "$(dirname "$0")/.."
STAGES=${STAGES:-"lint main lava cuda"}
export LIF_BRIDGE_DATA_DIR=${LIF_BRIDGE_DATA_DIR:-$(cd .. && pwd)/shared/data/mnist}
export MPLBACKEND=Agg
PIP_FLAGS=(-q --disable-pip-version-check)
status=0

pyver() { PYENV_VERSION=$(pyenv latest "$1") pyenv which python; }

ensure_main() {
  if [ ! -x .venv/bin/python ]; then
    python3.11 -m venv .venv 2>/dev/null || "$(pyver 3.11)" -m venv .venv
  fi
  .venv/bin/pip install "${PIP_FLAGS[@]}" --upgrade pip
  # torch first, pinned: this version is a local CPU wheel; other specs pull CUDA packages.
  .venv/bin/pip install "${PIP_FLAGS[@]}" "torch==2.13.0"
  .venv/bin/pip install "${PIP_FLAGS[@]}" -e ".[torch,brian2,sweep,dev]"
}

run_stage() {
  local name=$1; shift
  echo "=== $name ==="
  if ! "$@"; then
    echo "=== $name FAILED ==="
    status=1
  fi
}

for stage in $STAGES; do
  case $stage in
    lint)
      ensure_main
      run_stage "ruff check" .venv/bin/ruff check .
      run_stage "ruff format --check" .venv/bin/ruff format --check .
      ;;
    main)
      ensure_main
      run_stage "pytest (Python 3.11: core, reference, torch, brian2)" \
        .venv/bin/python -m pytest -m "not lava and not cuda and not gpu" -q
      ;;
    lava)
      if [ ! -x .venv-lava/bin/python ]; then "$(pyver 3.10)" -m venv .venv-lava; fi
      .venv-lava/bin/pip install "${PIP_FLAGS[@]}" --upgrade pip
      .venv-lava/bin/pip install "${PIP_FLAGS[@]}" -e ".[lava,sweep,dev]"
      # torch and brian2 are not in this environment: their test folders are left to the
      # 3.11 stage, and the markers deselect the rest of what needs them.
      run_stage "pytest (Python 3.10: lava, and the core on 3.10)" \
        .venv-lava/bin/python -m pytest -q \
        --ignore=tests/backends/brian2 --ignore=tests/core/convert \
        -m "lava or not (brian2 or torch or cuda or gpu or slow)"
      ;;
    cuda)
      ensure_main
      bash scripts/setup_cuda_env.sh
      run_stage "pytest (brian2cuda in Python 3.12: generate + compile the CUDA project)" \
        .venv/bin/python -m pytest -q -m "cuda" tests/backends/brian2
      ;;
    *) echo "unknown stage $stage" >&2; exit 2 ;;
  esac
done
exit $status
