"""Synaptic operators of the reference backend: dense, convolution, pooling gates.

Each operator maps the values a population receives in one step, ``(batch, n_in)``, to the
voltage jumps of its neurons, ``(batch, n_out)`` = ``z @ (W / C_m).T``. Binary spike batches
that are sparse take an event-driven sparse product (cost ∝ spikes × fan-out); dense batches
and analog inputs take a BLAS product (GEMM for dense layers, im2col + GEMM for convolutions).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numpy.lib.stride_tricks import sliding_window_view

from lif_bridge.connectivity import pool_windows
from lif_bridge.network import Conv2d, MaxPool2d
from lif_bridge.plan import ProjectionPlan

#: Below this fraction of non-zero inputs the sparse, event-driven product is used.
SPARSE_BELOW = 0.04


class SynapticOp:
    """``z -> z @ (W / C_m).T`` for one projection of the plan (its linear stages composed in).

    ``z`` is what leaves the projection's max-pool gates (if any), flattened; the matrix, its
    dense copy and the convolution kernel come from :class:`lif_bridge.plan.ProjectionPlan`.
    """

    def __init__(self, proj: ProjectionPlan) -> None:
        self.n_in = proj.n_in
        self.sparse_t = sp.csr_matrix(proj.matrix.T)
        self.conv: tuple[np.ndarray, Conv2d, tuple[int, ...]] | None = None
        self.dense_t: np.ndarray | None = None
        if proj.conv is not None:
            self.conv = (proj.conv.weight, proj.conv.layer, proj.conv.in_shape)
        else:
            self.dense_t = proj.dense

    def spikes(self, flat: np.ndarray, batch: int) -> np.ndarray:
        """Voltage jumps ``(batch, n_out)`` [V] for 0/1 spikes given by their flat indices.

        ``flat`` indexes the ``(batch, n_in)`` spike array in C order. Few spikes take the
        event-driven path (the synapse rows of the spiking inputs are summed); many take BLAS.
        """
        if flat.size < SPARSE_BELOW * batch * self.n_in or (
            self.dense_t is None and self.conv is None
        ):
            rows, cols = np.divmod(flat, self.n_in)
            indptr = np.searchsorted(rows, np.arange(batch + 1))
            z = sp.csr_matrix((np.ones(flat.size), cols, indptr), shape=(batch, self.n_in))
            return np.asarray((z @ self.sparse_t).toarray())
        dense = np.zeros(batch * self.n_in)
        dense[flat] = 1.0
        return self.values(dense.reshape(batch, self.n_in))

    def values(self, z: np.ndarray) -> np.ndarray:
        """Voltage jumps ``(batch, n_out)`` [V] for real-valued inputs ``z`` ``(batch, n_in)``."""
        if self.dense_t is not None:
            return z @ self.dense_t
        if self.conv is not None:
            return _conv_blas(z, *self.conv)
        return np.asarray((sp.csr_matrix(z) @ self.sparse_t).toarray())


def _conv_blas(
    z: np.ndarray, w: np.ndarray, layer: Conv2d, in_shape: tuple[int, ...]
) -> np.ndarray:
    """Convolution by im2col + GEMM (``tensordot``), groups one at a time."""
    b = z.shape[0]
    c, h, wd = in_shape
    x = z.reshape(b, c, h, wd)
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation  # type: ignore[misc]
    kh, kw = w.shape[2:]
    if ph or pw:
        x = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    win = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]
    g = layer.groups
    og, cg = w.shape[0] // g, w.shape[1]
    outs = []
    for k in range(g):
        part = win[:, k * cg : (k + 1) * cg]
        outs.append(np.tensordot(part, w[k * og : (k + 1) * og], axes=([1, 4, 5], [1, 2, 3])))
    out = np.concatenate(outs, axis=3) if g > 1 else outs[0]
    return np.ascontiguousarray(out.transpose(0, 3, 1, 2)).reshape(b, -1)


class MaxPoolGate:
    """The spiking max pool of one stage: running counts and a winner per window (stateful).

    Event-driven: only the windows that contain a spike of this step are examined (their counts
    are the only ones that change), so the cost grows with the number of spikes.
    """

    def __init__(self, stage: MaxPool2d, shape: tuple[int, ...]) -> None:
        self.windows = pool_windows(stage, shape)
        self.n_in = int(np.prod(shape))
        self.n_out = self.windows.shape[0]
        # Inverse map input unit -> the windows holding it (several if windows overlap).
        units = self.windows.ravel()
        order = np.argsort(units, kind="stable")
        self._win_of = np.repeat(np.arange(self.n_out), self.windows.shape[1])[order]
        self._indptr = np.searchsorted(units[order], np.arange(self.n_in + 1))
        self.counts: np.ndarray | None = None
        self.winner: np.ndarray | None = None

    def reset(self, batch: int) -> None:
        """Zero the running counts and forget the winners (start of a sample window)."""
        self.counts = np.zeros((batch, self.n_in), dtype=np.int64)
        self.winner = np.full((batch, self.n_out), -1, dtype=np.int64)

    def __call__(self, flat: np.ndarray, batch: int) -> np.ndarray:
        """Gate this step's spikes (flat indices into ``(batch, n_in)``).

        Returns the flat indices of the output spikes in ``(batch, n_out)``, sorted.
        """
        if self.counts is None or self.winner is None:
            raise RuntimeError("MaxPoolGate.reset must be called before the first step")
        if flat.size == 0:
            return flat
        b, i = np.divmod(flat, self.n_in)
        self.counts[b, i] += 1
        # every (sample, window) touched by a spike of this step, once
        lo, hi = self._indptr[i], self._indptr[i + 1]
        reps = hi - lo
        pos = np.repeat(lo - np.cumsum(reps) + reps, reps) + np.arange(reps.sum())
        key = np.unique(np.repeat(b, reps) * self.n_out + self._win_of[pos])
        bw, u = np.divmod(key, self.n_out)
        members = self.windows[u]  # (touched, k)
        c = self.counts[bw[:, None], members]
        top = c.max(axis=1)
        cur = self.winner[bw, u]
        keeps = (cur >= 0) & (self.counts[bw, np.maximum(cur, 0)] == top)
        first_max = members[np.arange(len(u)), np.argmax(c == top[:, None], axis=1)]
        win = np.where(keeps, cur, first_max)
        self.winner[bw, u] = win
        spiking = np.zeros(batch * self.n_in, dtype=bool)
        spiking[flat] = True
        passed = spiking[bw * self.n_in + win]
        return key[passed]


__all__ = ["MaxPoolGate", "SynapticOp"]
