"""The runtime executable: the network built once in this process, restored before each batch.

The input table is replaced in the namespace (a new ``TimedArray`` of the same name); each run
lasts ``samples`` windows and the recorded spikes are binned per window.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError, LifBridgeError
from lif_bridge_brian2.inputs import InputRoute
from lif_bridge_brian2.lowering import bin_spikes, to_brian2
from lif_bridge_brian2.spec import BuildSpec, Outputs
from lif_bridge_brian2.toolchain import codegen_prefs

__all__ = ["RuntimeExecutable"]

_INITIAL = "lif_bridge_initial"


def _ensure_runtime() -> None:
    from brian2.devices.device import RuntimeDevice, get_device

    if not isinstance(get_device(), RuntimeDevice):
        b2.set_device("runtime")


class RuntimeExecutable:
    """A runtime network (code target ``numpy`` or ``cython``), any number of samples per run.

    Parameters
    ----------
    spec
        What to build (its ``samples`` is only the default chunk of the program).
    target
        Brian2's ``codegen.target``: ``"numpy"`` or ``"cython"``.
    cython_cache
        Cache folder of compiled Cython code (``None``: Brian2's default).
    """

    #: Windows per run are not fixed: any batch size runs as it is.
    samples: int | None = None

    def __init__(self, spec: BuildSpec, target: str, cython_cache: Path | None) -> None:
        self.spec = spec
        self.target = target
        self.cython_cache = cython_cache
        _ensure_runtime()
        t0 = time.perf_counter()
        with codegen_prefs(target, cython_cache):
            try:
                self.net, self.map = to_brian2(
                    spec.network,
                    spec.simulation,
                    samples=1,
                    units=spec.units,
                    route=spec.route,
                    monitor_counts=spec.monitor_counts,
                )
                self.net.store(_INITIAL)
            except LifBridgeError:
                raise
            except Exception as exc:
                raise BackendError(
                    f"brian2 backend, device {target!r}: building the network failed: {exc}"
                ) from exc
        self.info: dict[str, Any] = {"build_seconds": time.perf_counter() - t0}

    def run(self, values: np.ndarray) -> Outputs:
        """Run the windows whose input table is ``values``; counts and traces per window."""
        sim, lmap = self.spec.simulation, self.map
        samples = len(values) // (sim.steps if self.spec.route is InputRoute.TRAINS else 1)
        _ensure_runtime()
        table = lmap.input.table
        dt_table = sim.dt if self.spec.route is InputRoute.TRAINS else sim.dt * sim.steps
        self.net.restore(_INITIAL)
        lmap.namespace[table.name] = b2.TimedArray(values, dt=dt_table * b2.second, name=table.name)
        with codegen_prefs(self.target, self.cython_cache):
            try:
                self.net.run(samples * sim.steps * sim.dt * b2.second)
            except LifBridgeError:
                raise
            except Exception as exc:
                raise BackendError(
                    f"brian2 backend, device {self.target!r}: the run failed: {exc}"
                ) from exc
        counts = {}
        for name, mon in lmap.spike_monitors.items():
            steps = np.round(np.asarray(mon.t[:] / b2.second) / sim.dt).astype(np.int64)
            n = lmap.populations[name].size
            counts[name] = bin_spikes(np.asarray(mon.i[:]), steps, sim.steps, samples, n)
        traces = {}
        for name, smon in lmap.state_monitors.items():
            v = np.asarray(smon.v[:] / b2.volt).T  # (B·W, n)
            traces[name] = v.reshape(samples, sim.steps, -1) / lmap.units.voltage_scale
        return counts, traces

    def close(self) -> None:
        """Nothing to delete (the Cython cache is shared)."""
