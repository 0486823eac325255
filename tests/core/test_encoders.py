"""Tests of the input encoders against the contract in :mod:`lif_bridge.semantics`."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from lif_bridge import (
    ConstantCurrent,
    Dense,
    Network,
    Poisson,
    RegularRate,
    Simulation,
    ValidationError,
)
from lif_bridge.network.encoders import spike_probability

# Dyadic probabilities are exact in binary, so float and rational arithmetic agree on them.
DYADIC = (0.0, 0.0625, 0.125, 0.25, 0.375, 0.5, 0.8125, 1.0)


def _accumulator(p: float, steps: int) -> list[int]:
    """The paper's accumulator (acc += p; spike and acc -= 1 when acc >= 1), exact rationals."""
    acc, out = Fraction(0), []
    q = Fraction(p)
    for _ in range(steps):
        acc += q
        spike = int(acc >= 1)
        acc -= spike
        out.append(spike)
    return out


def test_regular_rate_counts_are_floor_n_p_exactly() -> None:
    """After n steps a regular train has floor(n·p) spikes, exactly, for every n (no drift)."""
    p = np.array([[0.0, 0.1, 1 / 3, 0.37, 0.5, 0.73, 0.999, 1.0]])
    steps = 3000
    e = RegularRate().encode(p, steps)
    assert e.shape == (1, steps, p.shape[1])
    assert e.dtype == np.uint8
    assert set(np.unique(e)) <= {0, 1}
    counts = np.cumsum(e[0], axis=0)
    n = np.arange(1, steps + 1, dtype=np.float64)[:, None]
    np.testing.assert_array_equal(counts, np.floor(n * p[0][None, :]))
    # the count error never reaches one spike: |n·p - count| < 1 at every step
    assert np.all(np.abs(n * p[0] - counts) < 1.0)


@pytest.mark.parametrize("p", DYADIC)
def test_regular_rate_equals_exact_accumulator(p: float) -> None:
    """For exactly representable p the closed form equals the accumulator in exact arithmetic."""
    e = RegularRate().encode(np.array([[p]]), 64)
    assert e[0, :, 0].tolist() == _accumulator(p, 64)


@pytest.mark.parametrize("p", [0.0625, 0.2, 0.25, 0.3, 0.5, 0.9, 1.0])
def test_regular_rate_first_spike_step(p: float) -> None:
    """The first spike is at step ceil(1/p) - 1 (steps count from 0); p = 0 never spikes."""
    e = RegularRate().encode(np.array([[p, 0.0]]), 40)
    first = int(np.flatnonzero(e[0, :, 0])[0])
    assert first == math.ceil(round(1 / p, 9)) - 1
    assert e[0, :, 1].sum() == 0


def test_regular_rate_ignores_start_index() -> None:
    """Regular trains are deterministic and the same for every sample index."""
    p = np.array([[0.3, 0.6]])
    np.testing.assert_array_equal(
        RegularRate().encode(p, 20), RegularRate().encode(p, 20, start_index=17)
    )


def test_poisson_matches_contract_rng() -> None:
    """Sample k's train is default_rng([seed, k]).random((steps, n)) < p (the documented rule)."""
    p = np.array([[0.1, 0.5, 0.9], [0.2, 0.2, 0.2]])
    e = Poisson(seed=11).encode(p, 30, start_index=5)
    for k in range(2):
        u = np.random.default_rng([11, 5 + k]).random((30, 3))
        np.testing.assert_array_equal(e[k], (u < p[k]).astype(np.uint8))
    assert e.dtype == np.uint8


def test_poisson_deterministic_and_independent_of_batching() -> None:
    """Same seed → same trains; a sample's train depends only on its index, not the batch."""
    rng = np.random.default_rng(0)
    p = rng.random((7, 5))
    full = Poisson(seed=3).encode(p, 50)
    np.testing.assert_array_equal(full, Poisson(seed=3).encode(p, 50))
    parts = [Poisson(seed=3).encode(p[lo : lo + 3], 50, start_index=lo) for lo in range(0, 7, 3)]
    np.testing.assert_array_equal(np.concatenate(parts), full)
    # another seed, or another sample index with the same p, gives another train
    assert not np.array_equal(Poisson(seed=4).encode(p, 50), full)
    same_p = np.repeat(p[:1], 2, axis=0)
    two = Poisson(seed=3).encode(same_p, 50)
    assert not np.array_equal(two[0], two[1])


def test_poisson_mean_rate() -> None:
    """The mean spikes per step is p within 5 standard errors.

    Each entry is Bernoulli(p); with N = 400 steps x 100 units the standard error of the mean is
    sqrt(p(1-p)/N) <= 0.0025, so 5 sigma is 0.0125 (and the draw is seeded: no flakiness).
    """
    n_units, steps = 100, 400
    for p in (0.05, 0.3, 0.7):
        e = Poisson(seed=1).encode(np.full((1, n_units), p), steps)
        se = math.sqrt(p * (1 - p) / (n_units * steps))
        assert abs(e.mean() - p) < 5 * se
    edges = Poisson(seed=1).encode(np.array([[0.0, 1.0]]), 200)
    assert edges[0, :, 0].sum() == 0 and edges[0, :, 1].sum() == 200


def test_constant_current_repeats_p() -> None:
    """ConstantCurrent delivers p (float64) every step and is not a spiking encoder."""
    p = np.array([[0.25, 0.0, 1.0], [0.1, 0.2, 0.3]])
    e = ConstantCurrent().encode(p, 6)
    assert e.dtype == np.float64 and e.shape == (2, 6, 3)
    for n in range(6):
        np.testing.assert_array_equal(e[:, n, :], p)
    assert ConstantCurrent().is_spiking is False
    assert RegularRate().is_spiking and Poisson().is_spiking


def test_spike_probability_clips_and_scales() -> None:
    """p = clip(x · max_rate · dt, 0, 1) for x in [0, 1]."""
    x = np.array([0.0, 0.2, 0.5, 1.0])
    np.testing.assert_allclose(
        spike_probability(x, 50.0, 0.01), [0.0, 0.1, 0.25, 0.5], rtol=0, atol=1e-15
    )
    np.testing.assert_allclose(spike_probability(x, 300.0, 0.01), [0.0, 0.6, 1.0, 1.0], atol=1e-15)


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.array([0.0, 255.0]), r"\[0, 255\] \(uint8 images\? divide by 255\)"),
        (np.array([-0.5, 0.5]), r"\[-0.5, 0.5\]; scale them"),
    ],
)
def test_inputs_outside_unit_interval_refused(x: np.ndarray, match: str) -> None:
    """uint8 images and negative inputs are refused (a rate code cannot carry them)."""
    with pytest.raises(ValidationError, match=match):
        spike_probability(x, 100.0, 0.01)


def test_scale_to_unit() -> None:
    from lif_bridge.network.encoders import scale_to_unit

    np.testing.assert_array_equal(scale_to_unit(np.array([0, 51, 255])), [0.0, 0.2, 1.0])
    np.testing.assert_array_equal(scale_to_unit(np.array([-1.0, 1.0])), [0.0, 1.0])
    np.testing.assert_array_equal(scale_to_unit(np.full(3, 7.0)), np.zeros(3))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_input_rejected(bad: float) -> None:
    """NaN/inf inputs are refused by the encoder and by Simulation.encode."""
    with pytest.raises(ValidationError, match="inputs contain NaN or infinite values"):
        spike_probability(np.array([0.1, bad]), 100.0, 0.01)
    net = Network(input_shape=(2,), layers=(Dense(weight=np.ones((1, 2))),))
    with pytest.raises(ValidationError, match="NaN or infinite"):
        Simulation(steps=4).encode(net, np.array([[0.5, bad]]))


def test_simulation_encode_uses_network_rate() -> None:
    """Simulation.encode flattens samples and uses the effective max_rate."""
    x = np.array([[[[1.0, 0.5], [0.0, 0.25]]]])
    net = Network(input_shape=(4,), layers=(Dense(weight=np.ones((1, 4))),), max_rate=25.0)
    e = Simulation(steps=40, dt=0.01).encode(net, x)
    # p = x · 25 Hz · 0.01 s = x / 4 -> counts after 40 steps: 10, 5, 0, 2
    assert e.sum(axis=1)[0].tolist() == [10, 5, 0, 2]
    cur = Simulation(steps=3, dt=0.01, encoder=ConstantCurrent(), max_rate=400.0).encode(net, x)
    np.testing.assert_allclose(cur[0, 0], [1.0, 1.0, 0.0, 1.0])  # clipped at one per step
