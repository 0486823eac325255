"""Devices as objects with one interface, as in Brian2 itself (runtime, C++ and CUDA standalone).

===================== ====================== ==============================================
``device=``            class                  Brian2
===================== ====================== ==============================================
``"runtime"``          :class:`RuntimeDevice`  runtime, code target ``numpy`` (alias ``"numpy"``)
``"cython"``           :class:`RuntimeDevice`  runtime, code target ``cython`` (cached)
``"cpp_standalone"``   :class:`CppStandalone`  one C++ project, compiled once, run per batch
``"cuda_standalone"``  :class:`CudaStandalone` brian2cuda (Python 3.12 environment, ``cuda.py``)
===================== ====================== ==============================================

Every device checks its toolchain (:meth:`Device.check`) and builds a
:class:`~lif_bridge_brian2.spec.BuildSpec` into an *executable*: an object with ``samples``
(windows per run, fixed by a standalone build, ``None`` at runtime), ``info``,
``run(table) -> (counts, traces)`` and ``close()``. The CUDA device is the C++ device with its
own preferences and compile step, as brian2cuda's device subclasses Brian2's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from lif_bridge.errors import BackendError
from lif_bridge_brian2.spec import BuildSpec, Outputs
from lif_bridge_brian2.toolchain import check_compiler, run_make

__all__ = [
    "DEVICES",
    "CppStandalone",
    "CudaStandalone",
    "Device",
    "Executable",
    "RuntimeDevice",
    "device_for",
]


class Executable(Protocol):
    """A built program: runs input tables of ``samples`` windows (any number if ``None``)."""

    info: dict[str, Any]

    @property
    def samples(self) -> int | None:
        """Windows per run, fixed by a standalone build; ``None``: any number."""

    def run(self, values: np.ndarray) -> Outputs:
        """Counts and traces per window for the input table ``values``."""

    def close(self) -> None:
        """Release what the build holds (a standalone project folder)."""


class Device(ABC):
    """A way of running Brian2 code (one instance per backend)."""

    #: The name users give (``device=``) and results report (``brian2-<name>``).
    name: str

    @abstractmethod
    def check(self) -> None:
        """Raise :class:`BackendError` if the toolchain this device needs is missing."""

    @abstractmethod
    def build(self, spec: BuildSpec) -> Executable:
        """Build ``spec`` (standalone: generate and compile its project)."""

    @property
    def standalone(self) -> bool:
        """Whether builds are compiled projects with a fixed number of windows per run."""
        return False


class RuntimeDevice(Device):
    """Brian2's runtime device with code target ``numpy`` or ``cython``."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.name = target

    def check(self) -> None:
        """Cython needs a C++ compiler; NumPy nothing."""
        if self.target == "cython":
            check_compiler(self.name)

    def build(self, spec: BuildSpec) -> Executable:
        """The network in this process (Cython code cached under the build root)."""
        from lif_bridge_brian2.runtime import RuntimeExecutable

        cache = spec.build_root / "cython_cache" if self.target == "cython" else None
        return RuntimeExecutable(spec, self.target, cache)


class CppStandalone(Device):
    """Brian2's ``cpp_standalone``: one project per build, compiled once, run per batch."""

    name = "cpp_standalone"
    brian2_device = "cpp_standalone"

    @property
    def standalone(self) -> bool:
        """Always: a compiled project."""
        return True

    def check(self) -> None:
        """A C++ compiler must be on ``PATH``."""
        check_compiler(self.name)

    def configure(self, build_root: Path) -> None:
        """No preferences beyond the toolchain's."""

    def compile(self, project: Path) -> None:
        """``make`` in its own process group (Ctrl-C stops it)."""
        run_make(project, f"brian2 backend, device {self.name!r}")

    def build(self, spec: BuildSpec) -> Executable:
        """Generate and compile the project of ``spec``."""
        from lif_bridge_brian2.standalone import StandaloneBuild

        return StandaloneBuild.create(spec, self)


class CudaStandalone(CppStandalone):
    """brian2cuda's ``cuda_standalone``: the C++ device with CUDA preferences and compile."""

    name = "cuda_standalone"
    brian2_device = "cuda_standalone"

    def check(self) -> None:
        """A C++ compiler and ``nvcc`` must be on ``PATH``."""
        check_compiler(self.name, cuda=True)

    def configure(self, build_root: Path) -> None:
        """brian2cuda's preferences (:func:`lif_bridge_brian2.cuda.configure_cuda`)."""
        from lif_bridge_brian2.cuda import configure_cuda

        configure_cuda(build_root)

    def compile(self, project: Path) -> None:
        """Raise the makefile's C++ standard (CUDA 13's CUB), then ``make``."""
        from lif_bridge_brian2.cuda import patch_makefile

        patch_makefile(project)
        super().compile(project)


#: Device names (and the alias ``numpy``) -> the device.
DEVICES: dict[str, Device] = {
    "runtime": RuntimeDevice("numpy"),
    "numpy": RuntimeDevice("numpy"),
    "cython": RuntimeDevice("cython"),
    "cpp_standalone": CppStandalone(),
    "cuda_standalone": CudaStandalone(),
}


def device_for(name: str | Device) -> Device:
    """The device called ``name`` (see the module table), or ``name`` itself."""
    if isinstance(name, Device):
        return name
    if name not in DEVICES:
        raise BackendError(
            f"brian2 backend: unknown device {name!r}; choose from {sorted(DEVICES)}"
        )
    return DEVICES[name]
