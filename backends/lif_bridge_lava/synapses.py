r"""One incoming projection held inside a population's process: max-pool gates and weights.

A :class:`Synapses` maps the source's output of one step ``z`` (spikes 0/1, or the analog
amounts of the constant-current encoder) to the voltage jumps of the target's neurons: first the
spiking max-pool gates of the projection (:mod:`lif_bridge_lava.gate`, no latency), then the
composed matrix ``J`` (``W / C_m`` [V] in floating point, the stored integer weights ``2·m`` in
fixed point). The products are written as Lava's own ``Dense``/``Sparse`` models write them
(``J[:, s].sum(axis=1)`` for a dense matrix and binary input, ``J @ z`` otherwise; a CSR
matrix with sorted indices adds the same terms in the same order either way), so moving the
synapses into the neuron process leaves every count as it was with separate connection
processes. Pure NumPy/SciPy: no Lava import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from lif_bridge_lava.gate import gate_state, gate_step

__all__ = ["Synapses"]


@dataclass
class Synapses:
    """Gates and weights of one projection (state: the gates' counts and winners).

    Attributes
    ----------
    matrix
        ``(n_out, n_gated)`` jumps: a dense array or a CSR matrix (float64 [V], or int64).
    windows
        One ``(n_out_stage, k)`` window array per max-pool stage (empty: no gate).
    n_in
        Size of the source's output (the gate's input).
    analog
        True when ``z`` carries amounts rather than spikes (constant-current encoder).
    """

    matrix: np.ndarray | sp.csr_matrix
    windows: list[np.ndarray]
    n_in: int
    analog: bool = False
    _gates: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        if sp.issparse(self.matrix):
            m = sp.csr_matrix(self.matrix)
            m.sort_indices()
            self.matrix = m

    def reset(self) -> None:
        """Forget the gates' counts and winners (start of a sample window)."""
        sizes = [self.n_in] + [w.shape[0] for w in self.windows]
        self._gates = [
            gate_state((), n, w.shape[0]) for n, w in zip(sizes, self.windows, strict=False)
        ]

    def jumps(self, z: np.ndarray) -> np.ndarray:
        """The jumps ``J · gate(z)`` of this step (gates advance by one step)."""
        if self.windows and not self._gates:
            self.reset()
        for win, (counts, winner) in zip(self.windows, self._gates, strict=True):
            z = gate_step(win, counts, winner, z)
        m = self.matrix
        if self.analog:
            return np.asarray(m.dot(np.asarray(z, dtype=np.float64))).ravel()
        s = np.asarray(z) > 0
        if sp.issparse(m):
            return np.asarray(m @ s.astype(m.dtype)).ravel()
        return np.asarray(m[:, s].sum(axis=1)).ravel()
