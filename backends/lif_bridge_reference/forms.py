"""Synapse forms of the compiled reference path: each projection of the plan in its cheapest form.

Chosen per projection of :class:`lif_bridge.plan.ProjectionPlan`:

* ``conv``: a convolution whose target neurons share ``C_m`` within each channel; its linear
  stages (average pooling) are applied first to the spikes, then the kernel taps are scattered
  channels-last (one contiguous run of output channels per tap) — not folded into one large
  sparse matrix;
* ``dense``: the composed ``W.T / C_m`` when at least :data:`DENSE_ABOVE` of it is non-zero and
  it has at most :data:`lif_bridge.plan.DENSE_LIMIT` entries;
* ``csr``: any other composed matrix (identity shortcuts, pooled dense maps), input by input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import conv_synapses, layer_matrix
from lif_bridge.network import AvgPool2d, Conv2d
from lif_bridge.plan import DENSE_LIMIT, ProjectionPlan
from lif_bridge_reference.fused import CONV, CSR, DENSE

__all__ = ["DENSE_ABOVE", "ConvForm", "form_of"]

#: A composed matrix is used densely when at least this fraction of it is non-zero.
DENSE_ABOVE = 0.10


@dataclass(frozen=True)
class ConvForm:
    """The arrays of one convolution for :func:`lif_bridge_reference.fused.population_block`.

    Attributes
    ----------
    ptr, idx, val
        The linear stages before the convolution as a ``(n_src, n_mid)`` CSR (source unit to
        pooled units, with weights); empty arrays when there are none.
    geom
        ``(n_mid, H·W, C_out, C_in / groups)`` int64: units the convolution reads, pixels per
        input channel, output channels, input channels per group.
    pix_ptr, pix_tap, pix_out, pix_len
        Tap table in runs: input pixel ``q`` reaches output pixels ``pix_out[m] + r`` through
        reversed taps ``pix_tap[m] + r``, ``r < pix_len[m]``, for ``m`` in
        ``pix_ptr[q]:pix_ptr[q+1]``. With one group, such a run is one contiguous slice of
        the blocked weights onto one contiguous slice of the channels-last jumps (a row of the
        kernel: ``kW`` output pixels); otherwise every run is one tap.
    wb
        ``(C_in, kH·kW, C_out / groups)`` float64 [V per spike]: weight over the target's ``C_m``,
        taps reversed (``wb[c, kH·kW - 1 - tap]``).
    """

    ptr: np.ndarray
    idx: np.ndarray
    val: np.ndarray
    geom: np.ndarray
    pix_ptr: np.ndarray
    pix_tap: np.ndarray
    pix_out: np.ndarray
    pix_len: np.ndarray
    wb: np.ndarray


def form_of(
    proj: ProjectionPlan, c_m: np.ndarray, shape: tuple[int, ...]
) -> tuple[int, tuple[np.ndarray, ...] | ConvForm]:
    """``(kind, arrays)`` of a spiking projection into neurons of ``shape``, capacitances ``c_m``.

    ``kind`` is :data:`~lif_bridge_reference.fused.DENSE` (arrays: ``(W.T / C_m,)``),
    :data:`~lif_bridge_reference.fused.CSR` (``(indptr, indices, data)`` of ``W.T / C_m``) or
    :data:`~lif_bridge_reference.fused.CONV` (a :class:`ConvForm`).
    """
    edge = proj.edge
    layer = edge.map
    if isinstance(layer, Conv2d) and all(isinstance(s, AvgPool2d) for s in edge.linear_stages):
        per_channel = c_m.reshape(shape)
        if np.all(per_channel == per_channel[:, :1, :1]):
            return CONV, _conv_form(proj, layer, per_channel[:, 0, 0])
    matrix = proj.matrix
    size = matrix.shape[0] * matrix.shape[1]
    if size <= DENSE_LIMIT and matrix.nnz >= DENSE_ABOVE * size:
        dense = proj.dense if proj.dense is not None else matrix.T.toarray()
        return DENSE, (np.ascontiguousarray(dense, dtype=np.float64),)
    t = sp.csr_matrix(matrix.T)
    t.sort_indices()
    return CSR, (t.indptr.astype(np.int64), t.indices.astype(np.int64), t.data.astype(np.float64))


def _conv_form(proj: ProjectionPlan, layer: Conv2d, c_m: np.ndarray) -> ConvForm:
    """Pooling CSR, tap table and blocked weights of a convolution projection."""
    shape, pool = proj.edge.gated_shape, None
    for stage in proj.edge.linear_stages:
        m = layer_matrix(stage, shape)
        pool = m if pool is None else (m @ pool).tocsr()
        shape = stage.output_shape(shape)
    if pool is None:
        ptr, idx, val = np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    else:
        pt = sp.csr_matrix(pool.T)
        pt.sort_indices()
        ptr, idx, val = pt.indptr.astype(np.int64), pt.indices.astype(np.int64), pt.data
    c_in, h, w = shape
    w_all = np.asarray(layer.weight, dtype=np.float64) / c_m[:, None, None, None]
    c_out, cg, kh, kw = w_all.shape
    og = c_out // layer.groups
    # the tap table from the synapses of a one-channel copy of the layer: pre, post pixel, tap
    taps = np.arange(kh * kw, dtype=float).reshape(1, 1, kh, kw)
    one = Conv2d(weight=taps, stride=layer.stride, padding=layer.padding, dilation=layer.dilation)
    probe = conv_synapses(one, (1, h, w))
    n_taps = kh * kw
    pre = probe.pre.astype(np.int64)
    rtap = n_taps - 1 - probe.weight.astype(np.int64)  # reversed taps
    post = probe.post.astype(np.int64)
    order = np.lexsort((post, pre))  # by input pixel, then output pixel
    pre, rtap, post = pre[order], rtap[order], post[order]
    # a run continues while the output pixel and the reversed tap both step by one
    same = np.zeros(pre.size, dtype=bool)
    if layer.groups == 1 and pre.size > 1:
        same[1:] = (pre[1:] == pre[:-1]) & (post[1:] == post[:-1] + 1) & (rtap[1:] == rtap[:-1] + 1)
    starts = np.flatnonzero(~same)
    run_len = np.diff(np.append(starts, pre.size)).astype(np.int64)
    pix_ptr = np.searchsorted(pre[starts], np.arange(h * w + 1)).astype(np.int64)
    # wb[c, tap, o]: weight of input channel c at a tap to output channel g·og + o of its group
    g_of = np.arange(c_in) // cg
    wb = np.empty((c_in, kh * kw, og))
    for c in range(c_in):
        wb[c] = w_all[g_of[c] * og : (g_of[c] + 1) * og, c % cg].reshape(og, n_taps).T[::-1]
    return ConvForm(
        ptr=ptr,
        idx=idx,
        val=np.asarray(val, dtype=np.float64),
        geom=np.array([c_in * h * w, h * w, c_out, cg], dtype=np.int64),
        pix_ptr=pix_ptr,
        pix_tap=rtap[starts],
        pix_out=post[starts],
        pix_len=run_len,
        wb=np.ascontiguousarray(wb),
    )
