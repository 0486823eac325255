r"""Compiled kernels of the reference backend: a population over a block of steps, and its gates.

A population receives the spikes of its sources *in the same step* (phase C of
:mod:`lif_bridge.semantics`) and nothing else depends on it within that step, so a feed-forward
network (chain or graph) is simulated exactly one population at a time, in topological order:
every source's train of a block of steps first, then the population over the block.
:func:`population_block` fuses, for one sample and one step, the synaptic input of every
incoming projection (event-driven: only the non-zero inputs are visited, cost ∝ active inputs ×
fan-out) with phases A-D of every neuron:

.. math::

    A:\; v \leftarrow ((v - v_\infty) d) + v_\infty \text{ (leaky) or } v + I\,dt/C_m
    \qquad B:\; s = v \ge v_{th}
    \qquad C:\; v \leftarrow v + \textstyle\sum_i z_i W_{ji} / C_{m,j}
    \qquad D:\; v \leftarrow v - v_{th} \text{ or } v_{reset}

with the refractory rule of phase D (``(n - n_last) < R``: no update, no threshold, input
dropped). Phases A-D are evaluated in the IEEE operations and order of the NumPy formulation
(no fused multiply-add: numba's default, ``fastmath`` off), so potentials are bit-identical to it
for the same jumps; a step's jumps are summed projection by projection, input by input in
ascending order (the contract lets a backend sum the jumps of one step in any order).

Samples of a batch run in parallel threads (``numba.prange``). Arrays are laid out
``(steps, batch, units)``, as the simulator's blocks. The kernels write only the arrays they are
given for output or state.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = [
    "A0",
    "CONV",
    "CSR",
    "DENSE",
    "KIND",
    "META_COLUMNS",
    "N_IN",
    "Z_OFF",
    "gate_block",
    "gate_block_serial",
    "population_block",
    "population_block_serial",
]

#: Synapse forms of a projection (``kinds`` of :func:`population_block`).
DENSE, CSR, CONV = 0, 1, 2


@nb.njit(cache=True)
def _phases(v, acc, t, last, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr, s, count):  # type: ignore[no-untyped-def]
    """Phases A-D of every neuron of one sample at step ``t``; ``acc`` holds this step's jumps."""
    if refr > 0:
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
            s[j] = spike
            v[j] = vj
        return
    if subtract:  # branch-free loops (selects), one per reset, so that they vectorise
        for j in range(v.size):
            vj = v[j]
            vj = (vj - v_inf[j]) * d[j] + v_inf[j] if leaky[j] else vj + if_step[j]
            spike = vj >= v_th[j]
            vj = vj + acc[j]
            v[j] = vj - v_th[j] if spike else vj
            count[j] += spike
            s[j] = spike
        return
    for j in range(v.size):
        vj = v[j]
        vj = (vj - v_inf[j]) * d[j] + v_inf[j] if leaky[j] else vj + if_step[j]
        spike = vj >= v_th[j]
        v[j] = v_reset[j] if spike else vj + acc[j]
        count[j] += spike
        s[j] = spike


#: Columns of a projection's row in ``meta`` (:func:`population_block`).
KIND, Z_OFF, N_IN = 0, 1, 2
#: DENSE: ``W.T / C_m`` ``(n_in, n)`` at ``floats[A0:]``. CSR: ``indptr`` (relative) at
#: ``ints[A0:]``, ``indices`` at ``ints[A1:]``, ``data`` at ``floats[A2:]``. CONV: see
#: :class:`lif_bridge_reference.forms.ConvForm` (``A0 = -1``: no pooling before it).
A0 = 3
META_COLUMNS = A0 + 14


#: Most float64 jumps one sample holds at once (a tile of steps): a few hundred KiB, in L2.
TILE_FLOATS = 32_768
#: Most steps per tile.
TILE_STEPS = 64


@nb.njit(cache=True, inline="always")
def _conv_step(z, m, ints, floats, mid, acc_cl, acc):  # type: ignore[no-untyped-def]
    """Add one step's convolution jumps of input ``z`` to ``acc`` (average pooling first).

    ``m`` is the projection's ``meta`` row: ``A0..A2`` the pooling CSR (``A0 = -1``: none),
    ``A3`` units read, ``A4`` pixels per input channel, ``A5`` output channels, ``A6`` input
    channels per group, ``A7..A9`` and ``A13`` the tap table in runs, ``A10`` the weights
    ``(C_in, taps, og)`` (taps reversed), ``A11`` taps, ``A12`` output channels per group. The
    taps' jumps are summed from zero channels-last (input by input; an input reaches each
    output unit through one tap, so the order of its runs does not matter), then added to
    ``acc``.
    """
    n_mid, hw_in, n_ch, group_in = m[A0 + 3], m[A0 + 4], m[A0 + 5], m[A0 + 6]
    pp, pt, po, wo, taps, og = m[A0 + 7], m[A0 + 8], m[A0 + 9], m[A0 + 10], m[A0 + 11], m[A0 + 12]
    pl = m[A0 + 13]
    n = acc.size
    n_pix = n // n_ch
    pooled = m[A0] >= 0
    if pooled:  # the linear stages, source unit -> pooled units
        ptr, idx, val = m[A0], m[A0 + 1], m[A0 + 2]
        mid[:n_mid] = 0.0
        for k in range(z.size):
            if z[k]:
                for p in range(ints[ptr + k], ints[ptr + k + 1]):
                    mid[ints[idx + p]] += floats[val + p]
    acc_cl[:] = 0.0
    for u in range(n_mid):
        zu = mid[u] if pooled else (1.0 if z[u] else 0.0)
        if zu != 0.0:
            c = u // hw_in
            q = u - c * hw_in
            base = (c // group_in) * og
            row = wo + c * taps * og
            for e in range(ints[pp + q], ints[pp + q + 1]):
                w0 = row + ints[pt + e] * og
                o0 = ints[po + e] * n_ch + base
                span = ints[pl + e] * og
                w = floats[w0 : w0 + span]
                a = acc_cl[o0 : o0 + span]
                if pooled:
                    for o in range(span):
                        a[o] += w[o] * zu
                else:  # zu = 1: w * 1.0 is w, bit for bit
                    for o in range(span):
                        a[o] += w[o]
    for px in range(n_pix):
        a = acc_cl[px * n_ch : (px + 1) * n_ch]
        for ch in range(n_ch):
            acc[ch * n_pix + px] += a[ch]


@nb.njit(cache=True, inline="always")
def _dense_step(zk, floats, w0, act, a):  # type: ignore[no-untyped-def]
    """Add one step's jumps of a dense projection (``W.T / C_m`` at ``floats[w0:]``) to ``a``.

    The rows of the spiking inputs are added in ascending input order, eight at a time:
    ``a + r0 + r1 + ... + r7`` evaluated left to right is the very sequence of roundings of
    adding them one by one, with one load and store of ``a`` instead of eight.
    """
    n = a.size
    k = 0
    for u in range(zk.size):  # the spiking inputs, ascending (branch-free)
        act[k] = u
        k += zk[u] != 0
    m = 0
    while m + 8 <= k:
        r0, r1 = floats[w0 + act[m] * n :], floats[w0 + act[m + 1] * n :]
        r2, r3 = floats[w0 + act[m + 2] * n :], floats[w0 + act[m + 3] * n :]
        r4, r5 = floats[w0 + act[m + 4] * n :], floats[w0 + act[m + 5] * n :]
        r6, r7 = floats[w0 + act[m + 6] * n :], floats[w0 + act[m + 7] * n :]
        for j in range(n):
            a[j] = a[j] + r0[j] + r1[j] + r2[j] + r3[j] + r4[j] + r5[j] + r6[j] + r7[j]
        m += 8
    while m < k:
        r0 = floats[w0 + act[m] * n :]
        for j in range(n):
            a[j] += r0[j]
        m += 1


@nb.njit(cache=True, inline="always")
def _sample(i, z, meta, ints, floats, const, t0, v, last, d, v_inf, if_step, leaky, v_th,
            v_reset, subtract, refr, out, counts, trace):  # type: ignore[no-untyped-def]  # fmt: skip
    """Sample ``i`` of :func:`population_block` over the block, a tile of steps at a time."""
    steps, n = out.shape[0], out.shape[2]
    scratch = 1
    for k in range(meta.shape[0]):
        if meta[k, KIND] == CONV:
            scratch = max(scratch, meta[k, A0 + 3])
    tile = max(1, min(TILE_STEPS, steps, TILE_FLOATS // max(n, 1)))
    acc = np.empty((tile, n))
    acc_cl = np.empty(n)
    mid = np.empty(scratch)
    act = np.empty(max(1, z.shape[2]), np.int64)
    vi, li = v[i], last[i]
    for s0 in range(0, steps, tile):
        nt = min(tile, steps - s0)
        for t in range(nt):
            if const.shape[0] > 0:
                acc[t] = const[i]
            else:
                acc[t] = 0.0
        for k in range(meta.shape[0]):
            m = meta[k]
            lo, n_in = m[Z_OFF], m[N_IN]
            for t in range(nt):
                zk = z[s0 + t, i, lo : lo + n_in]
                if m[KIND] == DENSE:
                    _dense_step(zk, floats, m[A0], act, acc[t])
                elif m[KIND] == CSR:
                    ptr, idx, val = m[A0], m[A0 + 1], m[A0 + 2]
                    a = acc[t]
                    for u in range(n_in):
                        if zk[u]:
                            for p in range(ints[ptr + u], ints[ptr + u + 1]):
                                a[ints[idx + p]] += floats[val + p]
                else:
                    _conv_step(zk, m, ints, floats, mid, acc_cl, acc[t])
        for t in range(nt):
            _phases(vi, acc[t], t0 + s0 + t, li, d, v_inf, if_step, leaky, v_th, v_reset,
                    subtract, refr, out[s0 + t, i], counts[i])  # fmt: skip
            if trace.shape[0] > 0:
                trace[i, t0 + s0 + t, :] = vi


@nb.njit(cache=True, parallel=True)
def population_block(z, meta, ints, floats, const, t0, v, last, d, v_inf, if_step, leaky, v_th,
                     v_reset, subtract, refr, out, counts, trace):  # type: ignore[no-untyped-def]  # fmt: skip
    """One population over a block of ``L`` steps, all its projections fused with phases A-D.

    Parameters
    ----------
    z
        ``(L, batch, sum n_in)`` uint8 0/1: what each spiking projection delivers in each step
        (after its max-pool gates and delay line), side by side along the last axis.
    meta
        ``(projections, META_COLUMNS)`` int64, one row per spiking projection: its form
        (:data:`DENSE`, :data:`CSR`, :data:`CONV`), its columns in ``z`` (``Z_OFF``, ``N_IN``)
        and the offsets of its arrays in ``ints`` and ``floats`` (see :data:`A0`).
    ints, floats
        The synapse arrays of every projection, concatenated (int64 indices, float64 weights
        [V per spike], each divided by the target neuron's ``C_m``).
    const
        ``(batch, n)`` jumps added every step (the ConstantCurrent encoder's projection), or a
        zero-sized array: none.
    t0
        Index of the block's first step.
    v, last
        State ``(batch, n)``, updated in place: potentials [V] and step of the last spike (int64;
        read only when ``refr > 0``).
    d, v_inf, if_step, leaky, v_th, v_reset
        Per-neuron constants ``(n,)`` of :class:`lif_bridge.plan.PopulationPlan`.
    subtract, refr
        Reset by subtraction (else to ``v_reset``); refractory steps ``R``.
    out, counts, trace
        Written: spikes ``(L, batch, n)`` uint8, counts ``(batch, n)`` int64 (accumulated), and
        ``v`` after each step into ``trace[:, t0 + l, :]`` (``(batch, T, n)``, or a zero-sized
        array: not recorded).
    """
    for i in nb.prange(out.shape[1]):
        _sample(i, z, meta, ints, floats, const, t0, v, last, d, v_inf, if_step, leaky, v_th,
                v_reset, subtract, refr, out, counts, trace)  # fmt: skip


@nb.njit(cache=True)
def population_block_serial(z, meta, ints, floats, const, t0, v, last, d, v_inf, if_step, leaky,
                            v_th, v_reset, subtract, refr, out, counts, trace):  # type: ignore[no-untyped-def]  # fmt: skip
    """:func:`population_block` in the calling thread (for small blocks)."""
    for i in range(out.shape[1]):
        _sample(i, z, meta, ints, floats, const, t0, v, last, d, v_inf, if_step, leaky, v_th,
                v_reset, subtract, refr, out, counts, trace)  # fmt: skip


@nb.njit(cache=True)
def _windows_of(windows, n_in):  # type: ignore[no-untyped-def]
    """Inverse of ``windows``: the windows holding input unit ``q`` are ``idx[ptr[q]:ptr[q+1]]``."""
    ptr = np.zeros(n_in + 1, np.int64)
    for unit in windows.ravel():
        ptr[unit + 1] += 1
    for q in range(n_in):
        ptr[q + 1] += ptr[q]
    fill = ptr[:-1].copy()
    idx = np.empty(windows.size, np.int64)
    for u in range(windows.shape[0]):
        for m in range(windows.shape[1]):
            q = windows[u, m]
            idx[fill[q]] = u
            fill[q] += 1
    return ptr, idx


@nb.njit(cache=True, inline="always")
def _gate_sample(i, s, windows, ptr, idx, counts, winner, out):  # type: ignore[no-untyped-def]
    """Sample ``i`` of :func:`gate_block`: only the windows holding a spike of the step."""
    steps, n_in = s.shape[0], s.shape[2]
    n_out, k = windows.shape
    c, win = counts[i], winner[i]
    seen = np.full(n_out, -1, np.int64)
    for t in range(steps):
        st, o = s[t, i], out[t, i]
        o[:] = 0
        for unit in range(n_in):  # branch-free
            c[unit] += st[unit]
        for q in range(n_in):
            if not st[q]:
                continue
            for p in range(ptr[q], ptr[q + 1]):
                u = idx[p]
                if seen[u] == t:
                    continue
                seen[u] = t
                top = -1
                for m in range(k):
                    unit = windows[u, m]
                    if c[unit] > top:
                        top = c[unit]
                w = win[u]
                if w < 0 or c[w] != top:
                    for m in range(k):
                        if c[windows[u, m]] == top:
                            w = windows[u, m]
                            break
                    win[u] = w
                o[u] = st[w]


@nb.njit(cache=True, parallel=True)
def gate_block(s, windows, counts, winner, out):  # type: ignore[no-untyped-def]
    """The spiking max pool over a block of steps (incumbent keeps a tie; else the first maximum).

    Parameters
    ----------
    s
        Spikes ``(L, batch, n_in)`` uint8.
    windows
        ``(n_out, k)`` int64 input units of each window, in row-major window order.
    counts, winner
        State, updated in place: running counts ``(batch, n_in)`` int64 and each window's winner
        ``(batch, n_out)`` int64 (``-1``: none yet).
    out
        Written: the passed spikes ``(L, batch, n_out)`` uint8.

    Only windows with a spike in the step are examined: the counts of the others do not change,
    and neither does their winner under the rule of :mod:`lif_bridge.semantics`.
    """
    ptr, idx = _windows_of(windows, s.shape[2])
    for i in nb.prange(s.shape[1]):
        _gate_sample(i, s, windows, ptr, idx, counts, winner, out)


@nb.njit(cache=True)
def gate_block_serial(s, windows, counts, winner, out):  # type: ignore[no-untyped-def]
    """:func:`gate_block` in the calling thread (for small blocks)."""
    ptr, idx = _windows_of(windows, s.shape[2])
    for i in range(s.shape[1]):
        _gate_sample(i, s, windows, ptr, idx, counts, winner, out)
