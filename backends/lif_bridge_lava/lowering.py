r"""Lowering of a network description to a graph of Lava processes (imports Lava).

Graph
-----
For each population (weighted layer)::

    source spikes ──► [MaxPoolGate] ──► Dense | Sparse ──► LinearLIF ──► (next population)
                                                                 └────► [SpikeCounter]

* the input is a :class:`SpikeSource` that emits exactly the trains of ``Simulation.encode``;
* consecutive spiking max pools right after the source become one :class:`MaxPoolGate`;
* the linear stages (flatten, average pooling) and the layer are composed into one matrix with
  :func:`lif_bridge.connectivity.population_matrix`, each row divided by the neuron's ``C_m``
  (so the synapses deliver voltage jumps ``W/C_m`` [V]);
* a :class:`lif_bridge.network.Dense` layer becomes ``lava.proc.dense.process.Dense`` (dense
  matrix; ``Sparse`` above 16 M entries); a :class:`lif_bridge.network.Conv2d` becomes
  ``lava.proc.sparse.process.Sparse`` holding the composed matrix.

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
Lava's Dense/Sparse send in step ``t`` what they received in step ``t-1``: one step per
weighted layer, as in the contract. :class:`LinearLIF` models absorb the shift by finishing
the previous contract step with the input that arrives (see
:mod:`lif_bridge_lava.procs.models_float`), so spikes of every layer occur at the contract's
step indices. The one-step carry left in a Dense buffer at the end of a sample reaches the
neurons at local step 0 of the next window, where they drop it while resetting.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import UnsupportedLayerError, ValidationError
from lif_bridge.network import Conv2d, Dense, MaxPool2d, Network, Simulation
from lif_bridge.semantics import refractory_steps
from lif_bridge_lava.quantize import FixedPointLayer, quantize_population

__all__ = ["DENSE_MAX_ENTRIES", "LavaGraph", "build_graph", "population_jumps"]

#: Largest dense weight matrix kept as ``Dense``; bigger ones use ``Sparse``.
DENSE_MAX_ENTRIES = 16_000_000


@dataclass
class LavaGraph:
    """The processes of a lowered network."""

    source: Any
    neurons: dict[str, Any]
    connections: dict[str, Any]
    gates: dict[str, Any]
    counters: dict[str, Any]
    fixed: dict[str, FixedPointLayer] = field(default_factory=dict)


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


def build_graph(
    network: Network,
    simulation: Simulation,
    *,
    precision: str,
    directory: str,
    gap: int,
) -> LavaGraph:
    """Create and connect the Lava processes of ``network`` (nothing is compiled yet)."""
    from lava.proc.dense.process import Dense as LavaDense
    from lava.proc.sparse.process import Sparse as LavaSparse

    from lif_bridge_lava.procs.process import LinearLIF, MaxPoolGate, SpikeCounter, SpikeSource

    steps, dt = simulation.steps, simulation.dt
    analog = not simulation.encoder.is_spiking
    counted = set(simulation.readout.count_layers(network))
    traced = set(simulation.readout.traces)
    source = SpikeSource(shape=(network.n_inputs,), directory=directory, steps=steps, gap=gap)
    graph = LavaGraph(source=source, neurons={}, connections={}, gates={}, counters={})
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
        src = source.s_out if first else graph.neurons[network.populations[pop.source].name].s_out
        if windows:
            gate = MaxPoolGate(
                n_in=int(np.prod(pop.source_shape)), windows=windows, steps=steps, gap=gap
            )
            src.connect(gate.s_in)
            src = gate.s_out
            graph.gates[pop.name] = gate
        params = pop.layer.neurons.broadcast(pop.size)
        fixed_kw: dict[str, Any] | None = None
        if precision == "fixed":
            q = quantize_population(matrix, params, dt)
            graph.fixed[pop.name] = q
            weights: Any = q.stored_weights
            fixed_kw = {
                "q_v": q.q_v,
                "dv": q.dv,
                "bias_mant": q.bias_mant,
                "bias_exp": q.bias_exp,
                "vth_mant": q.vth_mant,
                "v_reset": q.v_reset,
                "v_rest": q.v_rest,
            }
        else:
            weights = jumps
        bits = 24 if (first and analog) else 0
        entries = weights.shape[0] * weights.shape[1]
        use_dense = isinstance(pop.layer, Dense) and entries <= DENSE_MAX_ENTRIES
        extra = {"weight_exp": 0, "num_weight_bits": 8} if precision == "fixed" else {}
        if use_dense:
            conn = LavaDense(weights=weights.toarray(), num_message_bits=bits, **extra)
        else:
            conn = LavaSparse(weights=weights, num_message_bits=bits, **extra)
        src.connect(conn.s_in)
        trace_file = f"{directory}/trace_{len(graph.neurons)}.bin" if pop.name in traced else None
        lif = LinearLIF(
            shape=(pop.size,),
            c_m=params["c_m"],
            g_l=params["g_l"],
            v_th=params["v_th"],
            v_reset=params["v_reset"],
            v_rest=params["v_rest"],
            i_bias=params["i_bias"],
            dt=dt,
            reset=pop.layer.neurons.reset,
            refractory=refractory_steps(pop.layer.neurons.refractory, dt),
            steps=steps,
            gap=gap,
            fixed=fixed_kw,
            trace_file=trace_file,
        )
        conn.a_out.connect(lif.a_in)
        graph.connections[pop.name] = conn
        graph.neurons[pop.name] = lif
        if pop.name in counted:
            counter = SpikeCounter(
                shape=(pop.size,),
                directory=directory,
                label=str(len(graph.counters)),
                steps=steps,
                gap=gap,
            )
            lif.s_out.connect(counter.s_in)
            graph.counters[pop.name] = counter
    return graph
