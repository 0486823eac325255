"""TTFS coding on Brian2, runtime and C++ standalone (entry point ``lif_bridge.ttfs_backends``).

The model is in :mod:`.ttfs_model`. Brian2 is clock-driven: every window bound is rounded up to
whole steps of ``dt`` (:func:`lif_bridge.ttfs.semantics.window_bounds`), thresholds are tested
once per step, and

* ``interpolate=True`` (default): each spike carries its exact crossing time (the ramp is
  linear within the step) and the synapses add the charge due since then, so the decoded
  values equal the exact solution for any ``dt`` up to floating-point rounding — compare with
  the reference's continuous-time run of the same network;
* ``interpolate=False``: spikes at grid times, the discrete semantics, equal to the reference's
  run with the same ``dt``.

Samples run one after another (``samples_per_run`` per Brian2 run, state cleared at each
sample's start). Chains and graphs (windows by depth, shortcuts re-timed by synaptic delays of
whole steps; :mod:`.ttfs_model`). A standalone project is generated, compiled and run per batch
(its inputs are compiled in), so ``cpp_standalone`` pays one compilation per ``run`` call batch.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network import Network
from lif_bridge.network.network import check_inputs
from lif_bridge.ttfs.coding import graph_plan, ttfs_coding
from lif_bridge.ttfs.run import TtfsResult
from lif_bridge.ttfs.semantics import NO_SPIKE
from lif_bridge_brian2.devices import CppStandalone, CudaStandalone, RuntimeDevice, device_for
from lif_bridge_brian2.toolchain import cache_root, check_compiler, codegen_prefs
from lif_bridge_brian2.ttfs_model import TtfsBrian2Net, build_ttfs

__all__ = ["DEFAULT_DT", "TtfsBrian2Backend", "TtfsBrian2Program"]

#: Default time step [s] (0.1 tau_c for the default tau_c of 1 ms).
DEFAULT_DT = 1e-4


class TtfsBrian2Backend:
    """Brian2 TTFS backend.

    Parameters
    ----------
    device
        ``"runtime"`` (alias ``"numpy"``), ``"cython"`` or ``"cpp_standalone"``.
    interpolate
        Exact spike times within a step (see the module docstring); ``False``: grid times.
    samples_per_run
        Samples laid out in one Brian2 run.
    build_dir
        Folder for standalone projects (default ``$LIF_BRIDGE_CACHE/brian2``).
    **_ignored
        The rate-coding backend's other command-line options (``units``, ``poisson_group``,
        ``keep_build``) are accepted and have no effect here.
    """

    name = "brian2"

    def __init__(
        self,
        device: str = "runtime",
        interpolate: bool = True,
        samples_per_run: int = 100,
        build_dir: str | None = None,
        **_ignored: Any,
    ) -> None:
        self.device = _device_name(device)
        if self.device == "cuda_standalone":
            raise ValidationError(
                "brian2 TTFS: cuda_standalone is not supported; use cpp_standalone"
            )
        if self.device != "numpy":
            check_compiler(self.device)
        if not isinstance(samples_per_run, int) or samples_per_run < 1:
            raise ValidationError("samples_per_run must be an int >= 1")
        self.interpolate = bool(interpolate)
        self.samples_per_run = samples_per_run
        self.build_dir = build_dir

    def lower(self, network: Network, dt: float | None = None) -> TtfsBrian2Program:
        """Prepare the windows on the grid of ``dt`` [s] (default :data:`DEFAULT_DT`)."""
        return TtfsBrian2Program(network, DEFAULT_DT if dt is None else float(dt), self)


def _device_name(device: str) -> str:
    """``"numpy"``, ``"cython"``, ``"cpp_standalone"`` or ``"cuda_standalone"``."""
    dev = device_for(device)
    if isinstance(dev, CudaStandalone):
        return "cuda_standalone"
    if isinstance(dev, CppStandalone):
        return "cpp_standalone"
    assert isinstance(dev, RuntimeDevice)  # the device table holds no other kind
    return dev.target


class TtfsBrian2Program:
    """A TTFS network ready to run on Brian2 (objects are built per batch)."""

    def __init__(self, network: Network, dt: float, backend: TtfsBrian2Backend) -> None:
        if not np.isfinite(dt) or dt <= 0:
            raise ValidationError(f"dt must be a time step > 0 s, got {dt!r}")
        self.network = network
        self.dt = dt
        self.backend = backend
        self.tau_c = ttfs_coding(network).tau_c
        self.input_end, self.plan = graph_plan(network, dt)

    def _simulate(self, x: np.ndarray) -> TtfsBrian2Net:
        be = self.backend
        b2.defaultclock.dt = self.dt * b2.second
        if be.device != "cpp_standalone":
            with codegen_prefs(be.device, cache_root(be.build_dir) / "cython"):
                model = build_ttfs(
                    self.network,
                    self.plan,
                    self.input_end,
                    x,
                    tau_c=self.tau_c,
                    dt=self.dt,
                    interpolate=be.interpolate,
                )
                model.net.run(model.duration, namespace={})
            return model
        from brian2.devices.device import get_device

        root = cache_root(be.build_dir)
        root.mkdir(parents=True, exist_ok=True)
        project = Path(tempfile.mkdtemp(prefix="ttfs-", dir=root))
        with codegen_prefs(None):
            b2.set_device("cpp_standalone", build_on_run=False)
            dev = get_device()
            dev.reinit()
            dev.activate(build_on_run=False)
            b2.defaultclock.dt = self.dt * b2.second
            try:
                model = build_ttfs(
                    self.network,
                    self.plan,
                    self.input_end,
                    x,
                    tau_c=self.tau_c,
                    dt=self.dt,
                    interpolate=be.interpolate,
                )
                model.net.run(model.duration, namespace={})
                dev.build(directory=str(project), compile=True, run=True, with_output=False)
                self._collect(model, x)  # read the results while the device holds them
            finally:
                dev.reinit()
                b2.set_device("runtime")
        return model

    def _collect(self, model: TtfsBrian2Net, x: np.ndarray) -> None:
        period, dt, tau = model.period_steps, self.dt, self.tau_c
        n = len(x)
        flat = x.reshape(n, -1)
        thetas = {"input": None} | {
            lay.population.name: lay.theta for lay in self.plan if not lay.is_output
        }
        starts = {"input": 0} | {
            lay.population.name: round(lay.t_min / dt) for lay in self.plan if not lay.is_output
        }
        k0 = round(self.input_end / dt)
        times: dict[str, np.ndarray] = {}
        most = 0
        for name, mon in model.spikes.items():
            i = np.asarray(mon.i[:], dtype=np.int64)
            step = np.rint(np.asarray(mon.t[:] / b2.second) / dt).astype(np.int64)
            v = np.asarray(mon.v[:] / b2.volt)
            s, k = step // period, step % period
            keep = s < n  # the one step after the last sample is not a sample
            i, v, s, k = i[keep], v[keep], s[keep], k[keep]
            theta = k0 * dt / tau - flat[s, i] if name == "input" else np.asarray(thetas[name])[i]
            lag = 0 if name == "input" else 1  # see ttfs_model._neuron_group
            v_test = v - (1 - lag) * dt / tau
            now = (k + lag) * dt
            if self.backend.interpolate:
                t_rel = np.clip(now - (v_test - theta) * tau, starts[name] * dt, now)
            else:
                t_rel = now
            size = flat.shape[1] if name == "input" else self.network.population(name).size
            arr = np.full((n, size), NO_SPIKE)
            arr[s, i] = t_rel
            times[name] = arr
            if name != "input":  # every spike the monitor saw, apart from the kept times
                most = max(most, int(np.bincount(s * size + i, minlength=1).max()))
        out_layer = self.plan[-1]
        v_out = np.asarray(model.readout.v[:] / b2.volt).T[1 : n + 1]
        y = v_out + out_layer.bias
        if out_layer.population.ann_activation == "relu":
            y = np.maximum(y, 0.0)
        self._last = (times, y, most)

    def run(self, x: np.ndarray, *, progress: bool = False) -> TtfsResult:
        """Spike times and readout of samples ``x`` in [0, 1]."""
        x = check_inputs(self.network, x)
        start = time.perf_counter()
        parts = []
        counted = 0  # the most spikes of one neuron in one sample, counted from the monitors
        step = self.backend.samples_per_run
        for b in range(0, len(x), step):
            batch = x[b : b + step]
            model = self._simulate(batch)
            if self.backend.device != "cpp_standalone":
                self._collect(model, batch)
            times, y, most = self._last
            counted = max(counted, most)
            parts.append(
                TtfsResult(
                    spike_times=times,
                    output=y,
                    output_name=self.plan[-1].population.name,
                    readout_time=self.plan[-1].t_min,
                    dt=self.dt,
                    backend=f"brian2 ({self.backend.device})",
                )
            )
        res = TtfsResult.concatenate(parts)
        return TtfsResult(
            spike_times=res.spike_times,
            output=res.output,
            output_name=res.output_name,
            readout_time=res.readout_time,
            dt=self.dt,
            backend=res.backend,
            seconds=time.perf_counter() - start,
            info={
                "interpolate": self.backend.interpolate,
                "device": self.backend.device,
                "max_spikes_per_neuron": float(counted),
            },
        )

    def close(self) -> None:
        """Nothing held between runs."""
