r"""Compiled kernels of the reference backend: one population over all ``T`` steps of a batch.

A population receives the spikes of its source *in the same step* (phase C of
:mod:`lif_bridge.semantics`), and nothing else depends on it within the step, so a feed-forward
network is simulated exactly one population at a time: the source's whole train
``(batch, T, n_in)`` first, then the population over all ``T`` steps. Each kernel below fuses,
for one sample and one step, the synaptic input of that step (event-driven: only the non-zero
inputs are visited, cost ∝ active inputs × fan-out) with phases A-D of every neuron:

.. math::

    A:\; v \leftarrow ((v - v_\infty) d) + v_\infty \text{ (leaky) or } v + I\,dt/C_m
    \qquad B:\; s = v \ge v_{th}
    \qquad C:\; v \leftarrow v + \textstyle\sum_i z_i W_{ji} / C_{m,j}
    \qquad D:\; v \leftarrow v - v_{th} \text{ or } v_{reset}

with the refractory rule of phase D (``(n - n_last) < R``: no update, no threshold, input
dropped). The update is evaluated in exactly the IEEE operations and order of the NumPy
formulation (no fused multiply-add: numba's default, ``fastmath`` off), so membrane potentials
are bit-identical to it for the same jumps; the jumps are summed input by input in ascending
order (the contract lets a backend sum the jumps of one step in any order).

Samples of a batch run in parallel threads (``numba.prange``). All kernels are pure functions
of their arguments apart from writing the output arrays they are given.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lif_bridge.semantics import NEVER_SPIKED

__all__ = [
    "block_phases",
    "conv_population",
    "csr_population",
    "dense_population",
    "maxpool_gate",
]


@nb.njit(cache=True, inline="always")
def _phases(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr, s, count):  # type: ignore[no-untyped-def]
    """Phases A-D of every neuron of one sample at step ``t``; ``acc`` holds this step's jumps."""
    if refr > 0:
        _phases_refractory(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract,
                           refr, s, count)  # fmt: skip
        return
    for j in range(v.size):  # branch-free (selects), so that it vectorises
        vj = v[j]
        vj = (vj - v_inf[j]) * d[j] + v_inf[j] if leaky[j] else vj + if_step[j]
        spike = vj >= v_th[j]
        vj = vj + acc[j]
        after = vj - v_th[j] if subtract else v_reset[j]
        vj = after if spike else vj
        v[j] = vj
        count[j] += spike
        s[j] = spike


@nb.njit(cache=True, inline="always")
def _phases_refractory(
    v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr, s, count
):  # type: ignore[no-untyped-def]
    """:func:`_phases` with the refractory rule (``refr = R > 0`` steps)."""
    for j in range(v.size):
        frozen = t - last[j] < refr
        vj = v[j]
        if not frozen:
            vj = (vj - v_inf[j]) * d[j] + v_inf[j] if leaky[j] else vj + if_step[j]
        spike = (not frozen) and vj >= v_th[j]
        if spike:
            last[j] = t
        if t - last[j] >= refr:
            vj = vj + acc[j]
        if spike:
            vj = vj - v_th[j] if subtract else v_reset[j]
            count[j] += 1
            s[j] = 1
        v[j] = vj


@nb.njit(cache=True, parallel=True)
def dense_population(
    z, wt, d, v_inf, if_step, leaky, v_th, v_reset, v0, subtract, refr, out, counts, trace
):  # type: ignore[no-untyped-def]
    """A population with a dense synapse matrix over all steps.

    Parameters
    ----------
    z
        Inputs ``(batch, T, n_in)``: 0/1 spikes (uint8) or real values.
    wt
        ``(n_in, n_out)`` float64, ``W.T / C_m`` [V per unit of input].
    d, v_inf, if_step, leaky, v_th, v_reset, v0
        Per-neuron constants ``(n_out,)`` (``v0``: the initial potential, ``v_rest``).
    subtract, refr
        Reset by subtraction (else to ``v_reset``); refractory steps ``R``.
    out, counts, trace
        Written: spikes ``(batch, T, n_out)`` uint8 (zeroed by the caller), counts
        ``(batch, n_out)`` int64 (zeroed), and ``v`` after each step ``(batch, T, n_out)``
        (an array with a zero-sized first axis: not recorded).
    """
    b, steps, n_in = z.shape
    n_out = wt.shape[1]
    record = trace.shape[0] > 0
    for i in nb.prange(b):
        v = v0.copy()
        last = np.full(n_out, NEVER_SPIKED, dtype=np.int64)
        acc = np.empty(n_out)
        for t in range(steps):
            acc[:] = 0.0
            for k in range(n_in):
                zk = np.float64(z[i, t, k])
                if zk != 0.0:
                    for j in range(n_out):
                        acc[j] += wt[k, j] * zk
            _phases(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr,
                    out[i, t], counts[i])  # fmt: skip
            if record:
                trace[i, t, :] = v


@nb.njit(cache=True, parallel=True)
def csr_population(
    z,
    indptr,
    indices,
    data,
    d,
    v_inf,
    if_step,
    leaky,
    v_th,
    v_reset,
    v0,
    subtract,
    refr,
    out,
    counts,
    trace,
):  # type: ignore[no-untyped-def]
    """A population with a sparse synapse matrix given input by input (CSR of ``W.T / C_m``).

    ``indptr, indices, data`` is the ``(n_in, n_out)`` CSR matrix: the synapses of input ``k``
    are ``indices[indptr[k]:indptr[k+1]]`` with weights ``data[...]``. Other arguments as in
    :func:`dense_population`.
    """
    b, steps, n_in = z.shape
    n_out = v0.size
    record = trace.shape[0] > 0
    for i in nb.prange(b):
        v = v0.copy()
        last = np.full(n_out, NEVER_SPIKED, dtype=np.int64)
        acc = np.empty(n_out)
        for t in range(steps):
            acc[:] = 0.0
            for k in range(n_in):
                zk = np.float64(z[i, t, k])
                if zk != 0.0:
                    for p in range(indptr[k], indptr[k + 1]):
                        acc[indices[p]] += data[p] * zk
            _phases(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr,
                    out[i, t], counts[i])  # fmt: skip
            if record:
                trace[i, t, :] = v


@nb.njit(cache=True, parallel=True)
def conv_population(
    z,
    pool_ptr,
    pool_idx,
    pool_val,
    n_mid,
    pix_ptr,
    pix_tap,
    pix_out,
    wb,
    group_in,
    d,
    v_inf,
    if_step,
    leaky,
    v_th,
    v_reset,
    v0,
    subtract,
    refr,
    out,
    counts,
    trace,
):  # type: ignore[no-untyped-def]
    """A convolution population, with the average pooling before it applied first (pool, then conv).

    Parameters
    ----------
    z
        Source values ``(batch, T, n_src)``.
    pool_ptr, pool_idx, pool_val, n_mid
        The linear stages between source and convolution as a ``(n_src, n_mid)`` CSR matrix
        (source unit -> pooled units with their weights); an empty ``pool_ptr``: no stage, the
        convolution receives ``z`` itself (``n_mid = n_src``).
    pix_ptr, pix_tap, pix_out
        For each input pixel ``q`` (``y·W + x``), the kernel taps that reach an output pixel:
        tap ``pix_tap[m]`` to output pixel ``pix_out[m]`` for ``m`` in ``pix_ptr[q]:pix_ptr[q+1]``.
    wb
        ``(C_in, taps, og)``: the weights of input channel ``c`` at each tap to the ``og`` output
        channels of its group, divided by their ``C_m``.
    group_in
        Input channels per group (``C_in / groups``).

    The jumps of one step are accumulated channels-last, ``(pixel, channel)``, so that each tap
    adds one contiguous run of ``og`` weights; neurons are in C order ``(channel, pixel)``.
    Other arguments as in :func:`dense_population`.
    """
    b, steps, n_src = z.shape
    n_out = v0.size
    og = wb.shape[2]
    hw_in = pix_ptr.size - 1
    n_ch = og * (wb.shape[0] // group_in)  # output channels: og per group
    n_pix = n_out // n_ch
    pooled = pool_ptr.size > 0
    record = trace.shape[0] > 0
    for i in nb.prange(b):
        v = v0.copy()
        last = np.full(n_out, NEVER_SPIKED, dtype=np.int64)
        mid = np.zeros(n_mid)
        acc_cl = np.empty(n_out)
        acc = np.empty(n_out)
        for t in range(steps):
            if pooled:
                mid[:] = 0.0
                for k in range(n_src):
                    zk = np.float64(z[i, t, k])
                    if zk != 0.0:
                        for p in range(pool_ptr[k], pool_ptr[k + 1]):
                            mid[pool_idx[p]] += pool_val[p] * zk
            else:
                for k in range(n_src):
                    mid[k] = np.float64(z[i, t, k])
            acc_cl[:] = 0.0
            for u in range(n_mid):
                zu = mid[u]
                if zu != 0.0:
                    c = u // hw_in
                    q = u - c * hw_in
                    base = (c // group_in) * og
                    for m in range(pix_ptr[q], pix_ptr[q + 1]):
                        tap = pix_tap[m]
                        o0 = pix_out[m] * n_ch + base
                        for o in range(og):
                            acc_cl[o0 + o] += wb[c, tap, o] * zu
            for ch in range(n_ch):
                for px in range(n_pix):
                    acc[ch * n_pix + px] = acc_cl[px * n_ch + ch]
            _phases(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr,
                    out[i, t], counts[i])  # fmt: skip
            if record:
                trace[i, t, :] = v


@nb.njit(cache=True, parallel=True)
def maxpool_gate(s, windows, out):  # type: ignore[no-untyped-def]
    """The spiking max pool over all steps (incumbent keeps a tie; else the first maximum).

    Parameters
    ----------
    s
        Spikes ``(batch, T, n_in)`` uint8.
    windows
        ``(n_out, k)`` input units of each window, in row-major window order.
    out
        Written: the passed spikes ``(batch, T, n_out)`` uint8, zeroed by the caller.

    Only windows with a spike in the step are examined: the counts of the others do not change,
    and neither does their winner under the rule of :mod:`lif_bridge.semantics`.
    """
    b, steps, n_in = s.shape
    n_out, k = windows.shape
    for i in nb.prange(b):
        counts = np.zeros(n_in, dtype=np.int64)
        winner = np.full(n_out, -1, dtype=np.int64)
        for t in range(steps):
            st = s[i, t]
            for unit in range(n_in):
                if st[unit]:
                    counts[unit] += 1
            for u in range(n_out):
                touched = False
                top = -1
                for m in range(k):
                    unit = windows[u, m]
                    if st[unit]:
                        touched = True
                    if counts[unit] > top:
                        top = counts[unit]
                if not touched:
                    continue
                w = winner[u]
                if w < 0 or counts[w] != top:
                    for m in range(k):
                        if counts[windows[u, m]] == top:
                            w = windows[u, m]
                            break
                    winner[u] = w
                out[i, t, u] = st[w]


@nb.njit(cache=True, parallel=True)
def block_phases(
    total, t0, v, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr, out, counts, trace
):  # type: ignore[no-untyped-def]
    """Phases A-D of a population over a block of ``L`` steps whose input jumps are known.

    Parameters
    ----------
    total
        Input jumps ``(L, batch, n)`` float64 [V] of steps ``t0 .. t0 + L - 1``.
    t0
        Index of the block's first step.
    v, last
        State ``(batch, n)``, updated in place: potentials [V] and step of the last spike
        (int64; read only when ``refr > 0``).
    d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr
        As in :func:`dense_population`.
    out, counts, trace
        Written: spikes ``(L, batch, n)`` uint8 (zeroed by the caller), counts ``(batch, n)``
        int64 (accumulated), and ``v`` after each step into ``trace[:, t0 + l, :]``
        (``(batch, T, n)``, or a zero-sized first axis: not recorded).
    """
    steps, b = total.shape[0], total.shape[1]
    record = trace.shape[0] > 0
    for i in nb.prange(b):
        for n in range(steps):
            _phases(v[i], total[n, i], t0 + n, last[i], d, v_inf, if_step, leaky, v_th, v_reset,
                    subtract, refr, out[n, i], counts[i])  # fmt: skip
            if record:
                trace[i, t0 + n, :] = v[i]
