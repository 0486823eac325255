"""The toolchain: code-generation preferences, compilers, ``make`` and build folders.

Compiled code must round like NumPy: Brian2's default GCC flags include ``-ffast-math`` (which
lets the compiler reassociate sums and contract ``a + b*c`` into one fused multiply-add), so the
backend compiles with :data:`SAFE_FLAGS` instead, set only while it builds or runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import brian2 as b2

from lif_bridge.errors import BackendError

__all__ = [
    "SAFE_FLAGS",
    "CompileInterrupted",
    "cache_root",
    "check_compiler",
    "codegen_prefs",
    "run_make",
]

#: GCC flags: optimised for this machine's CPU (``-march=native``, as Brian2's defaults; the
#: code is compiled where it runs), but IEEE arithmetic as written (no fast-math, no FMA
#: contraction: ``-ffp-contract=off`` keeps the FMA instructions ``-march`` allows unused).
SAFE_FLAGS = ["-w", "-O3", "-march=native", "-fno-fast-math", "-ffp-contract=off"]


class CompileInterrupted(KeyboardInterrupt):
    """The compilation was interrupted (Ctrl-C): ``make`` and its compilers were stopped.

    A :class:`KeyboardInterrupt`, so that callers (and the CLI: "interrupted", exit 130) treat
    it as the interrupt it is, never as a compile failure.
    """


def check_compiler(device: str, *, cuda: bool = False) -> None:
    """Raise :class:`BackendError` if the C++ (and, for ``cuda``, CUDA) compiler is missing."""
    cxx = os.environ.get("CXX", "g++")
    if shutil.which(cxx) is None and shutil.which("c++") is None:
        raise BackendError(
            f"brian2 backend, device {device!r}: no C++ compiler found ({cxx!r} is not on PATH); "
            "install g++ or use device='runtime' (pure NumPy)"
        )
    if cuda and shutil.which("nvcc") is None:
        raise BackendError(
            "brian2 backend, device 'cuda_standalone': nvcc (the CUDA compiler) is not on PATH; "
            "install the CUDA toolkit or add its bin folder to PATH"
        )


@contextlib.contextmanager
def codegen_prefs(
    target: str | None, cython_cache: Path | None = None, threads: int = 0
) -> Iterator[None]:
    """Set the code-generation ``target`` (runtime devices; ``None`` for standalone),
    :data:`SAFE_FLAGS` and the standalone OpenMP ``threads`` for the block, then restore."""
    saved = {
        "codegen.target": b2.prefs["codegen.target"],
        "codegen.cpp.extra_compile_args_gcc": list(b2.prefs["codegen.cpp.extra_compile_args_gcc"]),
        "codegen.runtime.cython.cache_dir": b2.prefs["codegen.runtime.cython.cache_dir"],
        "devices.cpp_standalone.extra_make_args_unix": list(
            b2.prefs["devices.cpp_standalone.extra_make_args_unix"]
        ),
        "devices.cpp_standalone.openmp_threads": b2.prefs["devices.cpp_standalone.openmp_threads"],
    }
    try:
        if target is not None:
            b2.prefs["codegen.target"] = target
        b2.prefs["codegen.cpp.extra_compile_args_gcc"] = list(SAFE_FLAGS)
        # Brian2's default `make -j` starts one compiler per source file at once (dozens on a
        # 2-core machine, thrashing); one job per core compiles as fast with bounded memory.
        b2.prefs["devices.cpp_standalone.extra_make_args_unix"] = [f"-j{os.cpu_count() or 1}"]
        b2.prefs["devices.cpp_standalone.openmp_threads"] = int(threads)
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


def run_make(project: Path, what: str) -> None:
    """Run ``make`` in ``project`` in its own process group; stop the group on Ctrl-C.

    Brian2 compiles through ``os.system``, which ignores SIGINT while the compilers run; here
    ``make`` gets its own session, so an interrupt reaches this process, which then kills the
    whole group (make and every compiler it started) and raises :class:`CompileInterrupted`.
    A failed ``make`` raises :class:`BackendError` with the end of its output.
    """
    cmd = [b2.prefs["devices.cpp_standalone.make_cmd_unix"], f"-j{os.cpu_count() or 1}"]
    log = project / "make.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            cmd, cwd=project, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code = proc.wait()
        except BaseException as exc:  # Ctrl-C, SystemExit: nothing may keep compiling
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            if isinstance(exc, KeyboardInterrupt):
                raise CompileInterrupted(f"{what}: compilation interrupted; make stopped") from None
            raise
    if code:
        tail = log.read_text(errors="replace")[-2000:]
        raise BackendError(f"{what}: compiling the project failed (make exit {code}): {tail}")
