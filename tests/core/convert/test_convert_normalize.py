"""Normalisation factors: pure numpy, hand-checked values (no torch)."""

from __future__ import annotations

import numpy as np
import pytest

import lif_bridge as lb
from lif_bridge.convert.normalize import (
    as_calibration_array,
    l4_factor,
    max_factor,
    normalization_factors,
    percentile_factor,
    weight_l4_norms,
)


def test_max_and_percentile() -> None:
    a = np.array([[0.0, 1.0, 2.0], [4.0, -1.0, 3.0]])
    assert max_factor(a) == 4.0
    assert max_factor(np.zeros((2, 2))) == 1.0
    # positive values 1, 2, 3, 4: the 50th percentile is 2.5
    assert percentile_factor(a, 50) == pytest.approx(2.5)
    assert percentile_factor(a, 100) == 4.0
    assert percentile_factor(-np.ones(3), 99) == 1.0
    with pytest.raises(lb.ConversionError, match=r"percentile must be in \(0, 100\]"):
        percentile_factor(a, 0)


def test_l4_norms_and_factor() -> None:
    w = np.array([[1.0, -1.0], [2.0, 0.0]])
    np.testing.assert_allclose(weight_l4_norms(w), [2**0.25, 2.0])
    a = np.array([[1.0, 0.5]])
    u = np.array([[0.5, 1.0]])
    # max(a + kappa * sqrt(lambda_prev) * u) = max(1 + 2*0.5, 0.5 + 2*1) = 2.5 for lambda 4
    assert l4_factor(a, u, prev_factor=4.0, kappa=1.0) == pytest.approx(2.5)
    assert l4_factor(a, u, prev_factor=4.0, kappa=0.0) == pytest.approx(1.0)
    with pytest.raises(lb.ConversionError, match=r"kappa"):
        l4_factor(a, u, 1.0, kappa=-1)


def test_calibration_array_from_iterables() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((6, 1, 2, 2))
    batches = [(x[:4], np.zeros(4)), (x[4:], np.zeros(2))]
    np.testing.assert_array_equal(as_calibration_array(batches, (1, 2, 2)), x)
    np.testing.assert_array_equal(as_calibration_array(iter([x[:3], x[3:]]), (1, 2, 2)), x)
    np.testing.assert_array_equal(as_calibration_array(x.reshape(6, 4), (1, 2, 2)), x)
    with pytest.raises(lb.ConversionError, match=r"calibration set is empty"):
        as_calibration_array([], (1, 2, 2))
    with pytest.raises(lb.ConversionError, match=r"expected \(1, 2, 2\)"):
        as_calibration_array(np.zeros((2, 3)), (1, 2, 2))
    with pytest.raises(lb.ConversionError, match=r"needs a calibration set"):
        as_calibration_array(None, (4,))


def _raw_network() -> lb.Network:
    w1 = np.array([[1.0, 2.0], [0.5, -1.0], [1.0, 1.0]])
    w2 = np.array([[1.0, -1.0, 0.5]])
    return lb.Network(
        input_shape=(2,),
        layers=(
            lb.Dense(weight=w1, ann_bias=np.array([0.0, 0.1, -0.5])),
            lb.Dense(weight=w2, ann_bias=0.0),
        ),
    )


def test_factors_on_a_small_network() -> None:
    net = _raw_network()
    x = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    a1 = np.maximum(x @ net.layers[0].weight.T + [0.0, 0.1, -0.5], 0)
    a2 = np.maximum(a1 @ net.layers[1].weight.T, 0)
    assert normalization_factors(net, x, "none") == [1.0, 1.0]
    assert normalization_factors(net, x, "max", batch_size=2) == pytest.approx([a1.max(), a2.max()])
    got = normalization_factors(net, x, "percentile", percentile=50)
    assert got == pytest.approx([np.percentile(a1[a1 > 0], 50), np.percentile(a2[a2 > 0], 50)])
    # l4, written out: u_j = ||W_j||_4 (sum_i z_i^2)^(1/4) over j's inputs
    l4 = normalization_factors(net, x, "l4", kappa=1.0)
    w1 = net.layers[0].weight
    u1 = (w1**4).sum(1) ** 0.25 * ((x**2) @ (w1 != 0).T) ** 0.25
    lam1 = (a1 + u1).max()
    w2 = net.layers[1].weight
    u2 = (w2**4).sum(1) ** 0.25 * ((a1**2) @ (w2 != 0).T) ** 0.25
    lam2 = (a2 + np.sqrt(lam1) * u2).max()
    assert l4 == pytest.approx([lam1, lam2])
    assert l4[0] > a1.max()
    with pytest.raises(lb.ConversionError, match=r"unknown normalisation 'avg'"):
        normalization_factors(net, x, "avg")  # type: ignore[arg-type]
