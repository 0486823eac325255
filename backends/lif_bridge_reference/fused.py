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

__all__ = ["CONV", "CSR", "DENSE", "gate_block", "population_block"]

#: Synapse forms of a projection (``kinds`` of :func:`population_block`).
DENSE, CSR, CONV = 0, 1, 2


@nb.njit(cache=True, inline="always")
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
def _conv_step(z, ptr, idx, val, geom, pix_ptr, pix_tap, pix_out, wb, mid, acc_cl, acc):  # type: ignore[no-untyped-def]
    """Add one step's convolution jumps of input ``z`` to ``acc`` (average pooling first)."""
    n_mid, hw_in, n_ch, group_in = geom[0], geom[1], geom[2], geom[3]
    og = wb.shape[2]
    n = acc.size
    n_pix = n // n_ch
    if ptr.size > 0:  # the linear stages, source unit -> pooled units
        mid[:n_mid] = 0.0
        for k in range(z.size):
            if z[k]:
                for p in range(ptr[k], ptr[k + 1]):
                    mid[idx[p]] += val[p]
    else:
        for k in range(n_mid):
            mid[k] = z[k]
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
            acc[ch * n_pix + px] += acc_cl[px * n_ch + ch]


@nb.njit(cache=True, parallel=True)
def population_block(
    zs, kinds, slots, dense_w, csr_ptr, csr_idx, csr_val, pool_ptr, pool_idx, pool_val, geom,
    pix_ptr, pix_tap, pix_out, conv_wb, const, t0, v, last, d, v_inf, if_step, leaky, v_th,
    v_reset, subtract, refr, out, counts, trace,
):  # type: ignore[no-untyped-def]  # fmt: skip
    """One population over a block of ``L`` steps, all its projections fused with phases A-D.

    Parameters
    ----------
    zs
        Typed list, one per spiking projection: what arrives in each step, ``(L, batch, n_in)``
        uint8 0/1 (after the max-pool gates and the delay line).
    kinds, slots
        Per projection: its form (:data:`DENSE`, :data:`CSR`, :data:`CONV`) and its index in the
        lists of that form.
    dense_w
        Typed list of ``(n_in, n)`` float64 ``W.T / C_m`` [V per spike].
    csr_ptr, csr_idx, csr_val
        Typed lists: the ``(n_in, n)`` CSR of ``W.T / C_m`` (input ``k``'s synapses are
        ``csr_idx[ptr[k]:ptr[k+1]]`` with weights ``csr_val[...]``).
    pool_ptr, pool_idx, pool_val, geom, pix_ptr, pix_tap, pix_out, conv_wb
        Typed lists per convolution: its linear stages as a ``(n_src, n_mid)`` CSR (empty
        ``ptr``: none), ``geom = (n_mid, H·W of its input, C_out, C_in / groups)``, the tap table
        (input pixel ``q`` reaches output pixel ``pix_out[m]`` through tap ``pix_tap[m]`` for
        ``m`` in ``pix_ptr[q]:pix_ptr[q+1]``) and ``wb[c, tap, o]`` [V per spike], the weight of
        input channel ``c`` to output channel ``o`` of its group, over ``C_m``.
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
    steps, b, n = out.shape
    record = trace.shape[0] > 0
    has_const = const.shape[0] > 0
    scratch = 1
    for s in range(len(geom)):
        scratch = max(scratch, geom[s][0])
    for i in nb.prange(b):
        acc = np.empty(n)
        acc_cl = np.empty(n)
        mid = np.empty(scratch)
        vi, li = v[i], last[i]
        for t in range(steps):
            if has_const:
                acc[:] = const[i]
            else:
                acc[:] = 0.0
            for k in range(len(zs)):
                z = zs[k][t, i]
                s = slots[k]
                if kinds[k] == DENSE:
                    w = dense_w[s]
                    for u in range(z.size):
                        if z[u]:
                            for j in range(n):
                                acc[j] += w[u, j]
                elif kinds[k] == CSR:
                    ptr, idx, val = csr_ptr[s], csr_idx[s], csr_val[s]
                    for u in range(z.size):
                        if z[u]:
                            for p in range(ptr[u], ptr[u + 1]):
                                acc[idx[p]] += val[p]
                else:
                    _conv_step(z, pool_ptr[s], pool_idx[s], pool_val[s], geom[s], pix_ptr[s],
                               pix_tap[s], pix_out[s], conv_wb[s], mid, acc_cl, acc)  # fmt: skip
            _phases(vi, acc, t0 + t, li, d, v_inf, if_step, leaky, v_th, v_reset, subtract, refr,
                    out[t, i], counts[i])  # fmt: skip
            if record:
                trace[i, t0 + t, :] = vi


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
    steps, b, n_in = s.shape
    n_out, k = windows.shape
    for i in nb.prange(b):
        c, win = counts[i], winner[i]
        for t in range(steps):
            st, o = s[t, i], out[t, i]
            for unit in range(n_in):
                if st[unit]:
                    c[unit] += 1
            for u in range(n_out):
                o[u] = 0
                touched = False
                top = -1
                for m in range(k):
                    unit = windows[u, m]
                    if st[unit]:
                        touched = True
                    if c[unit] > top:
                        top = c[unit]
                if not touched:
                    continue
                w = win[u]
                if w < 0 or c[w] != top:
                    for m in range(k):
                        if c[windows[u, m]] == top:
                            w = windows[u, m]
                            break
                    win[u] = w
                o[u] = st[w]
