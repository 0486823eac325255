"""Compile once, run many: the standalone (C++ / CUDA) project of a program.

The project is generated and compiled once, for ``B`` sample windows in one long run; the input
table is a ``TimedArray`` whose values are replaced on the command line of each run
(``<table>.values=<file>``, what Brian2's ``device.run(run_args=...)`` does). SpikeGeneratorGroup
times cannot be changed that way (brian2#1578), which is why the input is a TimedArray-driven
group. After building, the global Brian2 device is reset to runtime at once
(``device.reinit()``; ``set_device('runtime')``), so other programs (and tests) can build their
own projects in the same process: each build keeps what it needs to run its binary by itself —
the project folder, the names of its result files and its environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError, LifBridgeError
from lif_bridge_brian2.devices import check_compiler, codegen_prefs, make_build_dir
from lif_bridge_brian2.lowering import to_brian2

__all__ = ["StandaloneBuild", "build_project"]


@dataclass
class _Files:
    """Result-file names of the monitors (relative to the results folder)."""

    spikes: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # name -> (i, t, n)
    traces: dict[str, tuple[str, int]] = field(default_factory=dict)  # name -> (v, n)


def build_project(
    program: Any, samples: int, project: Path, *, device_name: str, run: bool = False
) -> tuple[Any, Any, dict[str, Any]]:
    """Generate and compile the project of ``program`` for ``samples`` windows in ``project``.

    Returns the layer map, the (still active) device and timing figures. The caller must
    reset the device (``device.reinit(); set_device('runtime')``) when done.
    """
    from brian2.devices.device import get_device

    b2.set_device(device_name, build_on_run=False)
    dev = get_device()
    dev.reinit()
    dev.activate(build_on_run=False)
    t0 = time.perf_counter()
    net, lmap = to_brian2(
        program.network,
        program.simulation,
        samples=samples,
        units=program.units,
        trains=program.trains,
        poisson_group=program.poisson_group,
        standalone=True,
        use_defaultclock=device_name == "cuda_standalone",
    )
    net.run(lmap.duration)
    t1 = time.perf_counter()
    cuda = device_name == "cuda_standalone"
    dev.build(
        directory=str(project),
        results_directory="results",
        compile=not cuda,
        run=run and not cuda,
        with_output=False,
    )
    if cuda:
        from lif_bridge_brian2.cuda import patch_and_compile

        patch_and_compile(dev, project)
    t2 = time.perf_counter()
    info = {"generate_seconds": t1 - t0, "compile_seconds": t2 - t1, "project": str(project)}
    return lmap, dev, info


def _restore_runtime(dev: Any) -> None:
    try:
        dev.reinit()
    finally:
        b2.set_device("runtime")


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
    def create(cls, program: Any, samples: int) -> StandaloneBuild:
        """Generate and compile ``program``'s project for ``samples`` windows."""
        target = program.target
        check_compiler(target)
        if target == "cuda_standalone":
            from lif_bridge_brian2.cuda import configure_cuda

            configure_cuda(program.build_root)
        project = make_build_dir(program.build_root, target)
        try:
            with codegen_prefs(target):
                lmap, dev, info = build_project(program, samples, project, device_name=target)
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
                env = dict(b2.prefs["devices.cpp_standalone.run_environment_variables"])
                env.update(getattr(dev, "run_environment_variables", {}))
                table = lmap.input.table
                build = cls(
                    project=project,
                    table=table.name,
                    table_shape=table.values.shape,
                    samples=samples,
                    steps=program.simulation.steps,
                    dt=program.simulation.dt,
                    files=files,
                    env=env,
                    voltage_scale=lmap.units.voltage_scale,
                    info={**info, "samples_per_run": samples},
                )
            _restore_runtime(dev)
        except LifBridgeError:
            _cleanup(project, program.keep_build)
            raise
        except Exception as exc:
            _cleanup(project, True)
            from brian2.devices.device import get_device

            _restore_runtime(get_device())
            raise BackendError(
                f"brian2 backend, device {target!r}: generating or compiling the project in "
                f"{project} failed: {type(exc).__name__}: {exc}"
            ) from exc
        return build

    def run(self, values: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Run the binary with input table ``values``; spike counts and traces per window."""
        from lif_bridge_brian2.program import bin_spikes

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

    def delete(self) -> None:
        """Remove the project folder."""
        _cleanup(self.project, False)


def _cleanup(project: Path, keep: bool) -> None:
    if not keep:
        shutil.rmtree(project, ignore_errors=True)
