"""A population over all steps of a batch, lowered to the compiled kernels of :mod:`.kernels`.

:class:`PopulationRun` prepares, once per network, what one population needs (its spiking
max-pool windows, its synapses in the cheapest event-driven form, its per-neuron constants);
:meth:`PopulationRun.run` then maps the source's train ``(batch, T, n_source)`` to this
population's train and counts. :func:`run_layerwise` chains them: exact for feed-forward
networks because a population sees its source's spikes of the same step and nothing else of
that step (one step of latency per weighted layer, :mod:`lif_bridge.semantics`).

Synapse forms, chosen per population:

* ``conv``: a convolution whose neurons share ``C_m`` within each channel; the average pooling
  before it (if any) is applied first to the spikes, then the kernel taps are scattered
  channels-last (one contiguous run of output channels per tap);
* ``dense``: a dense ``W.T / C_m`` (the linear stages folded in) when it is at least 10 % full;
* ``csr``: any other composed matrix, input by input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import conv_synapses, layer_matrix, pool_windows, population_matrix
from lif_bridge.network import Conv2d, Network, Population, Simulation
from lif_bridge.semantics import leak_constants, refractory_steps
from lif_bridge_reference import kernels

__all__ = ["PopulationRun", "layerwise_batch", "run_layerwise", "simulate_layerwise"]

#: A dense synapse matrix is used when at least this fraction of it is non-zero.
DENSE_ABOVE = 0.10
#: ... and when it has at most this many entries.
DENSE_MAX = 8_000_000


@dataclass(frozen=True)
class _Neurons:
    """Per-neuron constants of the kernels (float64 / bool arrays of the population's size)."""

    d: np.ndarray
    v_inf: np.ndarray
    if_step: np.ndarray
    leaky: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    v0: np.ndarray
    subtract: bool
    refractory: int

    def args(self) -> tuple[object, ...]:
        return (self.d, self.v_inf, self.if_step, self.leaky, self.v_th, self.v_reset, self.v0,
                self.subtract, self.refractory)  # fmt: skip


class PopulationRun:
    """One population lowered for the kernels: gates, synapses, neuron constants."""

    def __init__(self, pop: Population, dt: float) -> None:
        self.pop = pop
        p = pop.layer.neurons.broadcast(pop.size)
        d, v_inf = leak_constants(p["c_m"], p["g_l"], p["i_bias"], p["v_rest"], dt)
        self.neurons = _Neurons(
            d=d,
            v_inf=np.nan_to_num(v_inf, nan=0.0),
            if_step=np.asarray(p["i_bias"] * dt / p["c_m"], dtype=np.float64),
            leaky=np.asarray(p["g_l"] > 0),
            v_th=np.asarray(p["v_th"], dtype=np.float64),
            v_reset=np.asarray(p["v_reset"], dtype=np.float64),
            v0=np.array(p["v_rest"], dtype=np.float64),
            subtract=pop.layer.neurons.reset == "subtract",
            refractory=refractory_steps(pop.layer.neurons.refractory, dt),
        )
        self.gates: list[np.ndarray] = []
        shape = pop.source_shape
        for gate in pop.gates:
            self.gates.append(pool_windows(gate, shape))
            shape = gate.output_shape(shape)
        self.kind, self.synapses = _lower_synapses(pop, np.asarray(p["c_m"], float), shape)

    def run(self, z: np.ndarray, trace: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Spikes ``(batch, T, n)`` uint8 and counts ``(batch, n)`` for source values ``z``.

        ``z`` is ``(batch, T, n_source)``: the source population's spikes (uint8) or the
        encoder's values; ``trace``, if given, ``(batch, T, n)`` float64, receives ``v`` after
        every step.
        """
        for windows in self.gates:
            gated = np.zeros((*z.shape[:2], windows.shape[0]), dtype=np.uint8)
            kernels.maxpool_gate(z, windows, gated)
            z = gated
        b, steps = z.shape[:2]
        out = np.zeros((b, steps, self.pop.size), dtype=np.uint8)
        counts = np.zeros((b, self.pop.size), dtype=np.int64)
        rec = trace if trace is not None else np.empty((0, 0, 0))
        kernel = getattr(kernels, f"{self.kind}_population")
        kernel(z, *self.synapses, *self.neurons.args(), out, counts, rec)
        return out, counts


def _lower_synapses(
    pop: Population, c_m: np.ndarray, in_shape: tuple[int, ...]
) -> tuple[str, tuple[object, ...]]:
    """The cheapest kernel form of the synapses (see the module docstring) and its arrays."""
    layer = pop.layer
    if isinstance(layer, Conv2d):
        per_channel = c_m.reshape(pop.shape)
        if np.all(per_channel == per_channel[:, :1, :1]):
            return "conv", _conv_arrays(pop, layer, per_channel[:, 0, 0], in_shape)
    matrix = population_matrix(layer, pop.linear_stages, in_shape)  # type: ignore[arg-type]
    if matrix is None:  # pragma: no cover - the network forbids a max pool after a linear stage
        raise TypeError("max pooling after a linear stage")
    scaled_t = sp.csr_matrix((sp.diags(1.0 / c_m) @ matrix).T)
    size = scaled_t.shape[0] * scaled_t.shape[1]
    if size <= DENSE_MAX and scaled_t.nnz >= DENSE_ABOVE * size:
        return "dense", (np.ascontiguousarray(scaled_t.toarray()),)
    scaled_t.sort_indices()
    return "csr", (scaled_t.indptr.astype(np.int64), scaled_t.indices.astype(np.int64),
                   scaled_t.data.astype(np.float64))  # fmt: skip


def _conv_arrays(
    pop: Population, layer: Conv2d, c_m: np.ndarray, in_shape: tuple[int, ...]
) -> tuple[object, ...]:
    """Arrays of :func:`kernels.conv_population`: pooling CSR, tap table, blocked weights."""
    shape, pool = in_shape, None
    for stage in pop.linear_stages:
        m = layer_matrix(stage, shape)
        pool = m if pool is None else (m @ pool).tocsr()
        shape = stage.output_shape(shape)
    if pool is None:
        ptr, idx, val = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    else:
        pt = sp.csr_matrix(pool.T)
        pt.sort_indices()
        ptr, idx, val = pt.indptr.astype(np.int64), pt.indices.astype(np.int64), pt.data
    c_in, h, w = shape
    w_all = np.asarray(layer.weight, dtype=np.float64) / c_m[:, None, None, None]
    c_out, cg, kh, kw = w_all.shape
    og = c_out // layer.groups
    # tap table from the synapses of a one-channel copy of the layer: pre pixel, post pixel, tap
    taps = np.arange(kh * kw, dtype=float).reshape(1, 1, kh, kw)
    one = Conv2d(weight=taps, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
    probe = conv_synapses(one, (1, h, w))
    order = np.argsort(probe.pre, kind="stable")
    pix_ptr = np.searchsorted(probe.pre[order], np.arange(h * w + 1)).astype(np.int64)
    pix_tap = probe.weight[order].astype(np.int64)
    pix_out = probe.post[order].astype(np.int64)
    # wb[c, tap, o]: weight of input channel c at tap to output channel g·og + o of its group
    g_of = np.arange(c_in) // cg
    wb = np.empty((c_in, kh * kw, og))
    for c in range(c_in):
        block = w_all[g_of[c] * og : (g_of[c] + 1) * og, c % cg]  # (og, kh, kw)
        wb[c] = block.reshape(og, kh * kw).T
    n_mid = c_in * h * w
    return (ptr, idx, val, n_mid, pix_ptr, pix_tap, pix_out, np.ascontiguousarray(wb), cg)


def run_layerwise(
    network: Network, runs: list[PopulationRun], e: np.ndarray, traces: dict[str, np.ndarray]
) -> list[np.ndarray]:
    """Counts ``(batch, n)`` of every population for encoded inputs ``e`` ``(batch, T, n_in)``.

    ``traces`` maps population names to ``(batch, T, n)`` arrays that receive ``v``.
    """
    trains: list[np.ndarray] = []
    counts: list[np.ndarray] = []
    for pop, run in zip(network.populations, runs, strict=True):
        source = e if pop.source < 0 else trains[pop.source]
        out, c = run.run(source, traces.get(pop.name))
        trains.append(out)
        counts.append(c)
    return counts


def layerwise_batch(network: Network, steps: int, memory_bytes: int) -> int:
    """Samples per batch so that the batch's spike trains (1 byte per unit and step) fit.

    A batch holds the encoded input, every population's train and every gated train, each
    ``(batch, steps, units)`` uint8, plus one float64 potential per neuron and thread.
    """
    units = network.n_inputs
    for pop in network.populations:
        units += pop.size
        shape = pop.source_shape
        for gate in pop.gates:
            shape = gate.output_shape(shape)
            units += int(np.prod(shape))
    return max(1, int(memory_bytes // (steps * units + 8 * 4 * units)))


def simulate_layerwise(
    network: Network, simulation: Simulation, x: np.ndarray, *, memory_bytes: int = 2**28
) -> dict[str, np.ndarray]:
    """Counts of every population for samples ``x``, batch by batch within ``memory_bytes``.

    Samples are numbered from 0 for the encoder (as ``ReferenceProgram.run``).
    """
    runs = [PopulationRun(p, simulation.dt) for p in network.populations]
    batch = layerwise_batch(network, simulation.steps, memory_bytes)
    parts: list[list[np.ndarray]] = []
    for lo in range(0, len(x), batch):
        e = simulation.encode(network, x[lo : lo + batch], lo)
        parts.append(run_layerwise(network, runs, e, {}))
    return {
        p.name: np.concatenate([part[i] for part in parts])
        for i, p in enumerate(network.populations)
    }
