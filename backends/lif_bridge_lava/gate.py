r"""The spiking max-pool gate of one stage, in NumPy (shared by the Lava model and ``fixedsim``).

The contract's rule (:mod:`lif_bridge.semantics`, phase C; executed by the reference backend's
``MaxPoolGate``): each window ``u`` has a *winner*, the unit whose spikes pass. After this step's
spikes are added to the running counts ``c`` (counts since the start of the sample window)::

    M = max_{j in window(u)} c_j
    if the winner w exists and c_w = M:  w stays          (an incumbent keeps a tie)
    else:  w <- the first j in window(u) with c_j = M      (window order: the rows of
                                                            pool_windows(stage, shape)[u])
    z_u = s_w                                             (1 iff the winner spiked this step)

A window whose counts are all zero has no winner yet (the reference examines only the windows
that hold a spike; the output is the same either way). The caller zeroes ``counts`` and sets
``winner`` to ``-1`` at the start of every sample window (:func:`gate_state`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["gate_state", "gate_step"]


def gate_state(lead: tuple[int, ...], n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Fresh state of one stage: zero counts ``lead + (n_in,)``, no winners ``lead + (n_out,)``."""
    counts = np.zeros((*lead, n_in), dtype=np.int64)
    winner = np.full((*lead, n_out), -1, dtype=np.int64)
    return counts, winner


def gate_step(
    windows: np.ndarray, counts: np.ndarray, winner: np.ndarray, z: np.ndarray
) -> np.ndarray:
    """Advance one stage by one step; ``counts`` and ``winner`` are updated in place.

    Parameters
    ----------
    windows
        ``(n_out, k)`` input units of each window, in window order.
    counts
        ``(..., n_in)`` running spike counts of the sample window.
    winner
        ``(..., n_out)`` input unit that wins each window, ``-1`` for none yet.
    z
        ``(..., n_in)`` this step's input (a unit spikes iff its value is ``> 0``).

    Returns
    -------
    ``(..., n_out)`` bool: the output spikes ``z_u = s_w``.
    """
    s = z > 0
    counts += s
    c = counts[..., windows]  # (..., n_out, k)
    top = c.max(axis=-1)
    held = np.take_along_axis(counts, np.maximum(winner, 0), axis=-1)
    keeps = (winner >= 0) & (held == top)
    first = windows[np.arange(windows.shape[0]), np.argmax(c == top[..., None], axis=-1)]
    winner[...] = np.where(keeps, winner, np.where(top > 0, first, -1))
    return (winner >= 0) & np.take_along_axis(s, np.maximum(winner, 0), axis=-1)
