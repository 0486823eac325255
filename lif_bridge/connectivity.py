"""Synapse lists of layers, built vectorised: what backends lower dense, conv and pooling to.

Units are flattened in C order (``(C, H, W)`` -> ``c·H·W + y·W + x``). All functions are pure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.network.graph import Identity
from lif_bridge.network.layers import AvgPool2d, Conv2d, Dense, Flatten, Layer, MaxPool2d

__all__ = [
    "Synapses",
    "conv_synapses",
    "layer_matrix",
    "pool_windows",
    "population_matrix",
    "synapse_count",
]


@dataclass(frozen=True)
class Synapses:
    """A synapse list: ``pre[k] -> post[k]`` with weight ``weight[k]`` [C] (flat unit indices)."""

    pre: np.ndarray
    post: np.ndarray
    weight: np.ndarray
    n_pre: int
    n_post: int

    def to_csr(self) -> sp.csr_matrix:
        """The ``(n_post, n_pre)`` sparse matrix (duplicates summed)."""
        return sp.csr_matrix((self.weight, (self.post, self.pre)), shape=(self.n_post, self.n_pre))


def _spatial(
    h: int,
    w: int,
    kh: int,
    kw: int,
    stride: tuple[int, int],
    pad: tuple[int, int],
    dil: tuple[int, int],
    oh: int,
    ow: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every (output position, kernel offset): input y, x, output index, kernel index."""
    oy = np.arange(oh)[:, None, None, None] * stride[0] - pad[0]
    ox = np.arange(ow)[None, :, None, None] * stride[1] - pad[1]
    ky = np.arange(kh)[None, None, :, None]
    kx = np.arange(kw)[None, None, None, :]
    iy = np.broadcast_to(oy + ky * dil[0], (oh, ow, kh, kw))
    ix = np.broadcast_to(ox + kx * dil[1], (oh, ow, kh, kw))
    out_pos = np.broadcast_to(
        (np.arange(oh)[:, None] * ow + np.arange(ow)[None, :])[:, :, None, None], (oh, ow, kh, kw)
    )
    k_pos = np.broadcast_to(
        (np.arange(kh)[:, None] * kw + np.arange(kw)[None, :])[None, None], (oh, ow, kh, kw)
    )
    valid = (iy >= 0) & (iy < h) & (ix >= 0) & (ix < w)
    return (iy * w + ix)[valid], out_pos[valid], k_pos[valid], valid


def conv_synapses(layer: Conv2d, input_shape: tuple[int, ...]) -> Synapses:
    """Synapses of a convolution: one per (output unit, kernel tap inside the input).

    ``weight`` of the list is ``layer.weight`` gathered per synapse, so ``to_csr() @ s``
    equals ``conv2d(s, weight)``.
    """
    c_in, h, w = input_shape
    c_out, oh, ow = layer.output_shape(input_shape)
    wt = np.asarray(layer.weight)
    cg, kh, kw = wt.shape[1:]
    in_pix, out_pix, k_pix, _ = _spatial(
        h,
        w,
        kh,
        kw,
        layer.stride,
        layer.padding,
        layer.dilation,
        oh,
        ow,  # type: ignore[arg-type]
    )
    per_group_out = c_out // layer.groups
    o = np.arange(c_out)[:, None, None]
    c = np.arange(cg)[None, :, None]
    in_ch = (o // per_group_out) * cg + c  # (c_out, cg, 1)
    pre = (in_ch * (h * w) + in_pix[None, None, :]).ravel()
    post = np.broadcast_to(o * (oh * ow) + out_pix[None, None, :], (c_out, cg, in_pix.size)).ravel()
    widx = np.broadcast_to(
        (o * cg + c) * (kh * kw) + k_pix[None, None, :], (c_out, cg, in_pix.size)
    ).ravel()
    return Synapses(
        pre=pre.astype(np.int64),
        post=post.astype(np.int64),
        weight=wt.ravel()[widx],
        n_pre=c_in * h * w,
        n_post=c_out * oh * ow,
    )


def pool_windows(layer: AvgPool2d | MaxPool2d, input_shape: tuple[int, ...]) -> np.ndarray:
    """Input unit indices of each pooling window: an ``(n_out, kH·kW)`` int array."""
    c, h, w = input_shape
    _, oh, ow = layer.output_shape(input_shape)
    kh, kw = layer.kernel_size  # type: ignore[misc]
    in_pix, out_pix, _, _ = _spatial(h, w, kh, kw, layer.stride, (0, 0), (1, 1), oh, ow)  # type: ignore[arg-type]
    order = np.argsort(out_pix, kind="stable")
    pix = in_pix[order].reshape(oh * ow, kh * kw)
    ch = np.arange(c)[:, None, None] * (h * w)
    return (ch + pix[None]).reshape(c * oh * ow, kh * kw).astype(np.int64)


def layer_matrix(layer: Layer | Identity, input_shape: tuple[int, ...]) -> sp.csr_matrix:
    """The linear map of a layer as an ``(n_out, n_in)`` sparse matrix.

    Defined for :class:`Dense`, :class:`Conv2d`, :class:`AvgPool2d`, :class:`Flatten`
    (the identity) and :class:`~lif_bridge.network.Identity` (a diagonal of its per-channel
    scale); :class:`MaxPool2d` is not linear and has no matrix.
    """
    n_in = int(np.prod(input_shape))
    if isinstance(layer, Identity):
        return sp.diags(layer.unit_scale(input_shape), format="csr")
    if isinstance(layer, Dense):
        return sp.csr_matrix(np.asarray(layer.weight))
    if isinstance(layer, Conv2d):
        return conv_synapses(layer, input_shape).to_csr()
    if isinstance(layer, AvgPool2d):
        win = pool_windows(layer, input_shape)
        rows = np.repeat(np.arange(win.shape[0]), win.shape[1])
        vals = np.full(win.size, 1.0 / win.shape[1])
        return sp.csr_matrix((vals, (rows, win.ravel())), shape=(win.shape[0], n_in))
    if isinstance(layer, Flatten):
        return sp.identity(n_in, format="csr")
    raise TypeError(f"{type(layer).__name__} has no linear matrix")


def population_matrix(
    layer: Layer | Identity, stages: tuple[Layer, ...], source_shape: tuple[int, ...]
) -> sp.csr_matrix | None:
    """The composed linear map from a source population through linear stages and a layer.

    Returns ``None`` when a :class:`MaxPool2d` stage is present (not linear).
    """
    shape = source_shape
    total: sp.csr_matrix | None = None
    for stage in stages:
        if isinstance(stage, MaxPool2d):
            return None
        m = layer_matrix(stage, shape)
        total = m if total is None else (m @ total).tocsr()
        shape = stage.output_shape(shape)
    m = layer_matrix(layer, shape)
    return m if total is None else (m @ total).tocsr()


def synapse_count(layer: Dense | Conv2d, input_shape: tuple[int, ...]) -> int:
    """Number of synapses of a weighted layer (zero-padding taps excluded)."""
    if isinstance(layer, Dense):
        return int(np.size(layer.weight))
    _c_in, h, w = input_shape
    _, oh, ow = layer.output_shape(input_shape)
    wt = np.asarray(layer.weight)
    _, kh, kw = wt.shape[1:]
    in_pix, _, _, _ = _spatial(h, w, kh, kw, layer.stride, layer.padding, layer.dilation, oh, ow)  # type: ignore[arg-type]
    return int(in_pix.size) * wt.shape[0] * wt.shape[1]
