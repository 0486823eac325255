"""TTFS semantics: one neuron's spike time derived by hand, the discrete grid, max pooling."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, Network
from lif_bridge.ttfs import convert_ttfs, layer_plan, simulate_ttfs
from lif_bridge.ttfs.semantics import decode, encode_input, fire, window_bounds

TAU = 1e-3


def _one_neuron(w: list[float], b: float, out_w: float = 1.0) -> Network:
    return Network(
        input_shape=(len(w),),
        layers=(
            Dense(name="h", weight=np.array([w]), ann_bias=np.array([b])),
            Dense(name="out", weight=np.array([[out_w]]), ann_activation="identity"),
        ),
        metadata={
            "coding": "ttfs",
            "ttfs": {"tau_c": TAU, "input_window": TAU, "windows": {"h": 2 * TAU}},
        },
    )


def test_single_neuron_spike_time_by_hand() -> None:
    # Inputs x = (0.5, 0.25) spike at t = 1 ms - x·1 ms = 0.5 ms and 0.75 ms; weights (1, 2)
    # raise I by 1/tau and 2/tau at those times, so at t_min = 1 ms
    # V = 1·(1 - 0.5) + 2·(1 - 0.75) = 1.0 V. The window is [1, 3] ms, the bias 0.3, so the
    # threshold is 2 - 0.3 = 1.7 V; the ramp (1 V/ms) reaches it 0.7 ms later: t = 1.7 ms,
    # which codes (3 - 1.7) ms / 1 ms = 1.3 = 1·0.5 + 2·0.25 + 0.3.
    net = _one_neuron([1.0, 2.0], 0.3)
    res = simulate_ttfs(net, np.array([[0.5, 0.25]]))
    np.testing.assert_allclose(res.spike_times["input"], [[0.5e-3, 0.75e-3]], rtol=1e-12)
    assert res.spike_times["h"][0, 0] == pytest.approx(1.7e-3, rel=1e-12)
    assert res.output[0, 0] == pytest.approx(1.3, rel=1e-12)
    assert res.readout_time == pytest.approx(3e-3)


def test_negative_preactivation_is_silent_and_large_one_is_clipped() -> None:
    net = _one_neuron([1.0, -2.0], 0.0)
    res = simulate_ttfs(net, np.array([[0.2, 0.5], [1.0, 0.0]]))
    # 0.2 - 1.0 < 0: no spike, codes 0. 1.0 - 0: fires at 1 + (2 - 1) = 2 ms, codes 1.
    assert not np.isfinite(res.spike_times["h"][0, 0])
    assert res.output[0, 0] == 0.0
    assert res.spike_times["h"][1, 0] == pytest.approx(2e-3)
    # A pre-activation above the window (2 units) fires at t_min and codes the clipped 2.
    big = _one_neuron([3.0, 0.0], 0.0)
    clipped = simulate_ttfs(big, np.array([[1.0, 0.0]]))
    assert clipped.spike_times["h"][0, 0] == pytest.approx(1e-3)
    assert clipped.output[0, 0] == pytest.approx(2.0)


def test_discrete_grid_rounds_spikes_up() -> None:
    dt = 0.3e-3
    starts, lens = window_bounds(np.array([1e-3, 2e-3]), dt)
    np.testing.assert_allclose(lens, [1.2e-3, 2.1e-3])  # 4 and 7 steps
    np.testing.assert_allclose(starts, [0.0, 1.2e-3])
    t, x = encode_input(np.array([0.5, 0.0, 1.0]), 1.2e-3, TAU, dt)
    # exact times 0.7, (none), 0.2 ms -> steps 3 (0.9 ms) and 1 (0.3 ms)
    np.testing.assert_allclose(t[[0, 2]], [0.9e-3, 0.3e-3])
    assert not np.isfinite(t[1])
    np.testing.assert_allclose(x, [0.3, 0.0, 0.9])
    # potential 0.5 at t_min 1.2 ms, threshold 1.0: exact 1.7 ms, on the grid 1.8 ms
    ts = fire(np.array([0.5]), np.array([1.0]), 1.2e-3, 3.3e-3, TAU, dt)
    assert ts[0] == pytest.approx(1.8e-3)
    assert decode(ts, 3.3e-3, TAU)[0] == pytest.approx(1.5)


def test_discrete_run_error_below_one_step_per_layer() -> None:
    net = _one_neuron([1.0, 2.0], 0.3)
    _, plan = layer_plan(net, 0.1e-3)
    assert plan[0].t_min == pytest.approx(1e-3) and plan[0].t_max == pytest.approx(3e-3)
    res = simulate_ttfs(net, np.array([[0.55, 0.27]]), dt=0.1e-3)
    exact = 0.55 + 2 * 0.27 + 0.3
    assert exact - 3 * 0.1 - 1e-12 <= res.output[0, 0] <= exact + 1e-12
    assert res.latency_steps == 30


def test_max_pool_is_the_first_spike() -> None:
    rng = np.random.default_rng(3)
    conv = rng.normal(0, 0.5, (2, 1, 3, 3))
    net0 = Network(
        input_shape=(1, 6, 6),
        layers=(
            Conv2d(name="c", weight=conv, padding=1, ann_bias=np.array([0.1, -0.1])),
            MaxPool2d(kernel_size=2),
            AvgPool2d(kernel_size=3),
            Flatten(),
            Dense(name="o", weight=rng.normal(0, 1, (3, 2)), ann_activation="identity"),
        ),
    )
    x = rng.random((20, 1, 6, 6))
    net = convert_ttfs(net0, calibration=x)
    res = simulate_ttfs(net, x)
    from lif_bridge import ann_forward

    np.testing.assert_allclose(res.output, ann_forward(net, x, max_rate=1.0), atol=1e-12)
    assert res.spikes_per_neuron()["max"] <= 1
