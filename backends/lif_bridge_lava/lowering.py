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

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import UnsupportedLayerError, ValidationError
from lif_bridge.network import Conv2d, Dense, MaxPool2d, Network, Simulation
from lif_bridge.semantics import leak_constants, refractory_steps
from lif_bridge_lava.quantize import FixedPointLayer, quantize_population
from lif_bridge_lava.synapses import Synapses

__all__ = ["DENSE_MAX_ENTRIES", "LavaGraph", "build_graph", "population_jumps"]

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


def population_jumps(
    network: Network,
) -> list[tuple[list[np.ndarray], sp.csr_matrix, sp.csr_matrix]]:
    """Per population: max-pool windows of its gate, ``W`` [C] and ``diag(1/C_m)·W`` [V].

    ``W`` composes the linear stages after the max pools with the layer
    (:func:`population_matrix`); the product is formed per element as the reference does.
    """
    out = []
    for pop in network.populations:
        shape = pop.source_shape
        windows = []
        for stage in pop.stages:
            if isinstance(stage, MaxPool2d):
                windows.append(pool_windows(stage, shape))
                shape = stage.output_shape(shape)
        linear = tuple(s for s in pop.stages if not isinstance(s, MaxPool2d))
        matrix = population_matrix(pop.layer, linear, shape)
        if matrix is None:  # pragma: no cover - the Network forbids it
            raise ValidationError(f"{pop.name}: a max pool after a linear stage")
        c_m = pop.layer.neurons.broadcast(pop.size)["c_m"]
        out.append((windows, matrix, sp.csr_matrix(sp.diags(1.0 / c_m) @ matrix)))
    return out


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


def _synapses(
    layer: Any, weights: sp.csr_matrix, windows: list[np.ndarray], n_in: int, analog: bool
) -> Synapses:
    entries = weights.shape[0] * weights.shape[1]
    dense = isinstance(layer, Dense) and entries <= DENSE_MAX_ENTRIES
    matrix = weights.toarray() if dense else sp.csr_matrix(weights)
    return Synapses(matrix=matrix, windows=windows, n_in=n_in, analog=analog)


def build_graph(
    network: Network,
    simulation: Simulation,
    *,
    precision: str,
    directory: str,
    gap: int,
) -> LavaGraph:
    """Create and connect the Lava processes of ``network`` (nothing is compiled yet)."""
    from lif_bridge_lava.procs.process import LinearLIF

    steps, dt = simulation.steps, simulation.dt
    analog = not simulation.encoder.is_spiking
    counted = set(simulation.readout.count_layers(network))
    traced = set(simulation.readout.traces)
    graph = LavaGraph(neurons={}, labels={})
    for pop, (windows, matrix, jumps) in zip(
        network.populations, population_jumps(network), strict=True
    ):
        if not isinstance(pop.layer, (Dense, Conv2d)):  # pragma: no cover - Network checks it
            raise UnsupportedLayerError(
                pop.name, type(pop.layer).__name__, "lava backend", ["Dense", "Conv2d"]
            )
        first = pop.source < 0
        if first and analog and windows:
            raise ValidationError(
                f"MaxPool2d before {pop.name!r}: spiking max pooling needs spikes, but the "
                "ConstantCurrent encoder gives analog input; use a spiking encoder"
            )
        params = pop.layer.neurons.broadcast(pop.size)
        if precision == "fixed":
            q = quantize_population(matrix, params, dt)
            graph.fixed[pop.name] = q
            weights = sp.csr_matrix(q.stored_weights, dtype=np.int64)
            neurons = _fixed_neurons(q)
        else:
            weights = jumps
            neurons = _float_neurons(params, dt)
        n_source = int(np.prod(pop.source_shape))
        label = str(len(graph.neurons))
        lif = LinearLIF(
            shape=(pop.size,),
            main=_synapses(pop.layer, weights, windows, n_source, first and analog),
            from_input=first,
            n_source=n_source,
            reset=pop.layer.neurons.reset,
            refractory=refractory_steps(pop.layer.neurons.refractory, dt),
            steps=steps,
            gap=gap,
            directory=directory,
            label=label,
            counted=pop.name in counted,
            traced=pop.name in traced,
            **neurons,
        )
        if not first:
            graph.neurons[network.populations[pop.source].name].s_out.connect(lif.s_in)
        graph.neurons[pop.name] = lif
        graph.labels[pop.name] = label
    return graph
