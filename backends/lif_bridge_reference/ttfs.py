"""TTFS on the reference backend: the closed-form solution of :mod:`lif_bridge.ttfs.semantics`.

Layer by layer and batched in float64: the potentials at ``t_min`` are one sparse product of
the decoded input values, the spike times follow in closed form (continuous time, or on the
grid of ``dt``). Registered as ``reference`` in the entry-point group
``lif_bridge.ttfs_backends``.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import ValidationError
from lif_bridge.network import Network
from lif_bridge.network.network import check_inputs
from lif_bridge.ttfs.coding import TtfsLayer, layer_plan, ttfs_coding
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
        self.input_end, self.plan = layer_plan(network, dt)
        self.matrices: list[sp.csr_matrix] = []
        for layer in self.plan:
            pop = layer.population
            m = population_matrix(pop.layer, pop.linear_stages, pop.gated_shape)  # type: ignore[arg-type]
            if m is None:  # pragma: no cover - the network forbids a max pool after a linear stage
                raise ValidationError(f"layer {pop.name!r}: max pooling after a linear stage")
            self.matrices.append(sp.csr_matrix(m))

    def _layer(
        self, layer: TtfsLayer, matrix: sp.csr_matrix, source: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        pop = layer.population
        gated = first_spike_pool(source, pop.gates, pop.source_shape)
        x = decode(gated, layer.t_min, self.tau_c)
        v_min = np.asarray(matrix @ x.T).T
        if layer.is_output:
            y = v_min + layer.bias
            if pop.layer.ann_activation == "relu":
                y = np.maximum(y, 0.0)
            return v_min, y
        return v_min, fire(v_min, layer.theta, layer.t_min, layer.t_max, self.tau_c, self.dt)

    def _batch(self, x: np.ndarray) -> TtfsResult:
        t_in, _ = encode_input(x.reshape(len(x), -1), self.input_end, self.tau_c, self.dt)
        times = {"input": t_in}
        source = t_in
        out = np.zeros((len(x), 0))
        for layer, matrix in zip(self.plan, self.matrices, strict=True):
            _, res = self._layer(layer, matrix, source)
            if layer.is_output:
                out = res
            else:
                times[layer.population.name] = res
                source = res
        return TtfsResult(
            spike_times=times,
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
