"""TTFS on the reference backend: the closed-form solution of :mod:`lif_bridge.ttfs.semantics`.

Population by population and batched in float64: the potentials at ``t_min`` are a sum over
the incoming projections of one sparse product each (the projection's matrix composed with its
linear stages, applied to the decoded values of its first-spike max-pooled source), the spike
times follow in closed form (continuous time, or on the grid of ``dt``). Chains and graphs
(windows by depth; a shortcut's spikes are re-timed to the window before its consumer's, which
leaves the values they code unchanged, so they are decoded against their own window's end).
Registered as ``reference`` in the entry-point group ``lif_bridge.ttfs_backends``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import ValidationError
from lif_bridge.network import Network
from lif_bridge.network.network import check_inputs
from lif_bridge.ttfs.coding import TtfsLayer, graph_plan, ttfs_coding
from lif_bridge.ttfs.run import TtfsResult
from lif_bridge.ttfs.semantics import decode, encode_input, fire, first_spike_pool

__all__ = ["TtfsReferenceBackend", "TtfsReferenceProgram"]


class TtfsReferenceBackend:
    """Exact TTFS simulator (NumPy, float64).

    Parameters
    ----------
    batch_size
        Samples computed together (default 512).
    """

    name = "reference"

    def __init__(self, batch_size: int = 512) -> None:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.batch_size = batch_size

    def lower(self, network: Network, dt: float | None = None) -> TtfsReferenceProgram:
        """Prepare the layer matrices; ``dt`` [s] puts spikes on a grid (``None``: exact)."""
        return TtfsReferenceProgram(network, dt, self.batch_size)


class TtfsReferenceProgram:
    """A TTFS network ready to run on the reference backend."""

    def __init__(self, network: Network, dt: float | None, batch_size: int) -> None:
        if dt is not None and (not np.isfinite(dt) or dt <= 0):
            raise ValidationError(f"dt must be a time step > 0 s or None, got {dt!r}")
        self.network = network
        self.dt = dt
        self.batch_size = batch_size
        self.tau_c = ttfs_coding(network).tau_c
        self.input_end, self.plan = graph_plan(network, dt)
        self.matrices: list[tuple[sp.csr_matrix, ...]] = []
        for layer in self.plan:
            mats = []
            for edge in layer.population.projections:
                m = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
                # Projection forbids a max pool after a linear stage: no None in practice
                if m is None:  # pragma: no cover
                    raise ValidationError(
                        f"layer {layer.population.name!r}: max pooling after a linear stage"
                    )
                mats.append(sp.csr_matrix(m))
            self.matrices.append(tuple(mats))

    def _potential(
        self, layer: TtfsLayer, matrices: tuple[sp.csr_matrix, ...], times: list[np.ndarray]
    ) -> np.ndarray:
        """``V(t_min) = sum_p W_p P_p x_p`` over the projections (``times[-1]``: the input)."""
        v_min = np.zeros((len(times[-1]), layer.population.size))
        for edge, matrix, end in zip(
            layer.population.projections, matrices, layer.source_ends, strict=True
        ):
            gated = first_spike_pool(times[edge.source], edge.gates, edge.source_shape)
            v_min = v_min + np.asarray(matrix @ decode(gated, end, self.tau_c).T).T
        return v_min

    def _batch(self, x: np.ndarray) -> TtfsResult:
        t_in, _ = encode_input(x.reshape(len(x), -1), self.input_end, self.tau_c, self.dt)
        spike_times = {"input": t_in}
        times: list[np.ndarray] = [np.zeros((len(x), 0))] * len(self.plan) + [t_in]
        out = np.zeros((len(x), 0))
        for k, (layer, matrices) in enumerate(zip(self.plan, self.matrices, strict=True)):
            v_min = self._potential(layer, matrices, times)
            if layer.is_output:
                out = v_min + layer.bias
                if layer.population.ann_activation == "relu":
                    out = np.maximum(out, 0.0)
            else:
                t = fire(v_min, layer.theta, layer.t_min, layer.t_max, self.tau_c, self.dt)
                spike_times[layer.population.name] = times[k] = t
        return TtfsResult(
            spike_times=spike_times,
            output=out,
            output_name=self.plan[-1].population.name,
            readout_time=self.plan[-1].t_min,
            dt=self.dt,
            backend="reference",
        )

    def run(self, x: np.ndarray, *, progress: bool = False) -> TtfsResult:
        """Spike times and readout of samples ``x`` in [0, 1]."""
        x = check_inputs(self.network, x)
        start = time.perf_counter()
        parts = [self._batch(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        res = TtfsResult.concatenate(parts)
        return TtfsResult(
            spike_times=res.spike_times,
            output=res.output,
            output_name=res.output_name,
            readout_time=res.readout_time,
            dt=res.dt,
            backend="reference",
            seconds=time.perf_counter() - start,
        )

    def close(self) -> None:
        """Nothing to release."""
