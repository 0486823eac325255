"""Tests of the synapse lists and linear maps against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d
from lif_bridge.connectivity import (
    conv_synapses,
    layer_matrix,
    pool_windows,
    population_matrix,
    synapse_count,
)


def naive_conv(x: np.ndarray, layer: Conv2d) -> np.ndarray:
    """conv2d by definition: pad with zeros, then sum weight x input over every tap."""
    w = np.asarray(layer.weight)
    c_out, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation  # type: ignore[misc]
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    _, hp, wp = padded.shape
    oh = (hp - dh * (kh - 1) - 1) // sh + 1
    ow = (wp - dw * (kw - 1) - 1) // sw + 1
    per_group = c_out // layer.groups
    out = np.zeros((c_out, oh, ow))
    for o in range(c_out):
        first = (o // per_group) * cg
        for y in range(oh):
            for xx in range(ow):
                total = 0.0
                for c in range(cg):
                    for ky in range(kh):
                        for kx in range(kw):
                            pix = padded[first + c, y * sh + ky * dh, xx * sw + kx * dw]
                            total += w[o, c, ky, kx] * pix
                out[o, y, xx] = total
    return out


def naive_pool(x: np.ndarray, layer: AvgPool2d | MaxPool2d) -> np.ndarray:
    """Max or average of every window, by explicit slicing."""
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride  # type: ignore[misc]
    c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((c, oh, ow))
    for ch in range(c):
        for y in range(oh):
            for xx in range(ow):
                block = x[ch, y * sh : y * sh + kh, xx * sw : xx * sw + kw]
                out[ch, y, xx] = block.max() if isinstance(layer, MaxPool2d) else block.mean()
    return out


CONV_CASES = [
    # (c_in, h, w), c_out, groups, kernel, stride, padding, dilation
    ((1, 5, 5), 2, 1, (3, 3), 1, 0, 1),
    ((2, 6, 7), 3, 1, (3, 2), (2, 1), 1, 1),
    ((2, 7, 6), 4, 2, (2, 3), 1, (1, 2), (2, 1)),
    ((4, 8, 8), 4, 4, (3, 3), 2, 1, 2),  # depthwise
    ((3, 9, 5), 6, 3, (1, 1), (3, 2), 0, 1),
    ((2, 5, 5), 2, 1, (5, 5), 1, 2, 1),  # padding as large as the kernel reach
]


def _conv(case: tuple, seed: int = 0) -> tuple[Conv2d, tuple[int, int, int]]:
    shape, c_out, groups, kernel, stride, padding, dilation = case
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(c_out, shape[0] // groups, *kernel))
    layer = Conv2d(weight=w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    return layer, shape


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv_synapses_equal_naive_conv(case: tuple) -> None:
    """to_csr() @ x equals the loop convolution, for stride/padding/dilation/groups combos."""
    layer, shape = _conv(case)
    syn = conv_synapses(layer, shape)
    out_shape = layer.output_shape(shape)
    assert (syn.n_pre, syn.n_post) == (int(np.prod(shape)), int(np.prod(out_shape)))
    rng = np.random.default_rng(1)
    for _ in range(2):
        x = rng.random(shape)
        np.testing.assert_allclose(
            syn.to_csr() @ x.ravel(), naive_conv(x, layer).ravel(), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize("case", CONV_CASES)
def test_synapse_count_equals_nnz(case: tuple) -> None:
    """synapse_count equals the synapse list's length and the matrix's stored entries."""
    layer, shape = _conv(case)
    syn = conv_synapses(layer, shape)
    m = syn.to_csr()
    assert synapse_count(layer, shape) == syn.pre.size == m.nnz
    # no synapse is listed twice (each (post, pre) pair appears once)
    pairs = syn.post.astype(np.int64) * syn.n_pre + syn.pre
    assert np.unique(pairs).size == pairs.size


def test_synapse_count_by_hand() -> None:
    """3x3 input, 3x3 kernel, padding 1: 4 corners x 4 + 4 edges x 6 + centre 9 = 49 taps."""
    conv = Conv2d(weight=np.ones((2, 1, 3, 3)), padding=1)
    assert synapse_count(conv, (1, 3, 3)) == 2 * 49
    assert synapse_count(Dense(weight=np.ones((7, 5))), (5,)) == 35


def test_pool_windows_by_hand() -> None:
    """2x2 windows of a 2x4x4 map, C-order indices, channel offsets of 16."""
    win = pool_windows(MaxPool2d(kernel_size=2), (2, 4, 4))
    assert win.shape == (8, 4)
    assert win[:4].tolist() == [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
    np.testing.assert_array_equal(win[4:], win[:4] + 16)
    assert win.dtype == np.int64


@pytest.mark.parametrize(
    ("shape", "kernel", "stride"),
    [((1, 3, 3), 2, 1), ((2, 5, 4), (1, 2), None), ((3, 6, 6), 3, 2), ((1, 4, 5), (2, 3), (1, 2))],
)
def test_pool_windows_equal_naive(shape: tuple, kernel: object, stride: object) -> None:
    """Windows of overlapping and rectangular pools match explicit loops; max/avg agree."""
    for cls in (MaxPool2d, AvgPool2d):
        layer = cls(kernel_size=kernel, stride=stride)
        x = np.random.default_rng(0).random(shape)
        win = pool_windows(layer, shape)
        got = x.ravel()[win].max(axis=1) if cls is MaxPool2d else x.ravel()[win].mean(axis=1)
        np.testing.assert_allclose(got, naive_pool(x, layer).ravel(), rtol=1e-12)


def test_layer_matrix_kinds() -> None:
    """Dense is its weight, Flatten the identity, AvgPool the window means; MaxPool has none."""
    w = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(layer_matrix(Dense(weight=w), (3,)).toarray(), w)
    np.testing.assert_array_equal(layer_matrix(Flatten(), (1, 2, 2)).toarray(), np.eye(4))
    avg = layer_matrix(AvgPool2d(kernel_size=2), (1, 2, 4)).toarray()
    q = 0.25
    np.testing.assert_array_equal(avg, [[q, q, 0, 0, q, q, 0, 0], [0, 0, q, q, 0, 0, q, q]])
    with pytest.raises(TypeError, match="MaxPool2d has no linear matrix"):
        layer_matrix(MaxPool2d(kernel_size=2), (1, 2, 2))


def test_population_matrix_composes_avgpool_flatten() -> None:
    """Dense after avg pool and flatten: the composed matrix equals the step-by-step map."""
    rng = np.random.default_rng(3)
    dense = Dense(weight=rng.normal(size=(5, 2 * 3 * 2)))
    stages = (AvgPool2d(kernel_size=2), Flatten())
    m = population_matrix(dense, stages, (2, 6, 4))
    assert m is not None and m.shape == (5, 48)
    for _ in range(3):
        s = (rng.random((2, 6, 4)) < 0.4).astype(float)
        want = np.asarray(dense.weight) @ naive_pool(s, stages[0]).ravel()
        np.testing.assert_allclose(m @ s.ravel(), want, rtol=1e-12, atol=1e-12)


def test_population_matrix_conv_after_avgpool() -> None:
    """Conv after an avg pool composes the pool with the convolution."""
    rng = np.random.default_rng(4)
    conv = Conv2d(weight=rng.normal(size=(3, 2, 2, 2)), padding=1)
    pool = AvgPool2d(kernel_size=(2, 1))
    m = population_matrix(conv, (pool,), (2, 6, 5))
    s = rng.random((2, 6, 5))
    want = naive_conv(naive_pool(s, pool), conv).ravel()
    np.testing.assert_allclose(m @ s.ravel(), want, rtol=1e-12, atol=1e-12)


def test_population_matrix_without_stages_and_with_max_pool() -> None:
    """No stages: the layer's own matrix; a max-pool stage: None (not linear)."""
    conv, shape = _conv(CONV_CASES[1])
    m = population_matrix(conv, (), shape)
    assert (m != conv_synapses(conv, shape).to_csr()).nnz == 0
    dense = Dense(weight=np.ones((2, 4)))
    assert population_matrix(dense, (MaxPool2d(kernel_size=2), Flatten()), (1, 4, 4)) is None
