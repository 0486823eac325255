"""TTFS coding on Lava (entry point ``lif_bridge.ttfs_backends``): discrete time, float or fixed.

Processes and the step rule are in :mod:`.ttfs_procs`. The time resolution is the step ``dt``
(default ``tau_c / 10``): windows are rounded up to whole steps and spikes fall on the grid, as
in the reference's run with the same ``dt`` (``simulate_ttfs(net, x, dt=dt)``), which the
floating-point model equals spike for spike. Each ``run`` builds the process graph for its
batch (``samples_per_run`` samples laid out in time), runs it in one blocking call, reads the
readout and the spike counts per sample (``Var.get``), and stops the runtime.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import ValidationError
from lif_bridge.network import Edge, Network
from lif_bridge.network.network import check_inputs
from lif_bridge.ttfs.coding import TtfsLayer, graph_plan, ttfs_coding
from lif_bridge.ttfs.run import TtfsResult
from lif_bridge.ttfs.semantics import NO_SPIKE

__all__ = ["MAX_SOURCES", "TtfsLavaBackend", "TtfsLavaProgram", "fixed_point_layer"]

#: Weight precision of the fixed-point model (signed).
WEIGHT_BITS = 8

#: In-ports of a population process (``a_in0`` ...): the most distinct sources of a population.
MAX_SOURCES = 8


def fixed_point_layer(
    matrices: list[sp.csr_matrix], theta: np.ndarray, dt_over_tau: float, bits: int = WEIGHT_BITS
) -> dict[str, Any]:
    """Integer weights (one matrix per projection), ramp and thresholds of one population.

    The ramp ``R = floor((2^(bits-1) - 1) / max |w|)`` (at least 1) is common to the
    projections, so their integer currents add (see :mod:`.ttfs_procs`).
    """
    peak = max((float(np.abs(m.data).max(initial=0.0)) for m in matrices), default=0.0) or 1.0
    ramp = max(1, int(np.floor((2 ** (bits - 1) - 1) / peak)))
    weights = []
    for m in matrices:
        w = m.copy()
        w.data = np.rint(w.data * ramp)
        weights.append(sp.csr_matrix(w))
    theta_int = np.rint(np.nan_to_num(theta) * ramp / dt_over_tau).astype(np.int64)
    return {"R": ramp, "w": weights, "theta": theta_int}


def _windows(edge: Edge) -> np.ndarray | None:
    """Source units of each window of the projection's max-pool gates, composed."""
    win: np.ndarray | None = None
    shape = edge.source_shape
    for gate in edge.gates:
        w = pool_windows(gate, shape)
        win = w if win is None else win[w].reshape(w.shape[0], -1)
        shape = gate.output_shape(shape)
    return win


def _sources(layer: TtfsLayer) -> list[int]:
    """Distinct sources of a population in projection order (one in-port each)."""
    distinct = list(dict.fromkeys(layer.population.sources))
    if len(distinct) > MAX_SOURCES:
        raise ValidationError(
            f"population {layer.population.name!r} has {len(distinct)} source populations; the "
            f"Lava TTFS backend takes at most {MAX_SOURCES} (one in-port each); run it on the "
            "reference or brian2 TTFS backend"
        )
    return distinct


class TtfsLavaBackend:
    """Lava TTFS backend (CPU simulation of the processes).

    Parameters
    ----------
    precision
        ``"float"`` (float64, ``floating_pt``) or ``"fixed"`` (``fixed_pt``: 8-bit weights,
        integer state), as the rate-coding Lava backend's option.
    fixed_point
        Same as ``precision="fixed"``.
    samples_per_run
        Samples laid out in one process graph.
    """

    name = "lava"

    def __init__(
        self,
        precision: str = "float",
        fixed_point: bool = False,
        samples_per_run: int = 100,
        **_: Any,
    ) -> None:
        if precision not in ("float", "fixed"):
            raise ValidationError(f"precision must be 'float' or 'fixed', got {precision!r}")
        if not isinstance(samples_per_run, int) or samples_per_run < 1:
            raise ValidationError("samples_per_run must be an int >= 1")
        self.fixed_point = bool(fixed_point) or precision == "fixed"
        self.samples_per_run = samples_per_run

    def lower(self, network: Network, dt: float | None = None) -> TtfsLavaProgram:
        """Prepare the windows on the grid of ``dt`` [s] (default ``tau_c / 10``)."""
        tau = ttfs_coding(network).tau_c
        return TtfsLavaProgram(network, tau / 10 if dt is None else float(dt), self)


class TtfsLavaProgram:
    """A TTFS network ready to run on Lava."""

    def __init__(self, network: Network, dt: float, backend: TtfsLavaBackend) -> None:
        if not np.isfinite(dt) or dt <= 0:
            raise ValidationError(f"dt must be a time step > 0 s, got {dt!r}")
        self.network, self.dt, self.backend = network, dt, backend
        self.tau_c = ttfs_coding(network).tau_c
        self.input_end, self.plan = graph_plan(network, dt)
        self.matrices = [
            [
                sp.csr_matrix(population_matrix(e.map, e.linear_stages, e.gated_shape))
                for e in lay.population.projections
            ]
            for lay in self.plan
        ]
        self.ports = [_sources(lay) for lay in self.plan]

    def _edges(self, k: int, fixed: dict[str, Any] | None) -> list[dict[str, Any]]:
        lay = self.plan[k]
        return [
            {
                "port": self.ports[k].index(edge.source),
                "matrix": m,
                "windows": _windows(edge),
                "delay": round((lay.t_min - end) / self.dt),
                "w": None if fixed is None else fixed["w"][e],
            }
            for e, (edge, end, m) in enumerate(
                zip(lay.population.projections, lay.source_ends, self.matrices[k], strict=True)
            )
        ]

    def _graph(self, x: np.ndarray) -> tuple[Any, list[Any], int]:
        from lif_bridge_lava.ttfs_procs import TtfsInput, TtfsPopulation

        dto = self.dt / self.tau_c
        period = round(self.plan[-1].t_min / self.dt) + 1
        inp = TtfsInput(
            x=x.reshape(len(x), -1),
            k_off=round(self.input_end / self.dt),
            period=period,
            dt_over_tau=dto,
        )
        procs: list[Any] = []
        sizes = [lay.population.size for lay in self.plan]
        for k, lay in enumerate(self.plan):
            theta = np.zeros(lay.population.size) if lay.is_output else lay.theta
            fixed = (
                fixed_point_layer(self.matrices[k], theta, dto)
                if self.backend.fixed_point
                else None
            )
            proc = TtfsPopulation(
                n=lay.population.size,
                source_sizes=[self.network.n_inputs if s < 0 else sizes[s] for s in self.ports[k]],
                edges=self._edges(k, fixed),
                theta=theta,
                k_on=round(lay.t_min / self.dt),
                k_off=None if lay.is_output else round(lay.t_max / self.dt),
                period=period,
                samples=len(x),
                dt_over_tau=dto,
                fixed=fixed and {"R": fixed["R"], "theta": fixed["theta"]},
            )
            for port, s in enumerate(self.ports[k]):
                (inp if s < 0 else procs[s]).s_out.connect(getattr(proc, f"a_in{port}"))
            procs.append(proc)
        return inp, procs, period

    def _batch(self, x: np.ndarray) -> TtfsResult:
        from lava.magma.core.run_conditions import RunSteps
        from lava.magma.core.run_configs import Loihi2SimCfg

        inp, procs, period = self._graph(x)
        cfg = Loihi2SimCfg(select_tag="fixed_pt" if self.backend.fixed_point else "floating_pt")
        try:
            inp.run(condition=RunSteps(num_steps=len(x) * period, blocking=True), run_cfg=cfg)
            readout = np.asarray(procs[-1].readout.get(), dtype=np.float64)
            counts = {"input": np.asarray(inp.spikes.get())}
            steps = {"input": np.asarray(inp.steps.get())}
            for lay, proc in zip(self.plan[:-1], procs[:-1], strict=False):
                counts[lay.population.name] = np.asarray(proc.spikes.get())
                steps[lay.population.name] = np.asarray(proc.steps.get())
        finally:
            inp.stop()
        out = self.plan[-1]
        y = readout + out.bias
        if out.population.ann_activation == "relu":
            y = np.maximum(y, 0.0)
        return TtfsResult(
            spike_times={k: np.where(v >= 0, v * self.dt, NO_SPIKE) for k, v in steps.items()},
            output=y,
            output_name=out.population.name,
            readout_time=out.t_min,
            dt=self.dt,
            backend="lava (fixed_pt)" if self.backend.fixed_point else "lava (floating_pt)",
            info={
                "spikes_per_sample": {k: c.sum(axis=1) for k, c in counts.items()},
                "max_spikes": max(
                    float(c.max(initial=0)) for k, c in counts.items() if k != "input"
                ),
            },
        )

    def run(self, x: np.ndarray, *, progress: bool = False) -> TtfsResult:
        """Readout and grid spike times of samples ``x`` in [0, 1]. ``info`` has the spike
        counts per sample and layer and ``max_spikes_per_neuron``, counted from every spike a
        hidden process sent (apart from the recorded times, which keep one per neuron)."""
        x = check_inputs(self.network, x)
        start = time.perf_counter()
        step = self.backend.samples_per_run
        parts = [self._batch(x[b : b + step]) for b in range(0, len(x), step)]
        counts = {
            k: np.concatenate([p.info["spikes_per_sample"][k] for p in parts])
            for k in parts[0].info["spikes_per_sample"]
        }
        sizes = {"input": self.network.n_inputs} | {
            lay.population.name: lay.population.size for lay in self.plan[:-1]
        }
        hidden = [k for k in counts if k != "input"]
        mean = float(
            sum(counts[k].sum() for k in hidden) / (len(x) * sum(sizes[k] for k in hidden))
        )
        most = max(float(p.info["max_spikes"]) for p in parts)
        times = TtfsResult.concatenate(parts).spike_times
        return TtfsResult(
            spike_times=times,
            output=np.concatenate([p.output for p in parts]),
            output_name=parts[0].output_name,
            readout_time=parts[0].readout_time,
            dt=self.dt,
            backend=parts[0].backend,
            seconds=time.perf_counter() - start,
            info={
                "spikes_per_sample": counts,
                "mean_spikes_per_neuron": mean,
                "max_spikes_per_neuron": most,
            },
        )

    def close(self) -> None:
        """Nothing held between runs (each batch stops its runtime)."""
