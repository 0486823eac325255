"""Runnable Brian2 programs: runtime (numpy, cython) and compiled standalone.

Both lay the samples of a batch out in time, one window after the other (see
:mod:`lif_bridge_brian2.inputs`), run once, and bin the recorded spikes per window. Runtime
programs build the network once and ``restore()`` it before each batch; the input table is
replaced in the namespace. Standalone programs are compiled once, for ``samples_per_run``
windows, on their first batch (:mod:`lif_bridge_brian2.standalone`); each later batch only
rewrites the input table and re-executes the binary.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.backend import Result
from lif_bridge.errors import BackendError, LifBridgeError
from lif_bridge.network import Network, Simulation, check_inputs
from lif_bridge_brian2.devices import codegen_prefs
from lif_bridge_brian2.inputs import input_mode, input_values
from lif_bridge_brian2.lowering import LayerMap, to_brian2
from lif_bridge_brian2.units import UnitPreset

__all__ = ["Brian2Program", "bin_spikes"]

#: Largest input table [bytes] a single run may hold (trains are B·W·n float64 numbers).
TABLE_BYTES = 64 * 2**20


def bin_spikes(i: np.ndarray, t_steps: np.ndarray, steps: int, samples: int, n: int) -> np.ndarray:
    """Spike counts ``(samples, n)`` from neuron indices and integer step numbers."""
    k = t_steps // steps
    flat = np.bincount(k * n + i, minlength=samples * n)[: samples * n]
    return flat.reshape(samples, n).astype(np.int64)


def chunk_size(mode: str, simulation: Simulation, n_in: int, wanted: int) -> int:
    """Samples per run: ``wanted``, bounded so that the input table fits :data:`TABLE_BYTES`."""
    per = 8 * n_in * (simulation.steps if mode == "trains" else 1)
    return int(max(1, min(wanted, TABLE_BYTES // max(per, 1))))


def _ensure_runtime() -> None:
    from brian2.devices.device import RuntimeDevice, get_device

    if not isinstance(get_device(), RuntimeDevice):
        b2.set_device("runtime")


class Brian2Program:
    """A network lowered onto Brian2, ready to run batches of samples.

    Parameters
    ----------
    network, simulation
        What to run and how.
    target
        ``"numpy"``, ``"cython"``, ``"cpp_standalone"`` or ``"cuda_standalone"``.
    units
        Unit preset (results do not depend on it).
    build_root
        Folder for build projects and caches.
    samples_per_run
        Windows per run (runtime: per ``Network.run``; standalone: compiled in).
    trains, poisson_group
        Input routes (see :mod:`lif_bridge_brian2.inputs`).
    keep_build
        Keep the standalone project folder on :meth:`close`.
    """

    def __init__(
        self,
        network: Network,
        simulation: Simulation,
        *,
        target: str,
        units: str | UnitPreset,
        build_root: Path,
        samples_per_run: int,
        trains: bool = False,
        poisson_group: bool = False,
        keep_build: bool = False,
    ) -> None:
        self.network = network
        self.simulation = simulation
        self.target = target
        self.units = units
        self.build_root = build_root
        self.trains = trains
        self.poisson_group = poisson_group
        self.keep_build = keep_build
        self.mode = input_mode(simulation, trains, poisson_group)
        self.count_layers = simulation.readout.count_layers(network)
        self.samples_per_run = chunk_size(self.mode, simulation, network.n_inputs, samples_per_run)
        self.info: dict[str, Any] = {"device": target, "input": self.mode}
        self._standalone: Any = None
        self._net: b2.Network | None = None
        self._map: LayerMap | None = None
        if target in ("numpy", "cython"):
            self._build_runtime()

    # ------------------------------------------------------------------ runtime
    def _build_runtime(self) -> None:
        _ensure_runtime()
        t0 = time.perf_counter()
        with codegen_prefs(self.target, self._cython_cache()):
            try:
                self._net, self._map = to_brian2(
                    self.network,
                    self.simulation,
                    samples=1,
                    units=self.units,
                    trains=self.trains,
                    poisson_group=self.poisson_group,
                )
                self._net.store("lif_bridge_initial")
            except LifBridgeError:
                raise
            except Exception as exc:
                raise BackendError(
                    f"brian2 backend, device {self.target!r}: building the network failed: {exc}"
                ) from exc
        self.info["build_seconds"] = time.perf_counter() - t0

    def _cython_cache(self) -> Path | None:
        return self.build_root / "cython_cache" if self.target == "cython" else None

    def _run_runtime(
        self, x: np.ndarray, start: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        assert self._net is not None and self._map is not None
        lmap, sim = self._map, self.simulation
        _ensure_runtime()
        vals = input_values(self.mode, self.network, sim, x, start)
        table = lmap.input.table
        dt_table = sim.dt if self.mode == "trains" else sim.dt * sim.steps
        new_table = b2.TimedArray(vals, dt=dt_table * b2.second, name=table.name)
        self._net.restore("lif_bridge_initial")
        lmap.namespace[table.name] = new_table
        with codegen_prefs(self.target, self._cython_cache()):
            try:
                self._net.run(len(x) * sim.steps * sim.dt * b2.second)
            except Exception as exc:
                raise BackendError(
                    f"brian2 backend, device {self.target!r}: the run failed: {exc}"
                ) from exc
        counts = {}
        for name, mon in lmap.spike_monitors.items():
            steps = np.round(np.asarray(mon.t[:] / b2.second) / sim.dt).astype(np.int64)
            n = lmap.populations[name].size
            counts[name] = bin_spikes(np.asarray(mon.i[:]), steps, sim.steps, len(x), n)
        traces = {}
        for name, smon in lmap.state_monitors.items():
            v = np.asarray(smon.v[:] / b2.volt).T  # (B·W, n)
            traces[name] = v.reshape(len(x), sim.steps, -1) / lmap.units.voltage_scale
        return counts, traces

    # ------------------------------------------------------------------ both
    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Simulate samples ``x`` ``(samples, *input_shape)``; see :class:`lif_bridge.Result`."""
        x = check_inputs(self.network, x)
        t0 = time.perf_counter()
        parts_c: list[dict[str, np.ndarray]] = []
        parts_t: list[dict[str, np.ndarray]] = []
        b = self.samples_per_run
        for lo in range(0, len(x), b):
            chunk = x[lo : lo + b]
            if self.target in ("numpy", "cython"):
                c, tr = self._run_runtime(chunk, start_index + lo)
            else:
                c, tr = self._run_standalone(chunk, start_index + lo)
            parts_c.append(c)
            parts_t.append(tr)
        counts = {k: np.concatenate([c[k] for c in parts_c]) for k in self.count_layers}
        traces = {
            k: np.concatenate([t[k] for t in parts_t]) for k in self.simulation.readout.traces
        }
        return Result(
            counts=counts,
            traces=traces,
            output=self.network.output.name,
            steps=self.simulation.steps,
            dt=self.simulation.dt,
            backend=f"brian2-{self.target}",
            seconds=time.perf_counter() - t0,
            info=dict(self.info),
        )

    # ------------------------------------------------------------------ standalone
    def _run_standalone(
        self, x: np.ndarray, start: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        from lif_bridge_brian2.standalone import StandaloneBuild

        if self._standalone is None:
            self._standalone = StandaloneBuild.create(self, self.samples_per_run)
            self.info.update(self._standalone.info)
        sb = self._standalone
        n = len(x)
        if n < sb.samples:  # pad the last batch with silent samples
            x = np.concatenate([x, np.zeros((sb.samples - n, *x.shape[1:]))])
        vals = input_values(self.mode, self.network, self.simulation, x, start)
        counts, traces = sb.run(vals)
        return (
            {k: v[:n] for k, v in counts.items()},
            {k: v[:n] for k, v in traces.items()},
        )

    def compile(self, samples: int | None = None) -> float:
        """Build and compile the standalone project now (else on the first run); seconds."""
        from lif_bridge_brian2.standalone import StandaloneBuild

        if self.target in ("numpy", "cython"):
            return 0.0
        if self._standalone is None:
            if samples is not None:
                self.samples_per_run = chunk_size(
                    self.mode, self.simulation, self.network.n_inputs, samples
                )
            self._standalone = StandaloneBuild.create(self, self.samples_per_run)
            self.info.update(self._standalone.info)
        return float(self._standalone.info["compile_seconds"])

    @property
    def layer_map(self) -> LayerMap | None:
        """The runtime network's :class:`~lif_bridge_brian2.lowering.LayerMap` (runtime only)."""
        return self._map

    def close(self) -> None:
        """Delete the standalone project (unless ``keep_build``); idempotent."""
        if self._standalone is not None and not self.keep_build:
            self._standalone.delete()
        self._standalone = None
