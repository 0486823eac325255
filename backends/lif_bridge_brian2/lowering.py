r"""Lowering of a network description to an explicit :class:`brian2.Network`.

One ``NeuronGroup`` per population (model and exact step in :mod:`.equations`), one
``Synapses`` per weighted layer with ``on_pre`` adding ``w/C_m`` (connectivity from
:mod:`lif_bridge.connectivity`, index arrays built vectorised), the winner-per-window max pool of
:mod:`.maxpool`, the TimedArray-driven input of :mod:`.inputs`, and monitors for the readout.

Schedule of one step (Brian2's slots; the contract's phases in brackets):

``start``      window reset at a sample start: ``v = v_rest``, counts, max-pool winners and
               ``lastspike`` cleared
``groups``     state update, :class:`.equations.ContractExact`                          [A]
``thresholds`` ``v >= v_th`` (and not refractory); the input group emits ``e[n]``        [B]
``synapses``   max-pool gates and every layer's ``on_pre``: ``a_in_post += w*inv_C_m_post`` [C]
``before_resets`` ``v += int(not_refractory)*a_in``: the step's input, dropped if refractory [C]
``resets``     ``v -= v_th`` or ``v = v_reset``                                          [D]
``end``        membrane traces (after the reset), as the contract's readout

Average pooling and flatten are linear: they are composed into the next layer's synapses with
:func:`lif_bridge.connectivity.population_matrix` (the same matrix the reference multiplies by),
so a conv → avg pool → dense path costs one synapse per non-zero entry and no extra group.
The synaptic jumps are summed into ``a_in`` and added once, like the reference's
``v += W z / C_m``, rather than added synapse by synapse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import UnsupportedLayerError, ValidationError
from lif_bridge.network import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Population,
    Simulation,
)
from lif_bridge_brian2.equations import (
    ContractExact,
    apply_input_code,
    neuron_equations,
    neuron_parameters,
    on_pre_code,
    refractory_period,
    reset_code,
)
from lif_bridge_brian2.inputs import InputRoute, input_mode, make_input
from lif_bridge_brian2.maxpool import COUNTER, PoolStage, add_maxpool
from lif_bridge_brian2.units import UnitPreset, get_preset

__all__ = ["LayerMap", "to_brian2"]

#: Layer types the lowering handles (anything else raises UnsupportedLayerError).
SUPPORTED = (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten)

#: Code prefix of every window reset: ``new_w`` is 1 at the first step of a sample window.
WINDOW_START = "new_w = int(t_in_timesteps % W_steps == 0)\n"


@dataclass
class LayerMap:
    """Where each part of the description went in the Brian2 network.

    Attributes
    ----------
    groups
        Population (layer) name -> its ``NeuronGroup``.
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
        Population name -> number of layer synapses.
    """

    groups: dict[str, b2.NeuronGroup]
    synapses: dict[str, list[str]]
    pools: dict[str, b2.NeuronGroup]
    input: InputRoute
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
    standalone: bool = False

    @property
    def duration(self) -> b2.Quantity:
        """Length of one run: ``samples`` windows of ``steps`` steps."""
        return self.samples * self.steps * self.dt * b2.second


def _ident(name: str) -> str:
    """A Brian2-safe identifier from a layer name."""
    out = re.sub(r"\W", "_", name)
    return f"l_{out}" if not out[:1].isalpha() else out


def _check_layers(network: Network, simulation: Simulation, mode: str) -> None:
    for layer in network.layers:
        if not isinstance(layer, SUPPORTED):
            raise UnsupportedLayerError(
                layer.name, type(layer).__name__, "brian2 backend", (t.__name__ for t in SUPPORTED)
            )
    first = network.populations[0]
    if mode == "current" and any(isinstance(s, MaxPool2d) for s in first.stages):
        raise ValidationError(
            f"MaxPool2d before {first.name!r}: spiking max pooling needs spikes, but the "
            "ConstantCurrent encoder gives analog input; use a spiking encoder"
        )


def _split_stages(pop: Population) -> tuple[list[MaxPool2d], tuple[Any, ...]]:
    """The leading max pools and the linear stages after them."""
    pools = [s for s in pop.stages if isinstance(s, MaxPool2d)]
    return pools, tuple(pop.stages[len(pools) :])


def to_brian2(
    network: Network,
    simulation: Simulation,
    *,
    samples: int = 1,
    units: str | UnitPreset = "si",
    inputs: np.ndarray | None = None,
    trains: bool = False,
    poisson_group: bool = False,
    monitor_counts: tuple[str, ...] | None = None,
    standalone: bool = False,
    use_defaultclock: bool = False,
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
    trains
        Feed ``RegularRate`` inputs as precomputed trains instead of computing them in Brian2.
    poisson_group
        Use a ``PoissonGroup`` for ``Poisson`` coding (not the reference's trains).
    monitor_counts
        Populations whose spikes are recorded (default: the simulation's readout).
    standalone
        Whether the objects are built for a standalone device (only changes what
        :func:`~lif_bridge_brian2.equations.describe` can read).
    use_defaultclock
        Run on Brian2's ``defaultclock`` (its ``dt`` is set) instead of an own clock:
        brian2cuda's synapse code refers to ``defaultclock`` by name.

    Returns
    -------
    net, layer_map
        The explicit ``brian2.Network`` (call ``net.run(layer_map.duration)``) and the map from
        layers to Brian2 objects.
    """
    mode = input_mode(simulation, trains, poisson_group)
    _check_layers(network, simulation, mode)
    preset = get_preset(units)
    dt, w = simulation.dt, simulation.steps
    if use_defaultclock:
        b2.defaultclock.dt = dt * b2.second
        clock = b2.defaultclock
    else:
        clock = b2.Clock(dt=dt * b2.second, name="lif_clock")
    ns: dict[str, Any] = {"W_steps": w}
    pops = network.populations
    # Which unit groups are read by a max pool (they need the running counter).
    counted = {p.source for p in pops if p.stages and isinstance(p.stages[0], MaxPool2d)}
    route = make_input(
        mode,
        network.n_inputs,
        samples,
        simulation,
        counter=-1 in counted,
        clock=clock,
        namespace=ns,
        values=inputs,
    )
    objects: dict[str, Any] = {route.group.name: route.group}
    groups: dict[str, b2.NeuronGroup] = {}
    for idx, pop in enumerate(pops):
        ref = refractory_period(pop, dt)
        analog = mode == "current" and pop.source < 0
        extra = (COUNTER if idx in counted else "") + ("a_ext : volt\n" if analog else "")
        name = _ident(pop.name)
        grp = b2.NeuronGroup(
            pop.size,
            neuron_equations(extra),
            threshold="v >= v_th",
            reset=reset_code(pop),
            refractory=ref,
            method=ContractExact(ref is not False),
            clock=clock,
            name=name,
            namespace=ns,
        )
        grp.set_states(neuron_parameters(pop, dt, preset), units=True)
        grp.v = grp.v_rest
        reset = "v = new_w*v_rest + (1 - new_w)*v"
        if ref is not False:
            reset += "\nlastspike = new_w*(-10000*second) + (1 - new_w)*lastspike"
        if idx in counted:
            reset += "\nc_pool = c_pool*(1 - new_w)"
        grp.run_regularly(WINDOW_START + reset, when="start", name=f"{name}_window_reset")
        grp.run_regularly(
            apply_input_code(ref is not False, analog), when="before_resets", name=f"{name}_input"
        )
        groups[pop.name] = grp
        objects[name] = grp
    synapses: dict[str, list[str]] = {}
    pools: dict[str, b2.NeuronGroup] = {}
    counts: dict[str, int] = {}
    order = 1
    for pop in pops:
        tgt = groups[pop.name]
        src: b2.Group = route.group if pop.source < 0 else groups[pops[pop.source].name]
        event = route.event if pop.source < 0 else "spike"
        shape = pop.source_shape
        max_stages, linear = _split_stages(pop)
        names: list[str] = []
        for k, stage in enumerate(max_stages):
            st: PoolStage
            st, order = add_maxpool(
                src,
                event,
                stage,
                shape,
                followed_by_pool=k + 1 < len(max_stages),
                name=_ident(stage.name),
                order=order,
                clock=clock,
                window_reset=WINDOW_START,
                namespace=ns,
            )
            pools[stage.name] = st.windows
            for obj in (st.windows, st.count, st.gate):
                objects[obj.name] = obj
            names += [st.count.name, st.gate.name]
            src, event, shape = st.windows, "pool", stage.output_shape(shape)
        matrix = population_matrix(pop.layer, linear, shape)
        if matrix is None:  # the description forbids a max pool after a linear stage
            raise ValidationError(f"{pop.name!r}: max pooling after a linear stage")
        coo = matrix.tocoo()
        keep = coo.data != 0
        pre, post, wts = coo.col[keep], coo.row[keep], coo.data[keep]
        syn_name = f"{_ident(pop.name)}_synapses"
        if event == "":  # analog input: a summed jump every step
            syn = b2.Synapses(
                src,
                tgt,
                model="w : coulomb (constant)\na_ext_post = p_pre*(w*inv_C_m_post) : volt (summed)",
                clock=clock,
                name=syn_name,
                namespace=ns,
            )
        else:
            syn = b2.Synapses(
                src,
                tgt,
                model="w : coulomb (constant)",
                on_pre=on_pre_code(),
                on_event=event,
                clock=clock,
                name=syn_name,
                namespace=ns,
            )
        syn.connect(i=pre.astype(np.int32), j=post.astype(np.int32))
        if event:
            # Pathways run at order -1 of the 'synapses' slot by default: place this one after
            # the max-pool gates it may listen to.
            syn.pre.order = order + 1
        syn.w = wts * preset.charge
        objects[syn_name] = syn
        synapses[pop.name] = [*names, syn_name]
        counts[pop.name] = int(wts.size)
        order += 2
    wanted = monitor_counts
    if wanted is None:
        wanted = simulation.readout.count_layers(network)
    spike_mons = {}
    for name in wanted:
        mon = b2.SpikeMonitor(groups[name], name=f"{_ident(name)}_spikes")
        spike_mons[name] = mon
        objects[mon.name] = mon
    state_mons = {}
    for name in simulation.readout.traces:
        mon = b2.StateMonitor(
            groups[name], "v", record=True, when="end", name=f"{_ident(name)}_trace"
        )
        state_mons[name] = mon
        objects[mon.name] = mon
    net = b2.Network(*objects.values())
    lmap = LayerMap(
        groups=groups,
        synapses=synapses,
        pools=pools,
        input=route,
        spike_monitors=spike_mons,
        state_monitors=state_mons,
        objects=objects,
        populations={p.name: p for p in pops},
        synapse_counts=counts,
        units=preset,
        dt=dt,
        steps=w,
        samples=samples,
        namespace=ns,
        standalone=standalone,
    )
    return net, lmap
