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
from lif_bridge_lava.quantize import (
    ACT_SHIFT,
    V_MAX,
    FixedPointLayer,
    fixed_input,
    fixed_leak,
)

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


def simulate_fixed(
    network: Network,
    x: np.ndarray,
    simulation: Simulation,
    layers: list[FixedPointLayer],
    windows: list[list[np.ndarray]],
) -> list[FixedRunStats]:
    """Run samples ``x`` through the fixed-point rules; one :class:`FixedRunStats` per population.

    Parameters
    ----------
    network, simulation
        What to run (a spiking encoder is required).
    layers
        Quantised constants per population (:func:`quantize_population`).
    windows
        Max-pool windows per population (from :func:`lif_bridge_lava.lowering.population_jumps`
        or :func:`lif_bridge.connectivity.pool_windows`).
    """
    x = check_inputs(network, x)
    e = simulation.encode(network, x).astype(np.int64)
    b = len(x)
    pops = network.populations
    stored = [sp.csr_matrix(q.stored_weights.T, dtype=np.int64) for q in layers]
    v = [
        np.broadcast_to(q.v_rest, (b, p.size)).astype(np.int64)
        for q, p in zip(layers, pops, strict=True)
    ]
    vth = [q.vth for q in layers]
    bias = [q.bias for q in layers]
    R = [refractory_steps(p.layer.neurons.refractory, simulation.dt) for p in pops]
    last = [never_spiked((b, p.size)) for p in pops]
    # per population and max-pool stage: (counts, winner) of the gate, for the one sample window
    gates = [
        [
            gate_state(
                (b,), int(np.prod(p.source_shape)) if i == 0 else w[i - 1].shape[0], w[i].shape[0]
            )
            for i in range(len(w))
        ]
        for p, w in zip(pops, windows, strict=True)
    ]
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
            z = e[:, n, :] if p.source < 0 else spikes[p.source].astype(np.int64)
            for win, (cnt, won) in zip(windows[i], gates[i], strict=True):
                z = gate_step(win, cnt, won, z).astype(np.int64)
            a = np.asarray((sp.csr_matrix(z) @ stored[i]).toarray(), dtype=np.int64)
            if R[i]:
                a = np.where((n - last[i]) < R[i], 0, a)
            if a.size:
                stats[i].input_max = max(stats[i].input_max, int(np.abs(a).max()) << ACT_SHIFT)
            new, high, low = fixed_input(v[i], a)
            note(i, new, high, low)
            s = spikes[i]
            if p.layer.neurons.reset == "subtract":
                new = new - vth[i] * s
            else:
                new = np.where(s, layers[i].v_reset, new)
            v[i] = new
            stats[i].counts += s
    return stats
