"""A runnable Brian2 program: one device, one build specification, batches of samples.

The program lays the samples of a batch out in time, one window after the other (see
:mod:`lif_bridge_brian2.inputs`), and hands the input table to its device's *executable*
(:mod:`lif_bridge_brian2.devices`). Runtime executables are built at once and take any number of
windows per run; standalone ones are compiled on the first batch (or by :meth:`compile`) for
``samples_per_run`` windows, and shorter batches are padded with silent samples.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from lif_bridge.backend import Result
from lif_bridge.network import check_inputs
from lif_bridge_brian2.devices import Device, Executable
from lif_bridge_brian2.inputs import input_values
from lif_bridge_brian2.spec import BuildSpec, Outputs

__all__ = ["Brian2Program"]


class Brian2Program:
    """A network lowered onto Brian2, ready to run batches of samples.

    Parameters
    ----------
    spec
        What to build (network, simulation, input route, units, windows per run, ...).
    device
        Where it runs.
    fit_first_batch
        Standalone: compile for the size of the first batch (bounded by the table size)
        instead of ``spec.samples``.
    """

    def __init__(self, spec: BuildSpec, device: Device, *, fit_first_batch: bool = False) -> None:
        self.spec = spec
        self.fit_first_batch = fit_first_batch
        self.device = device
        self.network = spec.network
        self.simulation = spec.simulation
        self.info: dict[str, Any] = {"device": device.name, "input": spec.route.value}
        self._exe: Executable | None = None
        if not device.standalone:
            self._build()

    @property
    def samples_per_run(self) -> int:
        """Sample windows per run (standalone: compiled in)."""
        return self.spec.samples

    def _build(self) -> Executable:
        if self._exe is None:
            self._exe = self.device.build(self.spec)
            self.info.update(self._exe.info)
        return self._exe

    def _run_chunk(self, x: np.ndarray, start: int) -> Outputs:
        exe = self._build()
        n = len(x)
        if exe.samples is not None and n < exe.samples:  # pad with silent samples
            x = np.concatenate([x, np.zeros((exe.samples - n, *x.shape[1:]))])
        values = input_values(self.spec.route, self.network, self.simulation, x, start)
        counts, traces = exe.run(values)
        return {k: v[:n] for k, v in counts.items()}, {k: v[:n] for k, v in traces.items()}

    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Simulate samples ``x`` ``(samples, *input_shape)``; see :class:`lif_bridge.Result`."""
        x = check_inputs(self.network, x)
        t0 = time.perf_counter()
        if self._exe is None and self.fit_first_batch and self.device.standalone and len(x):
            self.spec = self.spec.with_samples(len(x))
        parts = [
            self._run_chunk(x[lo : lo + self.samples_per_run], start_index + lo)
            for lo in range(0, len(x), self.samples_per_run)
        ]
        self.info.update(self._exe.info if self._exe is not None else {})
        readout = self.simulation.readout
        return Result(
            counts={k: np.concatenate([c[k] for c, _ in parts]) for k in self.spec.monitor_counts},
            traces={k: np.concatenate([t[k] for _, t in parts]) for k in readout.traces},
            output=self.network.output.name,
            steps=self.simulation.steps,
            dt=self.simulation.dt,
            backend=f"brian2-{self.device.name}",
            seconds=time.perf_counter() - t0,
            info=dict(self.info),
        )

    def compile(self, samples: int | None = None) -> float:
        """Build and compile the standalone project now (else on the first run); seconds.

        ``samples`` changes the windows per run if nothing is built yet. Runtime: 0.
        """
        if not self.device.standalone:
            return 0.0
        if self._exe is None and samples is not None:
            self.spec = self.spec.with_samples(samples)
            self.fit_first_batch = False
        return float(self._build().info["compile_seconds"])

    def close(self) -> None:
        """Delete the standalone project (unless ``keep_build``); idempotent."""
        if self._exe is not None and not self.spec.keep_build:
            self._exe.close()
            self._exe = None
