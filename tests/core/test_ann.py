"""Tests of the ANN view against a naive loop implementation written here."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    ValidationError,
    ann_activations,
    ann_forward,
)
from lif_bridge.network import WeightedLayer
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network


def naive_conv(x: np.ndarray, layer: Conv2d) -> np.ndarray:
    """PyTorch-style conv2d of one (C, H, W) map with explicit loops (zero padding)."""
    w = np.asarray(layer.weight)
    c_out, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = layer.stride, layer.padding, layer.dilation  # type: ignore[misc]
    _, h, wd = x.shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (wd + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    per_group = c_out // layer.groups
    out = np.zeros((c_out, oh, ow))
    for o in range(c_out):
        g = o // per_group
        for y in range(oh):
            for xx in range(ow):
                acc = 0.0
                for c in range(cg):
                    for ky in range(kh):
                        for kx in range(kw):
                            iy = y * sh - ph + ky * dh
                            ix = xx * sw - pw + kx * dw
                            if 0 <= iy < h and 0 <= ix < wd:
                                acc += w[o, c, ky, kx] * x[g * cg + c, iy, ix]
                out[o, y, xx] = acc
    return out


def naive_pool(x: np.ndarray, layer: AvgPool2d | MaxPool2d) -> np.ndarray:
    """Max or average pooling (no padding) with explicit window loops."""
    (kh, kw), (sh, sw) = layer.kernel_size, layer.stride  # type: ignore[misc]
    c, h, w = x.shape
    oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    out = np.zeros((c, oh, ow))
    for ch in range(c):
        for y in range(oh):
            for xx in range(ow):
                win = [x[ch, y * sh + i, xx * sw + j] for i in range(kh) for j in range(kw)]
                out[ch, y, xx] = max(win) if isinstance(layer, MaxPool2d) else sum(win) / len(win)
    return out


def naive_forward(
    net: Network, x: np.ndarray, rate: float, units: str = "rate"
) -> dict[str, np.ndarray]:
    """The ANN view by the documented formula, one sample at a time, layer by layer."""
    outs: dict[str, list[np.ndarray]] = {}
    for sample in x:
        z = sample.reshape(net.input_shape) * rate
        for layer in net.layers:
            if isinstance(layer, Flatten):
                z = z.reshape(-1)
            elif isinstance(layer, (AvgPool2d, MaxPool2d)):
                z = naive_pool(z, layer)
            else:
                assert isinstance(layer, WeightedLayer)
                pre = naive_conv(z, layer) if isinstance(layer, Conv2d) else layer.weight @ z  # type: ignore[operator]
                shape = pre.shape
                n = pre.size
                nrn = layer.neurons
                if layer.ann_bias is None:
                    b = np.broadcast_to(nrn.i_bias, (n,)).reshape(shape)
                elif np.ndim(layer.ann_bias) == 0 or pre.ndim == 1:
                    b = np.broadcast_to(layer.ann_bias, shape)
                else:  # one value per output channel
                    b = np.asarray(layer.ann_bias)[:, None, None] * np.ones(shape)
                pre = pre + b
                if layer.ann_activation == "relu":
                    pre = np.maximum(pre, 0.0)
                scale = (np.broadcast_to(nrn.v_th, (n,)) * np.broadcast_to(nrn.c_m, (n,))).reshape(
                    shape
                )
                z = pre / scale
                value = z.reshape(-1) / (layer.rate_scale if units == "ann" else 1.0)
                outs.setdefault(layer.name, []).append(value)
    return {k: np.array(v) for k, v in outs.items()}


def _with_ann_fields(net: Network, seed: int) -> Network:
    """The same network with per-channel ann_bias, rate_scale and an identity output layer."""
    rng = np.random.default_rng(seed)
    layers = []
    last = net.output.index
    for i, layer in enumerate(net.layers):
        if isinstance(layer, WeightedLayer):
            layer = dataclasses.replace(
                layer,
                ann_bias=rng.normal(0, 0.5, layer.n_units),
                rate_scale=float(rng.uniform(0.5, 4.0)),
                ann_activation="identity" if i == last else "relu",
            )
        layers.append(layer)
    return Network(input_shape=net.input_shape, layers=tuple(layers), max_rate=net.max_rate)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("per_neuron", [False, True])
def test_ann_activations_equal_naive(architecture: str, per_neuron: bool) -> None:
    """Every population's activation equals the naive loops (i_bias as the ANN bias)."""
    net = random_network(7, architecture, per_neuron=per_neuron)
    x = random_inputs(net, 3, seed=2)
    got = ann_activations(net, x, max_rate=40.0)
    want = naive_forward(net, x, 40.0)
    assert list(got) == [p.name for p in net.populations]
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(
        ann_forward(net, x, max_rate=40.0), want[net.output.name], atol=1e-11
    )


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_ann_units_with_bias_scale_identity(architecture: str) -> None:
    """units='ann' divides by rate_scale; per-channel ann_bias; identity last layer keeps signs."""
    net = _with_ann_fields(random_network(4, architecture, per_neuron=True), seed=9)
    x = random_inputs(net, 4, seed=5)
    for units in ("rate", "ann"):
        got = ann_activations(net, x, max_rate=25.0, units=units)  # type: ignore[arg-type]
        want = naive_forward(net, x, 25.0, units)
        for name in want:
            np.testing.assert_allclose(got[name], want[name], rtol=1e-11, atol=1e-11)
    # the identity output is not rectified: with a strongly negative bias it goes below zero
    out = net.layers[-1]
    neg = dataclasses.replace(out, ann_bias=-1e3)
    net_neg = Network(input_shape=net.input_shape, layers=(*net.layers[:-1], neg))
    assert (ann_forward(net_neg, x, max_rate=25.0) < 0).all()


def test_default_max_rate_network_then_one() -> None:
    """max_rate defaults to the network's, else 1 Hz (rates = activations without bias)."""
    w = np.array([[1.0, 2.0], [-1.0, 0.5]])
    layers = (Dense(weight=w, neurons=Neurons(v_th=2.0, c_m=0.5)),)
    x = np.array([[0.5, 1.0]])
    plain = Network(input_shape=(2,), layers=layers)
    np.testing.assert_allclose(ann_forward(plain, x), [[2.5, 0.0]])  # relu(W x)/(v_th·c_m)
    rated = Network(input_shape=(2,), layers=layers, max_rate=10.0)
    np.testing.assert_allclose(ann_forward(rated, x), [[25.0, 0.0]])
    np.testing.assert_allclose(ann_forward(rated, x, max_rate=2.0), [[5.0, 0.0]])


def test_ann_forward_flattened_inputs_and_validation() -> None:
    """Flat samples are reshaped; wrong shapes and NaN inputs are refused."""
    net = random_network(0, "conv_avg")
    x = random_inputs(net, 2)
    np.testing.assert_array_equal(ann_forward(net, x.reshape(2, -1)), ann_forward(net, x))
    with pytest.raises(ValidationError, match="inputs have shape"):
        ann_forward(net, np.zeros((2, 5)))
    x[0, 0, 0, 0] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        ann_forward(net, x)
