"""Devices by name, code-generation preferences, compilers and build folders.

=================== ============================ ===============================================
``device=``          Brian2                       notes
=================== ============================ ===============================================
``"runtime"``        runtime, target ``numpy``    no compiler needed (alias ``"numpy"``)
``"cython"``         runtime, target ``cython``   compiles once per code, cached
``"cpp_standalone"`` ``set_device('cpp_standalone')`` one C++ project, compiled once, run per batch
``"cuda_standalone"`` brian2cuda                  Python 3.12 environment, see ``cuda.py``
=================== ============================ ===============================================

Compiled code must round like NumPy: Brian2's default GCC flags include ``-ffast-math`` (which
lets the compiler reassociate sums and contract ``a + b*c`` into one fused multiply-add), so the
backend compiles with :data:`SAFE_FLAGS` instead, set only while it builds or runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import brian2 as b2

from lif_bridge.errors import BackendError

__all__ = [
    "DEVICES",
    "SAFE_FLAGS",
    "cache_root",
    "check_compiler",
    "codegen_prefs",
    "make_build_dir",
    "normalise_device",
]

DEVICES = {
    "runtime": "numpy",
    "numpy": "numpy",
    "cython": "cython",
    "cpp_standalone": "cpp_standalone",
    "cuda_standalone": "cuda_standalone",
}

#: GCC flags: optimised, but IEEE arithmetic as written (no fast-math, no FMA contraction).
SAFE_FLAGS = ["-w", "-O3", "-fno-fast-math", "-ffp-contract=off"]


def normalise_device(device: str) -> str:
    """``"numpy"``, ``"cython"``, ``"cpp_standalone"`` or ``"cuda_standalone"``."""
    if device not in DEVICES:
        raise BackendError(
            f"brian2 backend: unknown device {device!r}; choose from {sorted(DEVICES)}"
        )
    return DEVICES[device]


def check_compiler(device: str) -> None:
    """Raise :class:`BackendError` if the C++ compiler a device needs is missing."""
    if device == "numpy":
        return
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None and shutil.which("c++") is None:
        raise BackendError(
            f"brian2 backend, device {device!r}: no C++ compiler found ({cxx!r} is not on PATH); "
            "install g++ or use device='runtime' (pure NumPy)"
        )
    if device == "cuda_standalone" and shutil.which("nvcc") is None:
        raise BackendError(
            "brian2 backend, device 'cuda_standalone': nvcc (the CUDA compiler) is not on PATH; "
            "install the CUDA toolkit or add its bin folder to PATH"
        )


@contextlib.contextmanager
def codegen_prefs(target: str, cython_cache: Path | None = None) -> Iterator[None]:
    """Set the code-generation target and :data:`SAFE_FLAGS` for the block, then restore."""
    saved = {
        "codegen.target": b2.prefs["codegen.target"],
        "codegen.cpp.extra_compile_args_gcc": list(b2.prefs["codegen.cpp.extra_compile_args_gcc"]),
        "codegen.runtime.cython.cache_dir": b2.prefs["codegen.runtime.cython.cache_dir"],
        "devices.cpp_standalone.extra_make_args_unix": list(
            b2.prefs["devices.cpp_standalone.extra_make_args_unix"]
        ),
    }
    try:
        if target in ("numpy", "cython"):
            b2.prefs["codegen.target"] = target
        b2.prefs["codegen.cpp.extra_compile_args_gcc"] = list(SAFE_FLAGS)
        # Brian2's default `make -j` starts one compiler per source file at once (dozens on a
        # 2-core machine, thrashing); one job per core compiles as fast with bounded memory.
        b2.prefs["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{os.cpu_count() or 1}"]
        if cython_cache is not None:
            b2.prefs["codegen.runtime.cython.cache_dir"] = str(cython_cache)
        yield
    finally:
        for key, value in saved.items():
            b2.prefs[key] = value


def cache_root(build_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where build folders go: ``build_dir``, else ``$LIF_BRIDGE_CACHE/brian2``, else
    ``$XDG_CACHE_HOME/lif-bridge/brian2`` (``~/.cache/...``); never the working folder."""
    if build_dir is not None:
        root = Path(build_dir)
    elif os.environ.get("LIF_BRIDGE_CACHE"):
        root = Path(os.environ["LIF_BRIDGE_CACHE"]) / "brian2"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "lif-bridge" / "brian2"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackendError(f"brian2 backend: cannot create build folder {root} ({exc})") from exc
    return root


def make_build_dir(root: Path, prefix: str) -> Path:
    """A fresh, unique project folder under ``root``."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir=root))
