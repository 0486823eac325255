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
mantissa and weight exponent of :mod:`lif_bridge_lava.quantize` could not be applied); and an
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

from lif_bridge.connectivity import synapse_count
from lif_bridge.errors import ValidationError
from lif_bridge.network import Conv2d, Dense, Network, Simulation
from lif_bridge.plan import lower
from lif_bridge.semantics import refractory_steps
from lif_bridge_lava.quantize import EXP_SPREAD, FixedPointLayer, quantize_blocks
from lif_bridge_lava.synapses import Gates, Synapses

__all__ = [
    "DENSE_MAX_ENTRIES",
    "LavaGraph",
    "LoweredEdge",
    "build_graph",
    "components",
    "lowered_edges",
    "population_jumps",
    "quantize_edges",
    "refuse_vanished",
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
    """One projection into a population, lowered (from :mod:`lif_bridge.plan`).

    Attributes
    ----------
    source
        Index of the source population (``-1``: the input encoder).
    n_source
        Size of the source's output.
    windows
        Max-pool windows of its gates, one array per stage.
    jumps
        ``diag(1/C_m)·W`` [V]: the linear stages and the map (``ProjectionPlan.matrix``).
    delay
        Extra steps.
    dense
        Whether the map is a Dense layer (a dense array in Lava, up to
        :data:`DENSE_MAX_ENTRIES`).
    source_name
        Name of the source population (``"input"`` for the encoder).
    synapses
        The map's own synapses on its input (zero-padding taps excluded; what ``convert``
        counts); ``jumps.nnz`` is larger when an average pool is folded in.
    """

    source: int
    n_source: int
    windows: list[np.ndarray]
    jumps: sp.csr_matrix
    delay: int
    dense: bool
    source_name: str = "input"
    synapses: int = 0


def _map_synapses(edge: Any) -> int:
    """Synapses of an edge's map on its input (an Identity has one per unit)."""
    m = edge.map
    if isinstance(m, (Dense, Conv2d)):
        return synapse_count(m, edge.input_shape)
    return int(np.count_nonzero(m.unit_scale(edge.input_shape)))


def lowered_edges(
    network: Network, simulation: Simulation | None = None
) -> list[list[LoweredEdge]]:
    """Per population, its incoming projections, from the core's plan (:func:`lower`)."""
    plan = lower(network, simulation or Simulation(steps=1))
    return [
        [
            LoweredEdge(
                source=pp.source,
                n_source=pp.n_source,
                windows=[g.windows for g in pp.gates],
                jumps=pp.matrix,
                delay=pp.delay,
                dense=isinstance(pp.edge.map, Dense),
                source_name=pp.source_name,
                synapses=_map_synapses(pp.edge),
            )
            for pp in pop.projections
        ]
        for pop in plan.populations
    ]


def population_jumps(
    network: Network,
) -> list[tuple[list[np.ndarray], sp.csr_matrix]]:
    """Per population of a chain: max-pool windows and ``diag(1/C_m)·W`` [V]."""
    return [(e[0].windows, e[0].jumps) for e in lowered_edges(network)]


def quantize_edges(
    edges: list[LoweredEdge], params: dict[str, np.ndarray], dt: float
) -> FixedPointLayer:
    """Fixed-point constants of a population over all its projections.

    Each projection has its own weight exponent and the population's voltage unit follows the
    finest (:func:`lif_bridge_lava.quantize.quantize_blocks`); :func:`split_columns` cuts
    ``stored_weights`` (the integer jumps, shifts applied) back into one block per projection.
    """
    return quantize_blocks([e.jumps for e in edges], params, dt)


def refuse_vanished(name: str, q: FixedPointLayer, edges: list[LoweredEdge]) -> None:
    """One error naming the population and projection whose every weight rounds to zero."""
    for k in q.vanished:
        src = edges[k].source_name
        raise ValidationError(
            f"lava backend, precision='fixed': every weight of the projection {src!r} -> "
            f"{name!r} rounds to zero at its weight unit 2**{q.block_exps[k]} V (the exponents "
            f"of one population's projections span at most {EXP_SPREAD} steps, and its "
            "threshold bounds the finest); scale it up, drop it, or use precision='float'"
        )


def split_columns(matrix: sp.csr_matrix, edges: list[LoweredEdge]) -> list[sp.csr_matrix]:
    """The column blocks of ``matrix`` that belong to each projection, in order."""
    bounds = np.cumsum([0] + [e.jumps.shape[1] for e in edges])
    csc = matrix.tocsc()
    return [sp.csr_matrix(csc[:, a:b]) for a, b in itertools.pairwise(bounds)]


def _float_neurons(pop_plan: Any) -> dict[str, Any]:
    """Float model: volts, and the core's population plan (for ``leak_update``)."""
    return {
        "v_th": pop_plan.v_th,
        "v_reset": pop_plan.v_reset,
        "v_rest": pop_plan.v_rest,
        "constants": {},
        "population_plan": pop_plan,
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

    def population(self, pop: Any, edges: list[LoweredEdge], pop_plan: Any) -> None:
        """The :class:`LinearLIF` of ``pop``: its first edge inside, the others through Lava."""
        from lif_bridge_lava.procs.process import LinearLIF

        sim, dt = self.simulation, self.simulation.dt
        for edge in edges:
            if edge.source < 0 and self.analog and edge.windows:
                raise ValidationError(
                    f"MaxPool2d before {pop.name!r}: spiking max pooling needs spikes, but the "
                    "ConstantCurrent encoder gives analog input; use a spiking encoder"
                )
        params = pop.neurons.broadcast(pop.size)
        if self.precision == "fixed":
            q = quantize_edges(edges, params, dt)
            refuse_vanished(pop.name, q, edges)
            self.graph.fixed[pop.name] = q
            # the main projection (inside the LinearLIF) takes the integer jumps, shift applied;
            # the others take 2·m_k and shift in Lava's Dense/Sparse (weight_exp)
            stored = split_columns(sp.csr_matrix(q.stored_weights, dtype=np.int64), edges)
            stored[1:] = q.stored_blocks()[1:]
            shifts = q.shifts
            neurons = _fixed_neurons(q)
        else:
            stored = [e.jumps for e in edges]
            shifts = (0,) * len(edges)
            neurons = _float_neurons(pop_plan)
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
            reset=pop.neurons.reset,
            refractory=refractory_steps(pop.neurons.refractory, dt),
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
        for edge, weights, shift in zip(edges[1:], stored[1:], shifts[1:], strict=True):
            self.connection(edge, weights, lif, shift)
        self.graph.neurons[pop.name] = lif
        self.graph.labels[pop.name] = label

    def tie(self, groups: list[list[int]]) -> None:
        """Join the components of :func:`components` to the first one, carrying nothing.

        The smallest population of every further component sends its spikes through an empty
        Lava ``Sparse`` (no synapse: zero input) into the smallest of the first component, so
        one ``run`` compiles and steps every process.
        """
        from lava.proc.sparse.process import Sparse as LavaSparse

        pops = self.network.populations
        lifs = list(self.graph.neurons.values())
        first = min(groups[0], key=lambda i: pops[i].size)
        extra = {"weight_exp": 0, "num_weight_bits": 8} if self.precision == "fixed" else {}
        for group in groups[1:]:
            i = min(group, key=lambda j: pops[j].size)
            empty = sp.csr_matrix((pops[first].size, pops[i].size))
            conn = LavaSparse(weights=empty, **extra)
            lifs[i].s_out.connect(conn.s_in)
            conn.a_out.connect(lifs[first].a_in)
            self.graph.others.append(conn)

    def connection(self, edge: LoweredEdge, weights: sp.csr_matrix, lif: Any, shift: int) -> None:
        """``source -> [SpikeRelay] -> Dense | Sparse -> lif.a_in`` for a further projection
        (fixed point: ``weights = 2·m_k``, its sum shifted left by ``shift``)."""
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
        extra = {"weight_exp": shift, "num_weight_bits": 8} if self.precision == "fixed" else {}
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
    plan = lower(network, simulation)
    edges = lowered_edges(network, simulation)
    for pop, es, pop_plan in zip(network.populations, edges, plan.populations, strict=True):
        builder.population(pop, es, pop_plan)
    builder.tie(components(edges))
    return builder.graph


def components(edges: list[list[LoweredEdge]]) -> list[list[int]]:
    """Populations connected through projections between them (the input links none).

    Lava compiles and runs the processes connected to the one it is run on; every population
    reads the input files itself, so a network whose populations fall apart into several such
    components (side-by-side towers, a dead-end branch off the input) needs them tied together
    (:meth:`_Builder.tie`). Components in order of their first population.
    """
    root = list(range(len(edges)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    for target, es in enumerate(edges):
        for e in es:
            if e.source >= 0:
                root[find(target)] = find(e.source)
    groups: dict[int, list[int]] = {}
    for i in range(len(edges)):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values())
