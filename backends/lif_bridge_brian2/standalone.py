"""Compile once, run many: the standalone (C++ / CUDA) project of a program.

The project is generated and compiled once, for ``B`` sample windows in one long run; the input
table is a ``TimedArray`` whose values are replaced on the command line of each run
(``<table>.values=<file>``, what Brian2's ``device.run(run_args=...)`` does). SpikeGeneratorGroup
times cannot be changed that way (brian2#1578), which is why the input is a TimedArray-driven
group. After building, the global Brian2 device is reset to runtime at once
(``device.reinit()``; ``set_device('runtime')``), so other programs (and tests) can build their
own projects in the same process: each build keeps what it needs to run its binary by itself —
the project folder, the names of its result files and its environment.

The project is generated and compiled in ``<root>/<device>-XXXX.partial`` and renamed to
``<root>/<device>-XXXX`` (atomic) only once compiled: a failed or interrupted build (Ctrl-C stops
``make`` and its compilers, :func:`.toolchain.run_make`) deletes its folder and never leaves a
half-built project in the cache. How a device configures Brian2 and compiles is its own
(:class:`StandaloneSteps`, implemented by :mod:`.devices`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError, LifBridgeError
from lif_bridge_brian2.lowering import LayerMap, bin_spikes, to_brian2
from lif_bridge_brian2.spec import BuildSpec, Outputs
from lif_bridge_brian2.toolchain import codegen_prefs

__all__ = ["StandaloneBuild", "StandaloneSteps", "generate_project"]


class StandaloneSteps(Protocol):
    """The device-specific steps of a standalone build."""

    name: str
    brian2_device: str

    def configure(self, build_root: Path) -> None:
        """Set Brian2 preferences before generating code."""

    def compile(self, project: Path) -> None:
        """Compile the generated project in ``project``."""


@dataclass
class _Files:
    """Result-file names of the monitors (relative to the results folder)."""

    spikes: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # name -> (i, t, n)
    traces: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (v, n)


def generate_project(
    spec: BuildSpec, project: Path, device: StandaloneSteps
) -> tuple[LayerMap, Any, float]:
    """Generate the code of ``spec`` in ``project`` on the (activated) Brian2 device.

    Returns the layer map, the still active Brian2 device and the seconds taken. The caller
    compiles, then resets the device (``device.reinit(); set_device('runtime')``).
    """
    from brian2.devices.device import get_device

    b2.set_device(device.brian2_device, build_on_run=False)
    dev = get_device()
    dev.reinit()
    dev.activate(build_on_run=False)
    t0 = time.perf_counter()
    net, lmap = to_brian2(
        spec.network,
        spec.simulation,
        samples=spec.samples,
        units=spec.units,
        route=spec.route,
        monitor_counts=spec.monitor_counts,
    )
    net.run(lmap.duration)
    dev.build(
        directory=str(project),
        results_directory="results",
        compile=False,
        run=False,
        with_output=False,
    )
    return lmap, dev, time.perf_counter() - t0


def _restore_runtime(dev: Any) -> None:
    try:
        dev.reinit()
    finally:
        b2.set_device("runtime")


def _result_files(lmap: LayerMap, dev: Any) -> _Files:
    files = _Files()
    for name, mon in lmap.spike_monitors.items():
        files.spikes[name] = (
            dev.get_array_filename(mon.variables["i"]),
            dev.get_array_filename(mon.variables["t"]),
            lmap.populations[name].size,
        )
    for name, smon in lmap.state_monitors.items():
        files.traces[name] = (
            dev.get_array_filename(smon.variables["v"]),
            lmap.populations[name].size,
        )
    return files


@dataclass
class StandaloneBuild:
    """A compiled project and what is needed to run it without Brian2's global device."""

    project: Path
    table: str
    table_shape: tuple[int, ...]
    samples: int
    steps: int
    dt: float
    files: _Files
    env: dict[str, str]
    voltage_scale: float
    info: dict[str, Any]

    @classmethod
    def create(cls, spec: BuildSpec, device: StandaloneSteps) -> StandaloneBuild:
        """Generate and compile ``spec``'s project (see the module docs for the folder)."""
        what = f"brian2 backend, device {device.name!r}"
        device.configure(spec.build_root)
        partial = Path(tempfile.mkdtemp(prefix=f"{device.brian2_device}-", suffix=".partial",
                                        dir=spec.build_root))  # fmt: skip
        project = partial.with_suffix("")
        try:
            with codegen_prefs(None, threads=spec.threads):
                lmap, dev, gen_s = generate_project(spec, partial, device)
                t0 = time.perf_counter()
                device.compile(partial)
                compile_s = time.perf_counter() - t0
                env = dict(b2.prefs["devices.cpp_standalone.run_environment_variables"])
                env.update(getattr(dev, "run_environment_variables", {}))
                build = cls(
                    project=project,
                    table=lmap.input.table.name,
                    table_shape=lmap.input.table.values.shape,
                    samples=spec.samples,
                    steps=spec.simulation.steps,
                    dt=spec.simulation.dt,
                    files=_result_files(lmap, dev),
                    env=env,
                    voltage_scale=lmap.units.voltage_scale,
                    info={
                        "generate_seconds": gen_s,
                        "compile_seconds": compile_s,
                        "project": str(project),
                        "samples_per_run": spec.samples,
                        "threads": spec.threads,
                    },
                )
            os.replace(partial, project)
        except BaseException as exc:
            shutil.rmtree(partial, ignore_errors=True)
            from brian2.devices.device import get_device

            _restore_runtime(get_device())
            if isinstance(exc, (LifBridgeError, KeyboardInterrupt)) or not isinstance(
                exc, Exception
            ):
                raise
            raise BackendError(
                f"{what}: generating or compiling the project failed: {type(exc).__name__}: {exc}"
            ) from exc
        _restore_runtime(dev)
        return build

    def run(self, values: np.ndarray) -> Outputs:
        """Run the binary with input table ``values``; spike counts and traces per window."""
        if values.shape != self.table_shape:
            raise BackendError(
                f"brian2 standalone: input table {values.shape} does not match the compiled "
                f"{self.table_shape}"
            )
        inputs = self.project / "inputs"
        inputs.mkdir(exist_ok=True)
        fname = inputs / f"{self.table}.dat"
        np.ascontiguousarray(values, dtype=np.float64).tofile(fname)
        results = self.project / "results"
        cmd = [
            "./main",
            "--results_dir",
            os.path.join(str(results), ""),
            f"{self.table}.values={fname}",
        ]
        env = {**os.environ, **self.env}
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=self.project, env=env, capture_output=True, text=True)
        self.info["last_run_seconds"] = time.perf_counter() - t0
        if proc.returncode:
            raise BackendError(
                f"brian2 standalone: the compiled binary in {self.project} failed "
                f"(exit {proc.returncode}): {(proc.stderr or proc.stdout)[-2000:]}"
            )
        counts = {}
        for name, (fi, ft, n) in self.files.spikes.items():
            i = np.fromfile(results / fi, dtype=np.int32).astype(np.int64)
            t = np.fromfile(results / ft, dtype=np.float64)
            steps = np.round(t / self.dt).astype(np.int64)
            counts[name] = bin_spikes(i, steps, self.steps, self.samples, n)
        traces = {}
        for name, (fv, n) in self.files.traces.items():
            v = np.fromfile(results / fv, dtype=np.float64).reshape(-1, n)
            traces[name] = v.reshape(self.samples, self.steps, n) / self.voltage_scale
        return counts, traces

    def close(self) -> None:
        """Remove the project folder."""
        shutil.rmtree(self.project, ignore_errors=True)
