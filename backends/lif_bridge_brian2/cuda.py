"""``cuda_standalone`` through brian2cuda (Python 3.12 environment, see scripts/setup_cuda_env.sh).

What it takes to generate and compile a CUDA project, GPU or not:

* ``detect_gpus = False`` with an explicit ``compute_capability`` and ``cuda_runtime_version``
  (otherwise brian2cuda stops before code generation when ``nvidia-smi`` finds no GPU);
* curand headers and library from the PyPI package ``nvidia-curand`` (``nvidia/cu13``) or
  ``nvidia-curand-cu12`` (``nvidia/curand``); the wheel ships only ``libcurand.so.10``, so a
  ``libcurand.so`` link is made in the build folder (never in site-packages);
* brian2cuda's makefile hard-codes ``-std=c++11`` while CUDA 13's CUB needs C++17: the project
  is generated (as every standalone project is) with ``compile=False``, its makefile is patched,
  then compiled by :class:`lif_bridge_brian2.devices.CudaStandalone`;
* nvcc flags ``-w -fmad=false`` (instead of ``-use_fast_math``), so that the GPU rounds like
  the reference (no fused multiply-add).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from lif_bridge.errors import BackendError

__all__ = ["configure_cuda", "curand_paths", "patch_makefile"]

#: Defaults when no GPU can be queried.
COMPUTE_CAPABILITY = 8.0


def curand_paths() -> tuple[Path, Path]:
    """``(include_dir, lib_dir)`` of curand from the installed ``nvidia-curand`` wheel."""
    import importlib.util

    spec = importlib.util.find_spec("nvidia")
    roots = (
        list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    )
    for root in roots:
        for sub in ("cu13", "curand", "cu12"):
            inc, lib = Path(root) / sub / "include", Path(root) / sub / "lib"
            if (inc / "curand.h").is_file() and any(lib.glob("libcurand.so*")):
                return inc, lib
    raise BackendError(
        "brian2 backend, device 'cuda_standalone': curand headers/libraries not found; "
        "pip install nvidia-curand (CUDA 13) or nvidia-curand-cu12 (CUDA 12) in this environment"
    )


def _nvcc_version(nvcc: str) -> float:
    import re
    import subprocess

    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True).stdout
    m = re.search(r"release (\d+)\.(\d+)", out)
    return float(f"{m.group(1)}.{m.group(2)}") if m else 12.0


def configure_cuda(
    build_root: Path | None = None, compute_capability: float | None = None
) -> dict[str, Any]:
    """Import brian2cuda and set the preferences listed in the module docs."""
    try:
        import brian2cuda  # noqa: F401  (registers the device)
    except ImportError as exc:
        raise BackendError(
            "brian2 backend, device 'cuda_standalone': brian2cuda is not installed in this "
            "Python; build the environment with scripts/setup_cuda_env.sh (Python 3.12)"
        ) from exc
    import brian2 as b2

    nvcc = shutil.which("nvcc")
    if nvcc is None:
        raise BackendError("brian2 backend, device 'cuda_standalone': nvcc is not on PATH")
    inc, lib = curand_paths()
    link_dir = (build_root or Path(os.environ.get("TMPDIR", "/tmp"))) / "curand_link"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "libcurand.so"
    if not link.exists():
        target = sorted(lib.glob("libcurand.so*"))[0]
        link.symlink_to(target)
    cc = compute_capability or float(os.environ.get("LIF_BRIDGE_CUDA_CC", COMPUTE_CAPABILITY))
    backend = "devices.cuda_standalone.cuda_backend."
    detect = shutil.which("nvidia-smi") is not None
    b2.prefs[backend + "detect_gpus"] = detect
    if not detect:
        b2.prefs[backend + "gpu_id"] = 0
    b2.prefs[backend + "compute_capability"] = cc
    b2.prefs[backend + "cuda_runtime_version"] = _nvcc_version(nvcc)
    b2.prefs[backend + "cuda_path"] = str(Path(nvcc).resolve().parent.parent)
    b2.prefs[backend + "extra_compile_args_nvcc"] = ["-w", "-fmad=false"]
    b2.prefs["codegen.cpp.include_dirs"] = [*b2.prefs["codegen.cpp.include_dirs"], str(inc)]
    b2.prefs["codegen.cpp.library_dirs"] = [
        *b2.prefs["codegen.cpp.library_dirs"],
        str(link_dir),
        str(lib),
    ]
    b2.prefs["codegen.cpp.runtime_library_dirs"] = [
        *b2.prefs["codegen.cpp.runtime_library_dirs"],
        str(lib),
    ]
    return {"compute_capability": cc, "curand": str(lib), "nvcc": nvcc}


def patch_makefile(project: Path) -> None:
    """Raise the makefile's ``-std=c++11`` to C++17 (CUDA 13's CUB needs it)."""
    makefile = project / "makefile"
    text = makefile.read_text()
    makefile.write_text(text.replace("-std=c++11", "-std=c++17"))
