r"""The count-gated spiking max pool (contract phase C) as Brian2 objects, no Python per step.

For a stage with input units ``i`` (a population, the input group, or the windows of a previous
max pool) and windows ``u``, the contract lets a spike of unit ``i`` through window ``u`` iff
its running count, this step's spike included, is (or ties for) the largest in the window:
``z_u = OR_i [s_i = 1 and c_i = max_j c_j]``.

Counts only grow, by at most one per step, so the window maximum ``M_u`` can be tracked as a
number. With ``c_i`` already incremented for this step and ``M_u`` still the previous maximum:

* ``z_u = 1``  iff some spiking ``i`` in ``u`` has ``c_i >= M_u``
  (either it was at the maximum and now leads it, or it has just caught up with it);
* ``M_u <- M_u + 1`` iff some spiking ``i`` in ``u`` has ``c_i > M_u``.

Both are sums over events, which Brian2 synapses compute exactly (``+=`` on integers is
order-free), in every code-generation target and in standalone mode. Per stage and step, in
the ``synapses`` slot at increasing ``order``:

1. ``count``: one-to-one synapses from the units to themselves, ``c_pool_post += 1``;
2. ``gate``: synapses unit -> window (one per window tap),
   ``hit_post += int(c_pool_pre >= M_post); up_post += int(c_pool_pre > M_post)``;
3. the window group's custom event ``pool`` (condition ``hit > 0``) is checked; the layer's
   synapses (or the next max pool) listen to it with ``on_event='pool'``;
4. on ``pool``: ``M += int(up > 0); hit = 0; up = 0``.

The window groups hold ``M`` (and ``c_pool`` when another max pool follows); the unit groups
hold ``c_pool``; both are zeroed at the start of every sample window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.connectivity import pool_windows
from lif_bridge.network import MaxPool2d

__all__ = ["COUNTER", "MaxPoolChain", "PoolStage", "add_maxpool"]

#: Name of the running-count variable a unit group needs when a max pool reads it.
COUNTER = "c_pool : integer  # spikes since the start of the sample window (max-pool gate)\n"


@dataclass
class PoolStage:
    """Brian2 objects of one max-pool stage."""

    name: str
    windows: b2.NeuronGroup
    count: b2.Synapses
    gate: b2.Synapses
    n_windows: int


@dataclass
class MaxPoolChain:
    """The stages between a unit group and a weighted layer, and the next free ``order``."""

    stages: list[PoolStage] = field(default_factory=list)
    order: int = 0

    @property
    def objects(self) -> list[Any]:
        """Every Brian2 object of the chain (for the network)."""
        return [o for st in self.stages for o in (st.windows, st.count, st.gate)]


def add_maxpool(
    units: b2.NeuronGroup,
    event: str,
    stage: MaxPool2d,
    shape: tuple[int, ...],
    *,
    followed_by_pool: bool,
    name: str,
    order: int,
    clock: b2.Clock,
    window_reset: str,
    namespace: dict[str, Any],
) -> tuple[PoolStage, int]:
    """Add one max-pool stage reading ``event`` of ``units``; return it and the next order.

    Parameters
    ----------
    units
        Group whose events are pooled; it must declare :data:`COUNTER`.
    event
        ``"spike"`` (a population or the input) or ``"pool"`` (a previous max pool).
    stage, shape
        The layer and its input shape ``(C, H, W)``.
    followed_by_pool
        Whether another max pool reads this one (its windows then need a counter too).
    name
        Brian2 name prefix (a valid identifier).
    order
        First ``order`` to use in the ``synapses`` slot.
    clock
        The simulation clock.
    window_reset
        Code snippet with ``new_w`` (1 at a window start) used to zero ``M``/``c_pool``.
    namespace
        Constants of the code (``W_steps``).
    """
    win = pool_windows(stage, shape)
    n_out, k = win.shape
    model = "M : integer\nhit : integer\nup : integer\n" + (COUNTER if followed_by_pool else "")
    windows = b2.NeuronGroup(
        n_out,
        model,
        events={"pool": "hit > 0"},
        clock=clock,
        name=f"{name}_windows",
        namespace=namespace,
    )
    count = b2.Synapses(
        units,
        units,
        on_pre="c_pool_post += 1",
        on_event=event,
        clock=clock,
        name=f"{name}_count",
        namespace=namespace,
    )
    count.connect(j="i")
    count.pre.order = order  # a pathway runs at order -1 unless told otherwise
    gate = b2.Synapses(
        units,
        windows,
        on_pre="hit_post += int(c_pool_pre >= M_post)\nup_post += int(c_pool_pre > M_post)",
        on_event=event,
        clock=clock,
        name=f"{name}_gate",
        namespace=namespace,
    )
    gate.connect(i=win.ravel(), j=np.repeat(np.arange(n_out), k))
    gate.pre.order = order + 1
    windows.set_event_schedule("pool", when="synapses", order=order + 2)
    # Consumers of the 'pool' event take orders order+3 .. order+4; the bookkeeping runs last.
    windows.run_on_event(
        "pool", "M += int(up > 0)\nhit = 0\nup = 0", when="synapses", order=order + 5
    )
    reset = "M = M*(1 - new_w)" + ("\nc_pool = c_pool*(1 - new_w)" if followed_by_pool else "")
    windows.run_regularly(window_reset + reset, when="start", name=f"{name}_window_reset")
    return PoolStage(stage.name, windows, count, gate, n_out), order + 3
