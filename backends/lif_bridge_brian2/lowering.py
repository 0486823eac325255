r"""Lowering of a network description to an explicit :class:`brian2.Network`.

:func:`to_brian2` reads as its four seams: the input group (:mod:`.inputs`), one
:class:`~.populations.LIFGroup` per population (model and exact step in :mod:`.equations`), the
synapses into each population (:mod:`.synapses`: the max pools of :mod:`.maxpool`, then one
``Synapses`` of composed weights with ``on_pre`` adding ``w/C_m``), and the monitors of the
readout.

Schedule of one step (Brian2's slots; the contract's phases in brackets):

``start``      window reset at a sample start (``run_regularly`` every window, not every
               step): ``v = v_rest``, counts, max-pool winners and ``lastspike`` cleared
               (derived constants are refreshed before every run, :mod:`.populations`)
``groups``     state update, :class:`.equations.ContractExact`                          [A]
``thresholds`` ``v >= v_th`` (and not refractory); the input group emits ``e[n]``        [B]
``synapses``   max-pool gates, each layer's ``on_pre``: ``a_in_post += jump`` (w*inv_C_m_post) [C]
``before_resets`` ``v += int(not_refractory)*a_in``: the step's input, dropped if refractory [C]
``resets``     ``v -= v_th`` or ``v = v_reset``                                          [D]
``end``        membrane traces (after the reset), as the contract's readout

The Brian2 device in use decides the rest: under ``cuda_standalone`` the objects run on
``defaultclock`` (brian2cuda's synapse code refers to it by name), elsewhere on an own clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import UnsupportedLayerError
from lif_bridge.network import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    MaxPool2d,
    Network,
    Population,
    Simulation,
)
from lif_bridge.plan import NetworkPlan, lower
from lif_bridge_brian2.equations import apply_input_code
from lif_bridge_brian2.inputs import InputGroup, InputRoute, input_route, make_input
from lif_bridge_brian2.maxpool import COUNTER
from lif_bridge_brian2.populations import LIFGroup
from lif_bridge_brian2.synapses import add_projection, brian2_name, edges
from lif_bridge_brian2.units import UnitPreset, get_preset

__all__ = ["SUPPORTED", "LayerMap", "bin_spikes", "check_layers", "to_brian2"]

#: Layer types the lowering handles (anything else raises UnsupportedLayerError).
SUPPORTED = (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten)


def bin_spikes(i: np.ndarray, t_steps: np.ndarray, steps: int, samples: int, n: int) -> np.ndarray:
    """Spike counts ``(samples, n)`` from neuron indices and integer step numbers."""
    k = t_steps // steps
    flat = np.bincount(k * n + i, minlength=samples * n)[: samples * n]
    return flat.reshape(samples, n).astype(np.int64)


@dataclass
class LayerMap:
    """Where each part of the description went in the Brian2 network.

    Attributes
    ----------
    groups
        Population (layer) name -> its :class:`~.populations.LIFGroup` (parameters editable).
    synapses
        Population name -> names of the ``Synapses`` feeding it (layer synapses, and the max-pool
        count/gate synapses in front of it).
    pools
        Max-pool layer name -> the ``NeuronGroup`` of its windows.
    input
        The input group and its table (see :mod:`.inputs`).
    spike_monitors, state_monitors
        Population name -> ``SpikeMonitor`` (counted layers) / ``StateMonitor`` of ``v``.
    objects
        Brian2 name -> object, for everything in the network.
    populations
        Population name -> the description's :class:`~lif_bridge.network.Population`.
    synapse_counts
        Population name -> number of layer synapses (all its projections).
    projections
        Population name -> the ``Synapses`` of each incoming projection, in the order of the
        description (a chain population has one).
    """

    groups: dict[str, LIFGroup]
    synapses: dict[str, list[str]]
    pools: dict[str, b2.NeuronGroup]
    input: InputGroup
    spike_monitors: dict[str, b2.SpikeMonitor]
    state_monitors: dict[str, b2.StateMonitor]
    objects: dict[str, Any]
    populations: dict[str, Population]
    synapse_counts: dict[str, int]
    units: UnitPreset
    dt: float
    steps: int
    samples: int
    namespace: dict[str, Any] = field(default_factory=dict)
    projections: dict[str, list[b2.Synapses]] = field(default_factory=dict)

    @property
    def duration(self) -> b2.Quantity:
        """Length of one run: ``samples`` windows of ``steps`` steps."""
        return self.samples * self.steps * self.dt * b2.second

    def spike_counts(self) -> dict[str, np.ndarray]:
        """Counts ``(samples, n)`` per monitored population of the last run (runtime devices)."""
        counts = {}
        for name, mon in self.spike_monitors.items():
            steps = np.round(np.asarray(mon.t[:] / b2.second) / self.dt).astype(np.int64)
            n = self.populations[name].size
            counts[name] = bin_spikes(np.asarray(mon.i[:]), steps, self.steps, self.samples, n)
        return counts

    def traces(self) -> dict[str, np.ndarray]:
        """Membrane traces ``(samples, steps, n)`` [description V] of the last run (runtime)."""
        out = {}
        for name, smon in self.state_monitors.items():
            v = np.asarray(smon.v[:] / b2.volt).T  # (B·W, n)
            out[name] = v.reshape(self.samples, self.steps, -1) / self.units.voltage_scale
        return out


def check_layers(network: Network) -> None:
    """Refuse layer types the lowering does not know (the plan refuses a max pool on analog
    input)."""
    parts = [*(network.layers or ())]
    for pop in network.populations:
        for e in pop.projections:
            parts += [*e.stages] + ([] if isinstance(e.map, Identity) else [e.map])
    for layer in parts:
        if not isinstance(layer, SUPPORTED):
            raise UnsupportedLayerError(
                layer.name, type(layer).__name__, "brian2 backend", (t.__name__ for t in SUPPORTED)
            )


def _clock(dt: float) -> b2.Clock:
    """``defaultclock`` under brian2cuda (its synapse code names it), else an own clock."""
    from brian2.devices.device import get_device

    if type(get_device()).__name__ == "CUDAStandaloneDevice":
        b2.defaultclock.dt = dt * b2.second
        return b2.defaultclock
    return b2.Clock(dt=dt * b2.second, name="lif_clock")


def _max_pooled(plan: NetworkPlan) -> set[int]:
    """Indices of the groups (``-1``: the input) read by a max pool: they need a counter."""
    return {e.source for p in plan.populations for e in edges(p) if e.gates}


def _populations(
    plan: NetworkPlan, counted: set[int], dt: float, preset: UnitPreset, clock: b2.Clock,
    ns: dict[str, Any],
) -> dict[str, LIFGroup]:  # fmt: skip
    """One :class:`LIFGroup` per population, with its window reset and input application."""
    groups: dict[str, LIFGroup] = {}
    for idx, pplan in enumerate(plan.populations):
        pop = pplan.population
        analog = tuple(k for k, pr in enumerate(pplan.projections) if pr.analog)
        extra = (COUNTER if idx in counted else "") + "".join(f"a_ext{k} : volt\n" for k in analog)
        name = brian2_name(pop.name)
        grp = LIFGroup(pop, dt=dt, units=preset, extra=extra, clock=clock, name=name, namespace=ns)
        reset = "v = v_rest\nlastspike = -10000*second" + ("\nc_pool = 0" if idx in counted else "")
        window = ns["W_steps"] * clock.dt
        grp.run_regularly(reset, dt=window, when="start", name=f"{name}_window_reset")
        grp.run_regularly(apply_input_code(analog), when="before_resets", name=f"{name}_input")
        groups[pop.name] = grp
    return groups


def _monitors(
    network: Network, simulation: Simulation, groups: dict[str, LIFGroup],
    monitor_counts: tuple[str, ...] | None,
) -> tuple[dict[str, b2.SpikeMonitor], dict[str, b2.StateMonitor]]:  # fmt: skip
    """Spike monitors of the counted populations, ``v`` monitors of the traced ones."""
    wanted = monitor_counts
    if wanted is None:
        wanted = simulation.readout.count_layers(network)
    spikes = {n: b2.SpikeMonitor(groups[n], name=f"{brian2_name(n)}_spikes") for n in wanted}
    states = {
        n: b2.StateMonitor(groups[n], "v", record=True, when="end", name=f"{brian2_name(n)}_trace")
        for n in simulation.readout.traces
    }
    return spikes, states


def to_brian2(
    network: Network,
    simulation: Simulation,
    *,
    samples: int = 1,
    units: str | UnitPreset = "si",
    inputs: np.ndarray | None = None,
    route: InputRoute | None = None,
    monitor_counts: tuple[str, ...] | None = None,
) -> tuple[b2.Network, LayerMap]:
    """Build the Brian2 objects of ``network`` for ``samples`` windows of ``simulation``.

    Parameters
    ----------
    network, simulation
        The description and how to run it (``dt`` [s], ``steps`` per window, encoder, readout).
    samples
        Number of sample windows laid out in one run (``B``); the run lasts
        ``B · steps · dt``.
    units
        ``"si"`` (the description's numbers as-is), ``"biophysical"`` or a
        :class:`~lif_bridge_brian2.units.UnitPreset`; results do not depend on it.
    inputs
        Table values (from :func:`lif_bridge_brian2.inputs.input_values`); zeros if ``None``
        (fill them later, e.g. through ``run_args`` in standalone mode).
    route
        How the input reaches the first layer (default: the encoder's own,
        :func:`~lif_bridge_brian2.inputs.input_route`).
    monitor_counts
        Populations whose spikes are recorded (default: the simulation's readout).

    Returns
    -------
    net, layer_map
        The explicit ``brian2.Network`` (call ``net.run(layer_map.duration)``) and the map from
        layers to Brian2 objects. Parameters edited on ``layer_map.groups`` take effect at the
        next run (:mod:`lif_bridge_brian2.populations`).
    """
    route = input_route(simulation) if route is None else route
    check_layers(network)
    plan = lower(network, simulation)
    preset = get_preset(units)
    dt = simulation.dt
    clock = _clock(dt)
    ns: dict[str, Any] = {"W_steps": simulation.steps}
    counted = _max_pooled(plan)
    inp = make_input(route, network.n_inputs, samples, simulation, counter=-1 in counted,
                     clock=clock, namespace=ns, values=inputs)  # fmt: skip
    groups = _populations(plan, counted, dt, preset, clock, ns)
    objects: dict[str, Any] = {inp.group.name: inp.group, **{g.name: g for g in groups.values()}}
    pools: dict[str, b2.NeuronGroup] = {}
    synapses: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    projections: dict[str, list[b2.Synapses]] = {}
    order = 1
    pops = network.populations
    pooled: set[int] = set()
    for pplan in plan.populations:
        pop = pplan.population
        names: list[str] = []
        edge_syns: list[b2.Synapses] = []
        counts[pop.name] = 0
        for k, edge in enumerate(edges(pplan)):
            src = inp.group if edge.source < 0 else groups[pops[edge.source].name]
            event = inp.event if edge.source < 0 else "spike"
            proj = add_projection(pop, k, edge, src, event, groups[pop.name],
                                  charge=preset.scale("charge"), order=order, clock=clock,
                                  namespace=ns, counted=pooled)  # fmt: skip
            order = proj.order
            objects.update({o.name: o for o in proj.objects})
            pools.update(proj.pools)
            names += proj.names
            edge_syns.append(proj.synapses)
            counts[pop.name] += proj.n_synapses
        synapses[pop.name] = names
        projections[pop.name] = edge_syns
    spike_mons, state_mons = _monitors(network, simulation, groups, monitor_counts)
    objects.update({m.name: m for m in (*spike_mons.values(), *state_mons.values())})
    lmap = LayerMap(
        groups=groups,
        synapses=synapses,
        pools=pools,
        input=inp,
        spike_monitors=spike_mons,
        state_monitors=state_mons,
        objects=objects,
        populations={p.name: p for p in pops},
        synapse_counts=counts,
        units=preset,
        dt=dt,
        steps=simulation.steps,
        samples=samples,
        namespace=ns,
        projections=projections,
    )
    return b2.Network(*objects.values()), lmap
