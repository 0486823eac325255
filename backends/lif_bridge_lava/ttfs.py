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
from lif_bridge.network import Network
from lif_bridge.network.network import check_inputs
from lif_bridge.ttfs.coding import TtfsLayer, layer_plan, ttfs_coding
from lif_bridge.ttfs.run import TtfsResult

__all__ = ["TtfsLavaBackend", "TtfsLavaProgram", "fixed_point_layer"]

#: Weight precision of the fixed-point model (signed).
WEIGHT_BITS = 8


def fixed_point_layer(
    matrix: sp.csr_matrix, theta: np.ndarray, dt_over_tau: float, bits: int = WEIGHT_BITS
) -> dict[str, Any]:
    """Integer weights, ramp and thresholds of one layer (see :mod:`.ttfs_procs`)."""
    peak = float(np.abs(matrix.data).max(initial=0.0)) or 1.0
    ramp = max(1, int(np.floor((2 ** (bits - 1) - 1) / peak)))
    w = matrix.copy()
    w.data = np.rint(w.data * ramp)
    theta_int = np.rint(np.nan_to_num(theta) * ramp / dt_over_tau).astype(np.int64)
    return {"R": ramp, "w": sp.csr_matrix(w), "theta": theta_int}


def _windows(layer: TtfsLayer) -> np.ndarray | None:
    pop = layer.population
    win: np.ndarray | None = None
    shape = pop.source_shape
    for gate in pop.gates:
        w = pool_windows(gate, shape)
        win = w if win is None else win[w].reshape(w.shape[0], -1)
        shape = gate.output_shape(shape)
    return win


#: What the refusal of a graph suggests.
GRAPH_FIX = (
    "run graphs on the reference TTFS backend "
    "(CLI: --backend reference; simulate_ttfs(..., backend='reference'))"
)


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
        self.input_end, self.plan = layer_plan(
            network, dt, backend="the Lava TTFS backend", fix=GRAPH_FIX
        )
        self.matrices = [
            sp.csr_matrix(
                population_matrix(
                    lay.population.layer,  # type: ignore[arg-type]
                    lay.population.linear_stages,
                    lay.population.gated_shape,
                )
            )
            for lay in self.plan
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
        source: Any = inp
        for lay, m in zip(self.plan, self.matrices, strict=True):
            theta = np.zeros(lay.population.size) if lay.is_output else lay.theta
            proc = TtfsPopulation(
                n=lay.population.size,
                n_source=int(np.prod(lay.population.source_shape)),
                matrix=m,
                windows=_windows(lay),
                theta=theta,
                k_on=round(lay.t_min / self.dt),
                k_off=None if lay.is_output else round(lay.t_max / self.dt),
                period=period,
                samples=len(x),
                dt_over_tau=dto,
                fixed=fixed_point_layer(m, theta, dto) if self.backend.fixed_point else None,
            )
            source.s_out.connect(proc.a_in)
            procs.append(proc)
            source = proc
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
            for lay, proc in zip(self.plan[:-1], procs[:-1], strict=False):
                counts[lay.population.name] = np.asarray(proc.spikes.get())
        finally:
            inp.stop()
        out = self.plan[-1]
        y = readout + out.bias
        if out.population.layer.ann_activation == "relu":
            y = np.maximum(y, 0.0)
        return TtfsResult(
            spike_times={},
            output=y,
            output_name=out.population.name,
            readout_time=out.t_min,
            dt=self.dt,
            backend="lava (fixed_pt)" if self.backend.fixed_point else "lava (floating_pt)",
            info={"spikes_per_sample": counts},
        )

    def run(self, x: np.ndarray, *, progress: bool = False) -> TtfsResult:
        """Readout of samples ``x`` in [0, 1]; spike counts per sample in ``info``.

        Per-neuron spike times are not read back from Lava (``spike_times`` is empty); every
        neuron fires at most once by construction (a ``fired`` flag per neuron).
        """
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
        return TtfsResult(
            spike_times={},
            output=np.concatenate([p.output for p in parts]),
            output_name=parts[0].output_name,
            readout_time=parts[0].readout_time,
            dt=self.dt,
            backend=parts[0].backend,
            seconds=time.perf_counter() - start,
            info={"spikes_per_sample": counts, "mean_spikes_per_neuron": mean},
        )

    def close(self) -> None:
        """Nothing held between runs (each batch stops its runtime)."""
