r"""Lowering of a network description to a graph of Lava processes (imports Lava).

Graph
-----
One process per population (weighted layer)::

    previous population (or the input files) ──► LinearLIF [gates → synapses → neurons → counts]

* a population's main projection (its only one in a chain) lives inside its
  :class:`LinearLIF`: the spiking max pools right after the source
  (:mod:`lif_bridge_lava.gate`), then the composed matrix of the linear stages and the layer
  (:func:`lif_bridge.connectivity.population_matrix`), each row divided by the neuron's ``C_m``
  (so the synapses deliver voltage jumps ``W/C_m`` [V]) — a dense array for a
  :class:`lif_bridge.network.Dense` of at most :data:`DENSE_MAX_ENTRIES`, a CSR matrix
  otherwise (:class:`lif_bridge_lava.synapses.Synapses`);
* a population fed by the input reads the encoder's trains from the program's files itself,
  and every population counts its own spikes and writes them (:mod:`lif_bridge_lava.files`):
  no source, connection or counter processes. Each Lava process is a forked OS process
  synchronised every step, so this is what sets the cost of a step (see
  ``benchmarks/bench_lava_steps.py``).

Why convolutions are not lowered to ``lava.proc.conv.process.Conv``: Conv computes a true
convolution (kernels flipped with respect to PyTorch's cross-correlation) over W-H-C ordered
maps (the description is C-H-W), so both weights and every connecting port would need
re-indexing; its fixed-point model ignores ``weight_exp``/``num_weight_bits`` (so the 8-bit
mantissa and shared exponent of :mod:`lif_bridge_lava.quantize` could not be applied); and an
average pool or flatten after it would still need a matrix. The composed sparse matrix from
``population_matrix`` is the same map, spike for spike, in the description's own layout, and
stores exactly the synapses a conv has (zero-padding taps excluded) plus the pooling folded in.

Latency
-------
A population receives its sources' spikes of step ``n`` in Lava step ``n`` and applies them in
the next one (deferred phases C and D, :mod:`lif_bridge_lava.procs.models_base`): one step per
weighted layer, as in the contract, and spikes of every layer occur at the contract's step
indices.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix, synapse_count
from lif_bridge.errors import UnsupportedLayerError, ValidationError
from lif_bridge.network import Conv2d, Dense, MaxPool2d, Network, Simulation
from lif_bridge.semantics import leak_constants, refractory_steps
from lif_bridge_lava.quantize import FixedPointLayer, quantize_population
from lif_bridge_lava.synapses import Gates, Synapses

__all__ = [
    "DENSE_MAX_ENTRIES",
    "LavaGraph",
    "LoweredEdge",
    "build_graph",
    "lowered_edges",
    "population_jumps",
    "quantize_edges",
    "split_columns",
]

#: Largest dense weight matrix kept as ``Dense``; bigger ones use ``Sparse``.
DENSE_MAX_ENTRIES = 16_000_000


@dataclass
class LavaGraph:
    """The processes of a lowered network (``neurons`` by population name, in order)."""

    neurons: dict[str, Any]
    labels: dict[str, str]
    fixed: dict[str, FixedPointLayer] = field(default_factory=dict)
    others: list[Any] = field(default_factory=list)

    @property
    def processes(self) -> list[Any]:
        """Every Lava process of the graph."""
        return [*self.neurons.values(), *self.others]


@dataclass(frozen=True)
class LoweredEdge:
    """One projection into a population, lowered.

    Attributes
    ----------
    source
        Index of the source population (``-1``: the input encoder).
    n_source
        Size of the source's output.
    windows
        Max-pool windows of its gates, one array per stage.
    matrix
        ``W`` [C], the composed linear stages and weighted map, ``(n_target, n_gated)``.
    jumps
        ``diag(1/C_m)·W`` [V].
    delay
        Extra steps.
    dense
        Whether the map is a Dense layer (a dense array in Lava, up to
        :data:`DENSE_MAX_ENTRIES`).
    source_name
        Name of the source population (``"input"`` for the encoder).
    synapses
        The map's own synapses on its input (zero-padding taps excluded; what ``convert``
        counts); ``matrix.nnz`` is larger when an average pool is folded in.
    """

    source: int
    n_source: int
    windows: list[np.ndarray]
    matrix: sp.csr_matrix
    jumps: sp.csr_matrix
    delay: int
    dense: bool
    source_name: str = "input"
    synapses: int = 0


def _chain_edges(pop: Any) -> list[tuple[int, tuple[Any, ...], Any, tuple[int, ...], int]]:
    return [(pop.source, pop.stages, pop.layer, pop.source_shape, 0)]


def _map_input_shape(stages: tuple[Any, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    for stage in stages:
        shape = stage.output_shape(shape)
    return shape


def lowered_edges(network: Network) -> list[list[LoweredEdge]]:
    """Per population, its incoming projections lowered (see :class:`LoweredEdge`)."""
    out = []
    for pop in network.populations:
        c_m = pop.layer.neurons.broadcast(pop.size)["c_m"]
        edges = []
        for source, stages, layer, source_shape, delay in _chain_edges(pop):
            shape = source_shape
            windows = []
            for stage in stages:
                if isinstance(stage, MaxPool2d):
                    windows.append(pool_windows(stage, shape))
                    shape = stage.output_shape(shape)
            linear = tuple(s for s in stages if not isinstance(s, MaxPool2d))
            matrix = population_matrix(layer, linear, shape)
            if matrix is None:  # pragma: no cover - the Network forbids it
                raise ValidationError(f"{pop.name}: a max pool after a linear stage")
            edges.append(
                LoweredEdge(
                    source=source,
                    n_source=int(np.prod(source_shape)),
                    windows=windows,
                    matrix=matrix,
                    jumps=sp.csr_matrix(sp.diags(1.0 / c_m) @ matrix),
                    delay=delay,
                    dense=isinstance(layer, Dense),
                    source_name=network.populations[source].name if source >= 0 else "input",
                    synapses=synapse_count(layer, _map_input_shape(linear, shape)),
                )
            )
        out.append(edges)
    return out


def population_jumps(
    network: Network,
) -> list[tuple[list[np.ndarray], sp.csr_matrix, sp.csr_matrix]]:
    """Per population of a chain: max-pool windows, ``W`` [C] and ``diag(1/C_m)·W`` [V]."""
    return [(e[0].windows, e[0].matrix, e[0].jumps) for e in lowered_edges(network)]


def quantize_edges(
    edges: list[LoweredEdge], params: dict[str, np.ndarray], dt: float
) -> FixedPointLayer:
    """Fixed-point constants of a population over all its projections (one weight exponent).

    The projections' matrices are quantised side by side (``[W_1 | W_2 | ...]``), so every
    projection shares the population's voltage unit; :func:`split_columns` cuts the stored
    weights back into one block per projection.
    """
    matrix = edges[0].matrix if len(edges) == 1 else sp.hstack([e.matrix for e in edges])
    return quantize_population(sp.csr_matrix(matrix), params, dt)


def split_columns(matrix: sp.csr_matrix, edges: list[LoweredEdge]) -> list[sp.csr_matrix]:
    """The column blocks of ``matrix`` that belong to each projection, in order."""
    bounds = np.cumsum([0] + [e.matrix.shape[1] for e in edges])
    csc = matrix.tocsc()
    return [sp.csr_matrix(csc[:, a:b]) for a, b in itertools.pairwise(bounds)]


def _float_neurons(params: dict[str, np.ndarray], dt: float) -> dict[str, Any]:
    d, v_inf = leak_constants(params["c_m"], params["g_l"], params["i_bias"], params["v_rest"], dt)
    constants = {
        "decay": d,
        "v_inf": v_inf,
        "if_step": params["i_bias"] * dt / params["c_m"],
        "leaky": params["g_l"] > 0,
    }
    return {
        "v_th": params["v_th"],
        "v_reset": params["v_reset"],
        "v_rest": params["v_rest"],
        "constants": constants,
        "q_v": 1.0,
    }


def _fixed_neurons(q: FixedPointLayer) -> dict[str, Any]:
    return {
        "v_th": q.vth,
        "v_reset": q.v_reset,
        "v_rest": q.v_rest,
        "constants": {"dv": q.dv, "bias": q.bias},
        "q_v": q.q_v,
    }


def _weights(edge: LoweredEdge, weights: sp.csr_matrix) -> np.ndarray | sp.csr_matrix:
    entries = weights.shape[0] * weights.shape[1]
    if edge.dense and entries <= DENSE_MAX_ENTRIES:
        return weights.toarray()
    return sp.csr_matrix(weights)


class _Builder:
    """Creates and connects the processes of one network (see :func:`build_graph`)."""

    def __init__(self, network: Network, simulation: Simulation, precision: str,
                 directory: str, gap: int) -> None:  # fmt: skip
        self.network, self.simulation, self.precision = network, simulation, precision
        self.directory, self.gap = directory, gap
        self.analog = not simulation.encoder.is_spiking
        self.graph = LavaGraph(neurons={}, labels={})
        self.source: Any = None

    def output_of(self, index: int) -> Any:
        """The OutPort of population ``index``, or of the shared input source (``-1``)."""
        if index >= 0:
            return self.graph.neurons[self.network.populations[index].name].s_out
        if self.source is None:
            from lif_bridge_lava.procs.process import SpikeSource

            self.source = SpikeSource(
                shape=(self.network.n_inputs,),
                directory=self.directory,
                steps=self.simulation.steps,
                gap=self.gap,
            )
            self.graph.others.append(self.source)
        return self.source.s_out

    def population(self, pop: Any, edges: list[LoweredEdge]) -> None:
        """The :class:`LinearLIF` of ``pop``: its first edge inside, the others through Lava."""
        from lif_bridge_lava.procs.process import LinearLIF

        sim, dt = self.simulation, self.simulation.dt
        for edge in edges:
            if edge.source < 0 and self.analog and edge.windows:
                raise ValidationError(
                    f"MaxPool2d before {pop.name!r}: spiking max pooling needs spikes, but the "
                    "ConstantCurrent encoder gives analog input; use a spiking encoder"
                )
        params = pop.layer.neurons.broadcast(pop.size)
        if self.precision == "fixed":
            q = quantize_edges(edges, params, dt)
            self.graph.fixed[pop.name] = q
            stored = split_columns(sp.csr_matrix(q.stored_weights, dtype=np.int64), edges)
            neurons = _fixed_neurons(q)
        else:
            stored = [e.jumps for e in edges]
            neurons = _float_neurons(params, dt)
        main = edges[0]
        label = str(len(self.graph.neurons))
        lif = LinearLIF(
            shape=(pop.size,),
            main=Synapses(
                matrix=_weights(main, stored[0]),
                gates=Gates(main.windows, main.n_source),
                analog=main.source < 0 and self.analog,
                delay=main.delay,
            ),
            from_input=main.source < 0,
            n_source=main.n_source,
            reset=pop.layer.neurons.reset,
            refractory=refractory_steps(pop.layer.neurons.refractory, dt),
            steps=sim.steps,
            gap=self.gap,
            directory=self.directory,
            label=label,
            counted=pop.name in set(sim.readout.count_layers(self.network)),
            traced=pop.name in set(sim.readout.traces),
            **neurons,
        )
        if main.source >= 0:
            self.output_of(main.source).connect(lif.s_in)
        for edge, weights in zip(edges[1:], stored[1:], strict=True):
            self.connection(edge, weights, lif)
        self.graph.neurons[pop.name] = lif
        self.graph.labels[pop.name] = label

    def connection(self, edge: LoweredEdge, weights: sp.csr_matrix, lif: Any) -> None:
        """``source -> [SpikeRelay] -> Dense | Sparse -> lif.a_in`` for a further projection."""
        from lava.proc.dense.process import Dense as LavaDense
        from lava.proc.sparse.process import Sparse as LavaSparse

        from lif_bridge_lava.procs.process import SpikeRelay

        port = self.output_of(edge.source)
        if edge.windows or edge.delay:
            n_out = edge.windows[-1].shape[0] if edge.windows else edge.n_source
            relay = SpikeRelay(
                n_in=edge.n_source,
                windows=edge.windows,
                n_out=n_out,
                delay=edge.delay,
                steps=self.simulation.steps,
                gap=self.gap,
            )
            port.connect(relay.s_in)
            port = relay.s_out
            self.graph.others.append(relay)
        bits = 24 if (edge.source < 0 and self.analog) else 0
        extra = {"weight_exp": 0, "num_weight_bits": 8} if self.precision == "fixed" else {}
        w = _weights(edge, weights)
        if isinstance(w, np.ndarray):
            conn = LavaDense(weights=w, num_message_bits=bits, **extra)
        else:
            conn = LavaSparse(weights=w, num_message_bits=bits, **extra)
        port.connect(conn.s_in)
        conn.a_out.connect(lif.a_in)
        self.graph.others.append(conn)


def build_graph(
    network: Network,
    simulation: Simulation,
    *,
    precision: str,
    directory: str,
    gap: int,
) -> LavaGraph:
    """Create and connect the Lava processes of ``network`` (nothing is compiled yet)."""
    builder = _Builder(network, simulation, precision, directory, gap)
    for pop, edges in zip(network.populations, lowered_edges(network), strict=True):
        if not isinstance(pop.layer, (Dense, Conv2d)):  # pragma: no cover - Network checks it
            raise UnsupportedLayerError(
                pop.name, type(pop.layer).__name__, "lava backend", ["Dense", "Conv2d"]
            )
        builder.population(pop, edges)
    return builder.graph
