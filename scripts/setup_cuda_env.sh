#!/usr/bin/env bash
# Build .venv-cuda: Python 3.12 + brian2cuda 1.0b1 (pins brian2 2.10.1, numpy >= 2) + curand,
# with lif-bridge installed editable, for the Brian2 backend's device="cuda_standalone".
#
#   scripts/setup_cuda_env.sh            # creates /path/to/repo/.venv-cuda
#   PYTHON=python3.12 scripts/setup_cuda_env.sh
#
# nvcc (the CUDA toolkit) must be on PATH to compile projects; a GPU is needed only to run them.
# curand (headers + libcurand.so) comes from the PyPI package "nvidia-curand" (the CUDA 13
# build; "nvidia-curand-cu12" for a CUDA 12 toolkit): lif_bridge_brian2.cuda finds it inside
# the venv and passes its include/lib folders to brian2cuda.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv-cuda}"
if [[ -z "${PYTHON:-}" ]]; then
  if command -v pyenv >/dev/null 2>&1; then
    PYTHON="$(pyenv root)/versions/$(pyenv latest 3.12)/bin/python"
  else
    PYTHON=python3.12
  fi
fi
"$PYTHON" -c 'import sys; assert sys.version_info[:2] >= (3, 12), sys.version' \
  || { echo "setup_cuda_env: brian2cuda 1.0b1 needs Python >= 3.12 (got $PYTHON)" >&2; exit 1; }
CURAND_PKG="${CURAND_PKG:-nvidia-curand}"
"$PYTHON" -m venv "$VENV"
# uv installs in seconds what pip takes minutes for (USE_UV=0: pip)
INSTALL=("$VENV/bin/python" -m pip install -q)
if [[ "${USE_UV:-1}" == 1 ]] && "$VENV/bin/python" -m pip install -q uv >/dev/null 2>&1; then
  INSTALL=("$VENV/bin/uv" pip install -q --python "$VENV/bin/python")
fi
"${INSTALL[@]}" "brian2cuda==1.0b1" "brian2==2.10.1" "$CURAND_PKG" \
  "numpy>=2" scipy tqdm matplotlib pytest setuptools wheel
"${INSTALL[@]}" --no-deps --no-build-isolation -e "$ROOT"
"$VENV/bin/python" - <<'PY'
import brian2, brian2cuda
from lif_bridge_brian2.cuda import curand_paths
print("brian2", brian2.__version__, "brian2cuda", brian2cuda.__version__, "curand", curand_paths())
PY
command -v nvcc >/dev/null || echo "note: nvcc not on PATH; CUDA projects cannot be compiled" >&2
echo "ready: $VENV"
