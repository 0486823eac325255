r"""TTFS networks as Brian2 objects: the B1 neuron with units, event-driven synapses, max pooling.

One ``NeuronGroup`` per population (and one for the input, one per max-pool stage); samples run
one after another in windows of ``P`` steps (``P`` = readout step + 1), the state cleared at each
sample start (``run_regularly`` in the ``start`` slot). Step ``k`` of a sample is
``t_in_timesteps % P``; all window bounds are whole steps
(:func:`lif_bridge.ttfs.semantics.window_bounds`). The equations
(:mod:`lif_bridge.ttfs.semantics`, ``tau_c`` the time per unit of activation)::

    dv/dt = int(k < kon) * I + int(k >= kon) * ramp_on * ramp : volt   (ramp = 1 V / tau_c;
                                             euler is exact: the slope is piecewise constant)
    I : volt/second          (synaptic current; each input spike adds w · ramp)
    threshold:  not fired and k + lag >= kon and vt >= theta and t* < t_max
    t* = clip(t + lag·dt - (vt - theta) / ramp, t_on, t + lag·dt)   (interpolate=True: exact)
    t* = t + lag·dt                                                  (interpolate=False: grid)

After the state update of step ``k`` (label ``t``) the potential is ``V(t + dt)``. Hidden groups
(``lag = 1``) test ``vt = v = V(t + dt)``, from the step that ends at ``t_on`` on; the input
(``lag = 0``) tests ``vt = v - ramp·dt = V(t)``, so a unit due at ``t = 0`` fires at 0. The
crossing lies within the last step and, the ramp being linear, ``t*`` is its exact time (or the
grid time). A spike reaches the next layer through ``on_pre``, which computes ``t*`` from
``vt_pre`` and ``theta_pre``: ``I_post += w·ramp`` takes effect from ``t + dt`` (the next state
update), so the synapse also adds what the current would have contributed since ``t*``,
``v_post += w·ramp·(min(t + dt, t_on_post) - t*)``. Together they give the exact potential at
``t_on_post`` for any ``dt`` (floating point aside). The input group has ``kon = 0`` and
``theta_j = T_0/tau_c - x_j`` (it fires at ``T_0 - tau_c x_j``; ``x_j = 0`` is silent). A
max-pool stage is a group whose unit keeps ``tfirst = min(tfirst, t*_pre)`` over its window
(Brian2's numpy target runs this non-additive update as a Python loop; compiled targets do
not) and fires once, one step later; its synapses use ``t* = tfirst_pre``. The output group
integrates like a hidden one until its ``t_min`` (no ramp, no threshold); a ``StateMonitor``
reads its potential at each sample's end.

Graphs: one ``Synapses`` object per projection (its own max-pool groups in front), all adding
to the consumer's ``I`` and ``v``, so the potential at ``t_on`` is the sum over projections. A
shortcut (a projection whose source window ends at ``t_end`` before the consumer's
``t_min``) is re-timed by ``D = (t_min - t_end) / dt`` whole steps: its ``Synapses`` has a
delay of ``D`` steps and uses ``t* + D·dt``, where the source stored ``t*`` when it fired
(``ts``, set by the reset; a pool's ``tfirst``). A delayed spike therefore arrives as if the
source had coded the same value in the window right before the consumer's
(:mod:`lif_bridge.ttfs.semantics`, "Graph networks").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.network import Edge, Network
from lif_bridge.ttfs.coding import TtfsLayer

__all__ = ["TtfsBrian2Net", "build_ttfs", "spike_time_code"]

_NEURON = """
dv/dt = int(k < kon) * I + int(k >= kon) * ramp_on * ramp : volt
k = t_in_timesteps % P_steps : integer
I : volt/second
theta : volt
fired : boolean
ts : second
kon : integer (constant, shared)
lag : integer (constant, shared)
ramp_on : integer (constant, shared)
vt = v - ramp_on * ramp * dt * (1 - lag) : volt
"""

_POOL = """
tfirst : second
fired : boolean
"""

#: The sample's step and start, in any code that runs with the network's clock.
_T_REL = "(t_in_timesteps % P_steps) * dt"


@dataclass
class TtfsBrian2Net:
    """The Brian2 objects of a lowered TTFS network and where things are."""

    net: Any
    spikes: dict[str, Any] = field(default_factory=dict)
    readout: Any = None
    period_steps: int = 0
    duration: Any = None


def spike_time_code(source_is_pool: bool, interpolate: bool, shift: int = 0) -> str:
    """The pre-synaptic spike time ``t*`` as an expression for ``on_pre``; ``shift`` [steps]:
    the synapses' delay (a re-timed shortcut), which reads the stored ``t*`` and adds it."""
    if source_is_pool:
        return f"(tfirst_pre + {shift} * dt)" if shift else "tfirst_pre"
    if shift:
        return f"(ts_pre + {shift} * dt)"
    return _own_time(interpolate, "_pre")


def _own_time(interpolate: bool, suffix: str = "") -> str:
    """The absolute crossing time ``t*`` of a group's spike in this step (own variables)."""
    now = f"(t + lag{suffix} * dt)"
    if not interpolate:
        return now
    t_on = f"(t - {_T_REL} + kon{suffix} * dt)"
    return f"clip({now} - (vt{suffix} - theta{suffix}) / ramp, {t_on}, {now})"


def _neuron_group(
    name: str,
    n: int,
    *,
    k_on: int,
    k_off: int | None,
    ns: dict[str, Any],
    interpolate: bool,
    lag: int = 1,
) -> Any:
    """A population; ``lag = 1``: the threshold tests ``V(t + dt)`` (after this step's update),
    from step ``k_on - 1`` on (so ``V(t_on)`` itself is tested); ``lag = 0`` (the input): it
    tests ``V(t) = v - ramp·dt``, so a unit due at ``t = 0`` fires at 0."""
    threshold = None
    if k_off is not None:
        now = f"({_T_REL} + lag * dt)"
        star = f"({now} - (vt - theta) / ramp)" if interpolate else now
        threshold = (
            f"not fired and k + lag >= kon and vt >= theta and {star} < {k_off} * dt * (1 - 1e-12)"
        )
    group = b2.NeuronGroup(
        n,
        _NEURON,
        threshold=threshold,
        reset=f"fired = True\nts = {_own_time(interpolate)}" if threshold else None,
        method="euler",
        namespace=ns,
        name=name,
    )
    group.kon = k_on
    group.lag = lag
    group.ramp_on = int(k_off is not None)
    group.run_regularly(
        "v = 0*volt\nI = 0*volt/second\nfired = False",
        dt=ns["P_steps"] * ns["dt_step"],
        when="start",
        name=f"{name}_clear",
    )
    return group


def _pool_group(
    source: Any,
    windows: np.ndarray,
    name: str,
    ns: dict[str, Any],
    interpolate: bool,
    source_is_pool: bool,
) -> tuple[Any, Any]:
    pool = b2.NeuronGroup(
        windows.shape[0],
        _POOL,
        threshold="not fired and tfirst < 1e9*second",
        reset="fired = True",
        name=name,
    )
    pool.tfirst = 1e10 * b2.second
    pool.run_regularly(
        "tfirst = 1e10*second\nfired = False",
        dt=ns["P_steps"] * ns["dt_step"],
        when="start",
        name=f"{name}_clear",
    )
    star = spike_time_code(source_is_pool, interpolate)
    syn = b2.Synapses(
        source,
        pool,
        on_pre=f"tfirst_post = clip({star}, 0*second, tfirst_post)",
        namespace=ns,
        name=f"{name}_in",
    )
    rows = np.repeat(np.arange(windows.shape[0]), windows.shape[1])
    syn.connect(i=windows.ravel(), j=rows)
    return pool, syn


def _projection(
    source: Any,
    group: Any,
    edge: Edge,
    shift: int,
    name: str,
    ns: dict[str, Any],
    interpolate: bool,
) -> list[Any]:
    """One projection into ``group``: its max-pool groups, then event-driven synapses that add
    ``w·ramp`` to ``I`` and the charge since ``t*``; a shortcut is delayed by ``shift`` steps."""
    objs: list[Any] = []
    shape, is_pool = edge.source_shape, False
    for g, gate in enumerate(edge.gates):
        source, syn = _pool_group(
            source, pool_windows(gate, shape), f"{name}_pool{g}", ns, interpolate, is_pool
        )
        objs += [source, syn]
        shape, is_pool = gate.output_shape(shape), True
    m = population_matrix(edge.map, edge.linear_stages, edge.gated_shape).tocoo()  # type: ignore[union-attr]
    star = spike_time_code(is_pool, interpolate, shift)
    t_on_post = f"(t - {_T_REL} + kon_post * dt)"
    syn = b2.Synapses(
        source,
        group,
        model="w : 1",
        on_pre=(
            "I_post += w * ramp\n"
            f"v_post += w * ramp * (clip(t + dt, 0*second, {t_on_post}) - {star})"
        ),
        delay=shift * ns["dt_step"],
        namespace=ns,
        name=f"{name}_syn",
    )
    syn.connect(i=m.col.astype(np.int64), j=m.row.astype(np.int64))
    syn.w = m.data
    return [*objs, syn]


def build_ttfs(
    network: Network,
    plan: list[TtfsLayer],
    input_end: float,
    x: np.ndarray,
    *,
    tau_c: float,
    dt: float,
    interpolate: bool,
) -> TtfsBrian2Net:
    """Lower the plan (windows on the grid of ``dt``) for the samples ``x`` run in sequence."""
    steps = {lay.population.name: round(lay.t_min / dt) for lay in plan}
    period = steps[plan[-1].population.name] + 1
    flat = x.reshape(len(x), -1).astype(np.float64)
    k0 = round(input_end / dt)
    ns: dict[str, Any] = {
        "P_steps": period,
        "ramp": b2.volt / (tau_c * b2.second),
        "dt_step": dt * b2.second,
    }
    inp = _neuron_group(
        "ttfs_input", flat.shape[1], k_on=0, k_off=k0, ns=ns, interpolate=interpolate, lag=0
    )
    inp.namespace["xs"] = b2.TimedArray(flat, dt=period * dt * b2.second, name="ttfs_x")
    inp.namespace["T0"] = k0 * dt * b2.second
    inp.run_regularly(
        "theta = T0 * ramp - xs(t, i) * volt + int(xs(t, i) <= 0) * 1e9 * volt",
        dt=period * dt * b2.second,
        when="start",
        order=1,
        name="ttfs_input_theta",
    )
    out = TtfsBrian2Net(net=None, period_steps=period)
    out.spikes["input"] = b2.SpikeMonitor(inp, variables=["v"], name="ttfs_input_spikes")
    objs: list[Any] = [inp, out.spikes["input"]]
    groups: dict[int, Any] = {-1: inp}
    for index, lay in enumerate(plan):
        pop = lay.population
        name = f"ttfs_{pop.name}"
        group = _neuron_group(
            name,
            pop.size,
            k_on=steps[pop.name],
            k_off=None if lay.is_output else round(lay.t_max / dt),
            ns=ns,
            interpolate=interpolate,
        )
        if not lay.is_output:
            group.theta = lay.theta * b2.volt
        objs.append(group)
        for e, (edge, end) in enumerate(zip(pop.projections, lay.source_ends, strict=True)):
            shift = round((lay.t_min - end) / dt)
            objs += _projection(
                groups[edge.source], group, edge, shift, f"{name}_p{e}", ns, interpolate
            )
        if lay.is_output:
            out.readout = b2.StateMonitor(
                group,
                "v",
                record=True,
                dt=period * dt * b2.second,
                when="start",
                order=-1,
                name="ttfs_readout",
            )
            objs.append(out.readout)
        else:
            out.spikes[pop.name] = b2.SpikeMonitor(group, variables=["v"], name=f"{name}_spikes")
            objs.append(out.spikes[pop.name])
        groups[index] = group
    out.net = b2.Network(*objs)
    out.duration = (len(x) * period + 1) * dt * b2.second
    return out
