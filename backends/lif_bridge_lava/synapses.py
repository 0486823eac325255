r"""One incoming projection inside a process: max-pool gates, weights and delay (pure NumPy).

A :class:`Synapses` maps the source's output of one step ``z`` (spikes 0/1, or the analog
amounts of the constant-current encoder) to the voltage jumps of the target's neurons: first the
spiking max-pool gates of the projection (:class:`Gates`, :mod:`lif_bridge_lava.gate`, no
latency), then the composed matrix ``J`` (``W / C_m`` [V] in floating point, the stored integer
weights ``2·m`` in fixed point), then the projection's delay ``d`` (:class:`DelayLine`).

For spikes, the product touches only the synapses of the units that spiked (about 10-20 % of
them per step in the paper nets): the rows of ``J^T`` of the active units for a dense matrix,
their columns of a CSC matrix summed with ``np.bincount`` for a sparse one (a full matrix-vector
product costs the whole matrix every step, 3 M synapses for the paper CNN's second
convolution). Integer weights stay exact (float64 holds every sum below 2**53). Floating-point
sums run in another order than the reference backend's matrix products, as Lava's own
``Dense``/``Sparse`` did: the conformance tests check that the counts agree spike for spike.
No Lava import.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lif_bridge_lava.gate import gate_state, gate_step

__all__ = ["DelayLine", "Gates", "Synapses"]


@dataclass
class Gates:
    """The spiking max-pool stages of a projection and their state (counts, winners).

    Attributes
    ----------
    windows
        One ``(n_out, k)`` window array per stage (empty: nothing to gate).
    n_in
        Size of the first stage's input.
    """

    windows: list[np.ndarray]
    n_in: int
    _state: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def reset(self) -> None:
        """Forget the counts and winners (start of a sample window)."""
        sizes = [self.n_in] + [w.shape[0] for w in self.windows]
        self._state = [
            gate_state((), n, w.shape[0]) for n, w in zip(sizes, self.windows, strict=False)
        ]

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """Gate this step's input through every stage."""
        if self.windows and not self._state:
            self.reset()
        for win, (counts, winner) in zip(self.windows, self._state, strict=True):
            z = gate_step(win, counts, winner, z)
        return z


@dataclass
class DelayLine:
    """Returns in step ``n`` what it was given in step ``n - delay`` (zeros before)."""

    delay: int = 0
    _line: deque[np.ndarray] = field(default_factory=deque, repr=False)

    def reset(self) -> None:
        """Empty the line (start of a sample window)."""
        self._line = deque(maxlen=self.delay + 1)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Push ``x``; the value of ``delay`` steps ago."""
        if self._line.maxlen != self.delay + 1:
            self.reset()
        self._line.append(x)
        if len(self._line) <= self.delay:
            return np.zeros_like(x)
        return self._line[0]


@dataclass
class Synapses:
    """Gates, weights and delay of one projection.

    Attributes
    ----------
    matrix
        ``(n_out, n_gated)`` jumps: a dense array or a CSR matrix (float64 [V], or int64).
    gates
        The projection's max-pool stages.
    analog
        True when ``z`` carries amounts rather than spikes (constant-current encoder).
    delay
        Extra steps ``d``: the jumps of step ``n`` reach the neurons in step ``n + d``.
    """

    matrix: np.ndarray | sp.spmatrix
    gates: Gates
    analog: bool = False
    delay: int = 0
    _line: DelayLine = field(default_factory=DelayLine, repr=False)

    def __post_init__(self) -> None:
        m = self.matrix
        self.n_out = int(m.shape[0])
        self.dtype = np.dtype(m.dtype)
        if sp.issparse(m):
            csc = sp.csc_matrix(m)
            csc.sort_indices()
            self.matrix = csc
        else:
            self._rows = np.ascontiguousarray(np.asarray(m).T)  # one row per input unit
        self._line = DelayLine(self.delay)

    @property
    def n_in(self) -> int:
        """Size of the source's output."""
        return self.gates.n_in

    def reset(self) -> None:
        """Start of a sample window: fresh gates, empty delay line."""
        self.gates.reset()
        self._line.reset()

    def __call__(self, z: np.ndarray) -> np.ndarray:
        """The delayed jumps: ``J · gate(z)`` of ``delay`` steps ago."""
        return self._line(self.jumps(self.gates(z)))

    def jumps(self, z: np.ndarray) -> np.ndarray:
        """``J · z``: only the synapses of active units for spikes (see the module)."""
        m = self.matrix
        if self.analog:
            return np.asarray(m.dot(np.asarray(z, dtype=np.float64))).ravel()
        active = np.flatnonzero(np.asarray(z) > 0)
        if not sp.issparse(m):
            return self._rows[active].sum(axis=0)
        csc: sp.csc_matrix = m
        start, stop = csc.indptr[active], csc.indptr[active + 1]
        lengths = stop - start
        total = int(lengths.sum())
        if total == 0:
            return np.zeros(self.n_out, dtype=self.dtype)
        offsets = np.repeat(start - (np.cumsum(lengths) - lengths), lengths)
        at = offsets + np.arange(total)
        sums = np.bincount(csc.indices[at], weights=csc.data[at], minlength=self.n_out)
        return sums if self.dtype.kind == "f" else sums.astype(self.dtype)
