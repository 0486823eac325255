r"""The lowering plan: everything a backend needs, computed once in the core.

:func:`lower` turns a :class:`~lif_bridge.network.Network` (chain or graph) and a
:class:`~lif_bridge.network.Simulation` into a :class:`NetworkPlan`:

* per population (:class:`PopulationPlan`, in topological order): the leak constants of phase A
  (``d = exp(-g_l dt / C_m)``, ``v_inf = v_rest + I_bias / g_l``, the IF step
  ``I_bias dt / C_m``), threshold, reset, refractory steps ``R = round(refractory / dt)``;
* per incoming projection (:class:`ProjectionPlan`): its source, its spiking max-pool gates
  (:class:`GatePlan`: the window of every pooled unit), the composed matrix of its linear stages
  and map **scaled by 1/C_m of the target** (``(n_out, n_in)`` [V per spike], sparse, plus a
  dense copy when small), the convolution kernel scaled by 1/C_m when the map is a plain
  convolution, and its delay [steps];
* the shared checks: spiking max pooling needs a spiking encoder, the input rate fits the grid,
  the readout names exist.

Backends consume the plan (see ``docs/graph-plan.md``); none re-derives stages or constants.
:mod:`lif_bridge.step` executes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import ValidationError
from lif_bridge.network import Conv2d, MaxPool2d, Network, Population, Simulation
from lif_bridge.network.population import Edge
from lif_bridge.semantics import leak_constants, refractory_steps

__all__ = [
    "DENSE_LIMIT",
    "ConvKernel",
    "GatePlan",
    "NetworkPlan",
    "PopulationPlan",
    "ProjectionPlan",
    "lower",
]

#: A projection's matrix also gets a dense copy when it has at most this many entries.
DENSE_LIMIT = 8_000_000


@dataclass(frozen=True)
class GatePlan:
    """One spiking max-pool stage: ``windows[u]`` are the input units of pooled unit ``u``.

    Attributes
    ----------
    stage
        The :class:`~lif_bridge.network.MaxPool2d`.
    windows
        ``(n_out, kH·kW)`` int64 flat input indices, in row-major window order (the tie rule's
        "first").
    in_shape, out_shape
        Shapes before and after the gate.
    """

    stage: MaxPool2d
    windows: np.ndarray
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def n_in(self) -> int:
        """Input units."""
        return int(np.prod(self.in_shape))

    @property
    def n_out(self) -> int:
        """Pooled units (windows)."""
        return int(self.windows.shape[0])


@dataclass(frozen=True)
class ConvKernel:
    """A projection that is a bare convolution (no linear stage), its kernel divided by C_m.

    Attributes
    ----------
    weight
        ``(C_out, C_in/groups, kH, kW)`` [V per spike]: the layer's weight over the target's
        per-channel capacitance.
    layer
        The :class:`~lif_bridge.network.Conv2d` (stride, padding, dilation, groups).
    in_shape
        ``(C_in, H, W)`` it receives.
    """

    weight: np.ndarray
    layer: Conv2d
    in_shape: tuple[int, ...]


@dataclass(frozen=True)
class ProjectionPlan:
    """One incoming projection of a population, ready to run.

    Attributes
    ----------
    source
        Index of the source population in :attr:`NetworkPlan.populations` (``-1``: the input).
    source_name
        Its name (``"input"`` for the encoder).
    gates
        The max-pool gates applied first to the source's spikes (stateful, see semantics).
    matrix
        ``(n_out, n_in)`` CSR matrix [V per unit of input]: the linear stages and the map,
        each row divided by the target neuron's ``C_m``. ``n_in`` is the size after the gates.
    dense
        ``matrix.T`` as a C-contiguous ``(n_in, n_out)`` array when it has at most
        :data:`DENSE_LIMIT` entries, else ``None``.
    conv
        The kernel form when the projection is a bare convolution and ``C_m`` is uniform per
        channel, else ``None`` (a backend may use either form; both are the same map).
    delay
        Steps between a spike leaving the gates and its arrival (phase C of step ``n + delay``).
    analog
        Whether the projection reads the ConstantCurrent encoder (real values, no gates).
    edge
        The description's :class:`~lif_bridge.network.Edge` (names, shapes, the map).
    """

    source: int
    source_name: str
    gates: tuple[GatePlan, ...]
    matrix: sp.csr_matrix
    dense: np.ndarray | None
    conv: ConvKernel | None
    delay: int
    analog: bool
    edge: Edge

    @property
    def n_in(self) -> int:
        """Values the matrix reads (after the gates)."""
        return int(self.matrix.shape[1])

    @property
    def n_source(self) -> int:
        """Units of the source (before the gates)."""
        return int(np.prod(self.edge.source_shape))


@dataclass(frozen=True)
class PopulationPlan:
    """The constants of one population and its incoming projections.

    Per-neuron float64 arrays of length ``size``: ``c_m`` [F], ``d`` (leak factor per step),
    ``v_inf`` [V] (``nan`` where not leaky), ``if_step`` [V] (``I_bias dt / C_m``), ``leaky``
    (bool, ``g_l > 0``), ``v_th``, ``v_reset``, ``v_rest`` [V].
    """

    index: int
    name: str
    shape: tuple[int, ...]
    c_m: np.ndarray
    d: np.ndarray
    v_inf: np.ndarray
    if_step: np.ndarray
    leaky: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    v_rest: np.ndarray
    subtract: bool
    refractory: int
    projections: tuple[ProjectionPlan, ...]
    population: Population

    @property
    def size(self) -> int:
        """Number of neurons."""
        return int(np.prod(self.shape))

    @property
    def all_leaky(self) -> bool:
        """Every neuron has ``g_l > 0``."""
        return bool(self.leaky.all())

    @property
    def none_leaky(self) -> bool:
        """No neuron leaks (IF rule everywhere)."""
        return not bool(self.leaky.any())


@dataclass(frozen=True)
class NetworkPlan:
    """A network lowered for a simulation: populations in topological order and run settings.

    Attributes
    ----------
    network, simulation
        What was lowered.
    populations
        One :class:`PopulationPlan` each, sources before targets; the last is the readout.
    input_rate
        The effective ``max_rate`` [Hz] (:meth:`Simulation.input_rate`).
    spiking_input
        Whether the encoder emits 0/1 spikes.
    count_layers, trace_layers
        Population names whose counts (the output always included) and traces are returned.
    """

    network: Network
    simulation: Simulation
    populations: tuple[PopulationPlan, ...]
    input_rate: float
    spiking_input: bool
    count_layers: tuple[str, ...]
    trace_layers: tuple[str, ...]

    @property
    def steps(self) -> int:
        """Steps per sample."""
        return self.simulation.steps

    @property
    def dt(self) -> float:
        """Time step [s]."""
        return self.simulation.dt

    @property
    def n_inputs(self) -> int:
        """Input units."""
        return self.network.n_inputs

    @property
    def max_delay(self) -> int:
        """Largest projection delay [steps]."""
        return max((p.delay for pop in self.populations for p in pop.projections), default=0)

    def encode(self, x: np.ndarray, start_index: int = 0) -> np.ndarray:
        """The encoder's values ``(batch, steps, n_inputs)`` for inputs ``x``."""
        return self.simulation.encode(self.network, x, start_index)


def lower(
    network: Network, simulation: Simulation, *, dense_limit: int = DENSE_LIMIT
) -> NetworkPlan:
    """Compute the :class:`NetworkPlan` of ``network`` under ``simulation`` (see module doc).

    Raises
    ------
    ValidationError
        A spiking max pool fed by the ConstantCurrent encoder, an input rate above ``1/dt``
        for spike trains, unknown readout names.
    """
    count_layers = simulation.readout.count_layers(network)
    rate = simulation.input_rate(network)
    spiking = simulation.encoder.is_spiking
    pops = tuple(
        _population_plan(pop, simulation.dt, spiking, dense_limit) for pop in network.populations
    )
    return NetworkPlan(
        network=network,
        simulation=simulation,
        populations=pops,
        input_rate=rate,
        spiking_input=spiking,
        count_layers=count_layers,
        trace_layers=tuple(simulation.readout.traces),
    )


def _population_plan(pop: Population, dt: float, spiking: bool, dense_limit: int) -> PopulationPlan:
    p = pop.neurons.broadcast(pop.size)
    d, v_inf = leak_constants(p["c_m"], p["g_l"], p["i_bias"], p["v_rest"], dt)
    projections = tuple(
        _projection_plan(pop, e, p["c_m"], spiking, dense_limit) for e in pop.projections
    )
    return PopulationPlan(
        index=pop.index,
        name=pop.name,
        shape=pop.shape,
        c_m=p["c_m"],
        d=d,
        v_inf=v_inf,
        if_step=p["i_bias"] * dt / p["c_m"],
        leaky=p["g_l"] > 0,
        v_th=p["v_th"],
        v_reset=p["v_reset"],
        v_rest=p["v_rest"],
        subtract=pop.neurons.reset == "subtract",
        refractory=refractory_steps(pop.neurons.refractory, dt),
        projections=projections,
        population=pop,
    )


def _projection_plan(
    pop: Population, edge: Edge, c_m: np.ndarray, spiking: bool, dense_limit: int
) -> ProjectionPlan:
    analog = edge.source < 0 and not spiking
    if analog and edge.gates:
        raise ValidationError(
            f"MaxPool2d before {pop.name!r}: spiking max pooling needs spikes, but the "
            "ConstantCurrent encoder gives analog input; use a spiking encoder"
        )
    gates, shape = [], edge.source_shape
    for stage in edge.gates:
        out = stage.output_shape(shape)
        gates.append(GatePlan(stage, pool_windows(stage, shape), shape, out))
        shape = out
    matrix = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
    if matrix is None:  # pragma: no cover - Projection forbids a max pool after a linear stage
        raise ValidationError(f"{pop.name!r}: max pooling after a linear stage")
    # Per-synapse division by the post-synaptic capacitance, as a simulator does (w / C_m).
    scaled = sp.csr_matrix(sp.diags(1.0 / c_m) @ matrix)
    dense = None
    if scaled.shape[0] * scaled.shape[1] <= dense_limit:
        dense = np.ascontiguousarray(scaled.T.toarray())
    conv = None
    m = edge.map
    if isinstance(m, Conv2d) and not edge.linear_stages:
        c_map = c_m.reshape(pop.shape)
        if np.all(c_map == c_map[:, :1, :1]):
            w = np.asarray(m.weight) / c_map[:, 0, 0][:, None, None, None]
            conv = ConvKernel(w, m, edge.gated_shape)
    return ProjectionPlan(
        source=edge.source,
        source_name=edge.source_name,
        gates=tuple(gates),
        matrix=scaled,
        dense=dense,
        conv=conv,
        delay=edge.delay,
        analog=analog,
        edge=edge,
    )
