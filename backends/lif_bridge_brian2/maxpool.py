r"""The spiking max pool (contract phase C) as Brian2 objects, no Python per step.

The contract gives every window ``u`` a *winner* ``w``, the unit whose spikes pass. After this
step's spikes are added to the running counts (``c <- c + s``, counts since the start of the
sample window)::

    M = max_{j in window(u)} c_j
    if the winner w exists and c_w = M:  w stays          (an incumbent keeps a tie)
    else:  w <- the first j in window(u) with c_j = M      (window order: the row of
                                                            pool_windows(stage, shape)[u])
    z_u = s_w

and the winner is forgotten at every sample-window reset. Counts only grow, by at most one per
step, and the winner (once there is one) always has the largest count, so with ``c`` already
incremented and ``M_u`` still the previous maximum:

* the *candidates* are the spiking ``i`` in ``u`` with ``c_i > M_u`` (they had ``M_u`` and
  now lead); the maximum grows, ``M_u <- M_u + 1``, iff there is one;
* if the winner spiked it is a candidate and stays; otherwise the first candidate in window
  order becomes the winner (a non-spiking unit cannot have reached ``M_u + 1``);
* hence ``z_u = s_w = 1`` iff there is a candidate (the winner spiked, or the new winner did).

Everything is a sum over events, which Brian2 synapses compute exactly (``+=`` on integers is
order-free), in every code-generation target and in standalone mode. The first candidate is
found with a bit mask: the gate synapse of window tap ``t`` (its column in ``pool_windows``)
adds ``2**t`` to the window's mask, and a second pathway lets the candidate whose lower bits are
all clear (``mask % 2**t == 0``) name itself; masks are split into words of 30 taps so that
int32 never overflows. Per stage and step, in the ``synapses`` slot at increasing ``order``:

1. ``count``: one-to-one synapses from the units to themselves, ``c_pool_post += 1``;
2. ``gate`` (pathway ``scan``, one synapse per window tap):
   ``up_post += cand; kept_post += int(i == winner_post); mask<q>_post += cand*b<q>`` with
   ``cand = int(c_pool_pre > M_post)``;
3. ``gate`` (pathway ``pick``): ``nw_post += cand*first*(i + 1)``, ``first`` being 1 iff no
   lower tap is in the mask;
4. the window group's custom event ``pool`` (condition ``up > 0``, i.e. ``z_u = 1``) is
   checked; the layer's synapses (or the next max pool) listen to it with ``on_event='pool'``;
5. on ``pool``: ``M += 1``, ``winner`` becomes ``nw - 1`` unless ``kept``, the scratch is zeroed.

The window groups hold ``M``, the winner ``winner`` (an index into the pooled group, ``-1`` for
none) and ``c_pool`` when another max pool follows; the unit groups hold ``c_pool``; all are
reset at the start of every sample window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.connectivity import pool_windows
from lif_bridge.network import MaxPool2d

__all__ = ["COUNTER", "PoolStage", "add_maxpool"]

#: Name of the running-count variable a unit group needs when a max pool reads it.
COUNTER = "c_pool : integer  # spikes since the start of the sample window (max-pool gate)\n"

#: Window taps per int32 word of the first-candidate bit mask (2**30 - 1 still fits).
_TAPS_PER_WORD = 30


@dataclass
class PoolStage:
    """Brian2 objects of one max-pool stage."""

    name: str
    windows: b2.NeuronGroup
    count: b2.Synapses | None
    gate: b2.Synapses
    n_windows: int


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
    window: b2.Quantity,
    namespace: dict[str, Any],
    count: bool = True,
    windows_of: np.ndarray | None = None,
) -> tuple[PoolStage, int]:
    """Add one max-pool stage reading ``event`` of ``units``; return it and the next order.

    Each window passes the spikes of its winner only (see the module docstring): an incumbent
    keeps a tie, a new winner is the first unit of the window (row order of
    :func:`~lif_bridge.connectivity.pool_windows`) with the largest count, and the winner is
    forgotten at every sample-window reset. The stage takes ``order`` to ``order + 4``.

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
    window
        Length of a sample window: at every window start ``M``/``c_pool`` are zeroed and
        forget the winner ``winner``.
    namespace
        Constants of the code (``W_steps``).
    count
        Whether to add the ``count`` synapses; ``False`` when another stage already counts
        the spikes of ``units`` (two pools reading one group must not count them twice).
    windows_of
        The ``(n_out, k)`` window table (the core plan's ``GatePlan.windows``); default
        :func:`~lif_bridge.connectivity.pool_windows` of ``stage`` and ``shape``.
    """
    win = pool_windows(stage, shape) if windows_of is None else windows_of
    n_out, k = win.shape
    n_words = -(-k // _TAPS_PER_WORD)
    masks = [f"mask{q}" for q in range(n_words)]
    model = (
        "M : integer  # largest count in the window\n"
        "winner : integer  # index of the unit whose spikes pass, -1 for none\n"
        "up : integer\nkept : integer\nnw : integer\n"
        + "".join(f"{m} : integer\n" for m in masks)
        + (COUNTER if followed_by_pool else "")
    )
    windows = b2.NeuronGroup(
        n_out,
        model,
        events={"pool": "up > 0"},
        clock=clock,
        name=f"{name}_windows",
        namespace=namespace,
    )
    windows.winner = -1
    counter: b2.Synapses | None = None
    if count:
        counter = b2.Synapses(
            units,
            units,
            on_pre="c_pool_post += 1",
            on_event=event,
            clock=clock,
            name=f"{name}_count",
            namespace=namespace,
        )
        idx = np.arange(len(units), dtype=np.int32)
        counter.connect(i=idx, j=idx)  # arrays: no code generation (j="i" would compile)
        counter.pre.order = order  # a pathway runs at order -1 unless told otherwise
    # Per synapse (window tap t, word q = t // 30): b<q> = 2**(t % 30) in its own word, else 0;
    # L<q> = 2**30 for the words below t's (their mask must be 0), 2**(t % 30) for its own word
    # (no lower bit set), 1 above (no condition).
    cand = "int(c_pool_pre > M_post)"
    first = "*".join(f"int({m}_post % L{q} == 0)" for q, m in enumerate(masks))
    scan = f"up_post += {cand}\nkept_post += int(i == winner_post)\n" + "".join(
        f"{m}_post += {cand}*b{q}\n" for q, m in enumerate(masks)
    )
    gate = b2.Synapses(
        units,
        windows,
        model="".join(
            f"b{q} : integer (constant)\nL{q} : integer (constant)\n" for q in range(n_words)
        ),
        on_pre={"scan": scan, "pick": f"nw_post += {cand}*{first}*(i + 1)"},
        on_event={"scan": event, "pick": event},
        clock=clock,
        name=f"{name}_gate",
        namespace=namespace,
    )
    gate.connect(i=win.ravel().astype(np.int32), j=np.repeat(np.arange(n_out, dtype=np.int32), k))
    tap = np.tile(np.arange(k), n_out)  # synapses are stored in connect order
    word, bit = np.divmod(tap, _TAPS_PER_WORD)
    for q in range(n_words):
        setattr(gate, f"b{q}", np.where(word == q, 2**bit, 0).astype(np.int32))
        low = np.where(word == q, 2**bit, np.where(word > q, 2**_TAPS_PER_WORD, 1))
        setattr(gate, f"L{q}", low.astype(np.int32))
    gate.scan.order = order + 1
    gate.pick.order = order + 2
    windows.set_event_schedule("pool", when="synapses", order=order + 3)
    # The event is fixed once checked, so the bookkeeping may follow it at once; consumers of
    # 'pool' (the layer's synapses or the next max pool) take the orders from order + 5 on.
    scratch = "".join(f"\n{v} = 0" for v in ("up", "kept", "nw", *masks))
    windows.run_on_event(
        "pool",
        "M += 1\nwinner = int(kept > 0)*winner + int(kept == 0)*(nw - 1)" + scratch,
        when="synapses",
        order=order + 4,
    )
    reset = "M = 0\nwinner = -1" + ("\nc_pool = 0" if followed_by_pool else "")
    windows.run_regularly(reset, dt=window, when="start", name=f"{name}_window_reset")
    return PoolStage(stage.name, windows, counter, gate, n_out), order + 5
