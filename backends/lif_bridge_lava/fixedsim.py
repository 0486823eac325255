r"""A batched NumPy simulation of the ``fixed_pt`` rules, for calibration without Lava.

It runs the integer step rule of :mod:`lif_bridge_lava.quantize` in the contract's order
(A, B for every population, then C, D) and records what the fit report needs: the range of the
24-bit voltage, how often it saturated, the largest synaptic input per step, and spike counts.
Spiking max pools follow the contract's one-winner gate (:mod:`lif_bridge_lava.gate`); the run
is one sample window, so counts and winners start fresh and are never reset in between.
The Lava ``fixed_pt`` model follows the same rules (in the deferred order of
:mod:`lif_bridge_lava.procs.models_base`), so its spike counts equal this simulation's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.network import Network, Simulation, check_inputs
from lif_bridge.semantics import never_spiked, refractory_steps
from lif_bridge_lava.gate import gate_state, gate_step
from lif_bridge_lava.lowering import LoweredEdge, split_columns
from lif_bridge_lava.quantize import (
    ACT_SHIFT,
    V_MAX,
    FixedPointLayer,
    fixed_input,
    fixed_leak,
)
from lif_bridge_lava.synapses import DelayLine

__all__ = ["FixedRunStats", "simulate_fixed"]


@dataclass
class FixedRunStats:
    """What one population did in a fixed-point calibration run.

    Attributes
    ----------
    v_min, v_max
        Extremes of the integer voltage after phases A and C (LSB).
    saturated_high, saturated_low
        Number of (sample, step, neuron) updates clipped at the top / bottom of 24 bit.
    input_max
        Largest ``|a << 6|`` of one step's synaptic input to one neuron (LSB).
    counts
        ``(samples, neurons)`` spike counts.
    """

    v_min: int
    v_max: int
    saturated_high: int
    saturated_low: int
    input_max: int
    counts: np.ndarray


class _Inflow:
    """One projection of a batch: gates per sample, stored weights, delay line."""

    def __init__(self, edge: LoweredEdge, stored: sp.csr_matrix, batch: int) -> None:
        self.source = edge.source
        self.windows = edge.windows
        sizes = [edge.n_source] + [w.shape[0] for w in edge.windows]
        self.gates = [
            gate_state((batch,), n, w.shape[0]) for n, w in zip(sizes, edge.windows, strict=False)
        ]
        self.weights_t = sp.csr_matrix(stored.T, dtype=np.int64)
        self.line = DelayLine(edge.delay)

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Integer jumps ``(batch, n_target)`` of this step's source output ``z``, delayed."""
        for win, (cnt, won) in zip(self.windows, self.gates, strict=True):
            z = gate_step(win, cnt, won, z).astype(np.int64)
        a = np.asarray((sp.csr_matrix(z) @ self.weights_t).toarray(), dtype=np.int64)
        return self.line(a)


def simulate_fixed(
    network: Network,
    x: np.ndarray,
    simulation: Simulation,
    layers: list[FixedPointLayer],
    edges: list[list[LoweredEdge]],
) -> list[FixedRunStats]:
    """Run samples ``x`` through the fixed-point rules; one :class:`FixedRunStats` per population.

    Parameters
    ----------
    network, simulation
        What to run (a spiking encoder is required).
    layers
        Quantised constants per population, over all its projections
        (:func:`lif_bridge_lava.lowering.quantize_edges`).
    edges
        The lowered projections of every population
        (:func:`lif_bridge_lava.lowering.lowered_edges`).
    """
    x = check_inputs(network, x)
    e = simulation.encode(network, x).astype(np.int64)
    b = len(x)
    pops = network.populations
    inflows = [
        [
            _Inflow(edge, w, b)
            for edge, w in zip(es, split_columns(sp.csr_matrix(q.stored_weights), es), strict=True)
        ]
        for q, es in zip(layers, edges, strict=True)
    ]
    v = [
        np.broadcast_to(q.v_rest, (b, p.size)).astype(np.int64)
        for q, p in zip(layers, pops, strict=True)
    ]
    vth = [q.vth for q in layers]
    bias = [q.bias for q in layers]
    R = [refractory_steps(p.neurons.refractory, simulation.dt) for p in pops]
    last = [never_spiked((b, p.size)) for p in pops]
    stats = [FixedRunStats(V_MAX, -V_MAX, 0, 0, 0, np.zeros((b, p.size), np.int64)) for p in pops]

    def note(i: int, vi: np.ndarray, high: int, low: int) -> None:
        st = stats[i]
        st.saturated_high += high
        st.saturated_low += low
        if vi.size:
            st.v_min = min(st.v_min, int(vi.min()))
            st.v_max = max(st.v_max, int(vi.max()))

    for n in range(simulation.steps):
        spikes = []
        for i in range(len(pops)):
            new, high, low = fixed_leak(v[i], layers[i].dv, bias[i])
            if R[i]:
                frozen = (n - last[i]) < R[i]
                new = np.where(frozen, v[i], new)
                s = (new >= vth[i]) & ~frozen
                last[i][s] = n
            else:
                s = new >= vth[i]
            note(i, new, high, low)
            v[i] = new
            spikes.append(s)
        for i, p in enumerate(pops):
            a = sum(
                (
                    f(e[:, n, :] if f.source < 0 else spikes[f.source].astype(np.int64))
                    for f in inflows[i]
                ),
                np.zeros((b, p.size), dtype=np.int64),
            )
            if R[i]:
                a = np.where((n - last[i]) < R[i], 0, a)
            if a.size:
                stats[i].input_max = max(stats[i].input_max, int(np.abs(a).max()) << ACT_SHIFT)
            new, high, low = fixed_input(v[i], a)
            note(i, new, high, low)
            s = spikes[i]
            if p.neurons.reset == "subtract":
                new = new - vth[i] * s
            else:
                new = np.where(s, layers[i].v_reset, new)
            v[i] = new
            stats[i].counts += s
    return stats
