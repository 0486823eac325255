"""TTFS on Brian2: exact spike times with interpolation, the discrete grid without, devices."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import Conv2d, Dense, Flatten, MaxPool2d, Network, ann_forward
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs
from lif_bridge.ttfs.cli import run_payload

pytestmark = pytest.mark.brian2

#: Spike times of Brian2 (interpolated) and the exact reference agree to this [s].
TIME_TOLERANCE = 1e-12


@pytest.fixture(scope="module")
def small() -> tuple[Network, np.ndarray]:
    rng = np.random.default_rng(11)
    raw = Network(
        input_shape=(2, 8, 8),
        layers=(
            Conv2d(
                name="c1",
                weight=rng.normal(0, 0.4, (3, 2, 3, 3)),
                padding=1,
                ann_bias=rng.normal(0, 0.2, 3),
            ),
            MaxPool2d(kernel_size=2),
            Conv2d(
                name="c2",
                weight=rng.normal(0, 0.4, (4, 3, 3, 3)),
                stride=2,
                ann_bias=rng.normal(0, 0.2, 4),
            ),
            Flatten(),
            Dense(name="o", weight=rng.normal(0, 0.5, (5, 4)), ann_activation="identity"),
        ),
    )
    x = rng.random((6, 2, 8, 8))
    return convert_ttfs(raw, calibration=x), x


def _spike_time_error(a: dict, b: dict) -> float:
    worst = 0.0
    for k in b:
        fa, fb = np.isfinite(a[k]), np.isfinite(b[k])
        assert np.array_equal(fa, fb), f"layer {k}: different neurons fired"
        worst = max(worst, float(np.abs(a[k][fa] - b[k][fb]).max(initial=0.0)))
    return worst


def test_interpolated_spike_times_are_exact(small: tuple[Network, np.ndarray]) -> None:
    net, x = small
    dt = 1e-4
    res = simulate_ttfs(net, x, "brian2", dt=dt)
    # the reference in continuous time on the same (grid-rounded) windows: run it with the
    # windows of the Brian2 program and compare spike times directly
    ref = simulate_ttfs(net, x)
    np.testing.assert_allclose(res.output, ann_forward(net, x, max_rate=1.0), atol=1e-11)
    np.testing.assert_allclose(res.output, ref.output, atol=1e-11)
    assert res.spikes_per_neuron()["max"] <= 1
    # spike times differ from the unrounded reference only by the window rounding: compare
    # the decoded values t_max - t, which the rounding does not change
    from lif_bridge.ttfs import layer_plan

    _, plan_grid = layer_plan(net, dt)
    _, plan_exact = layer_plan(net)
    ends = {"input": (plan_grid[0].t_min, plan_exact[0].t_min)}
    ends |= {
        g.population.name: (g.t_max, e.t_max)
        for g, e in zip(plan_grid, plan_exact, strict=True)
        if not g.is_output
    }
    shifted = {k: ref.spike_times[k] + (ends[k][0] - ends[k][1]) for k in ref.spike_times}
    assert _spike_time_error(res.spike_times, shifted) < TIME_TOLERANCE


def test_grid_mode_equals_discrete_reference(small: tuple[Network, np.ndarray]) -> None:
    net, x = small
    dt = 1e-4
    res = simulate_ttfs(net, x, "brian2", dt=dt, interpolate=False)
    ref = simulate_ttfs(net, x, dt=dt)
    assert _spike_time_error(res.spike_times, ref.spike_times) < TIME_TOLERANCE
    np.testing.assert_allclose(res.output, ref.output, atol=1e-12)
    # lif-bridge run --json: spikes per neuron (counted from the monitors too) and SynOps
    ann = ann_forward(net, x, max_rate=1.0)
    got, want = run_payload(net, res, ann, None), run_payload(net, ref, ann, None)
    assert got["max_spikes_per_neuron"] == 1.0 == res.info["max_spikes_per_neuron"]
    for key in ("mean_spikes_per_neuron", "synops_per_sample", "input_spikes_per_sample"):
        assert got[key] == pytest.approx(want[key], rel=1e-12) and got[key] > 0, key


@pytest.mark.slow  # one C++ compilation, ~3 minutes on two cores
def test_cpp_standalone_matches_runtime(small: tuple[Network, np.ndarray]) -> None:
    net, x = small
    res = simulate_ttfs(net, x[:3], "brian2", dt=1e-4, device="cpp_standalone")
    np.testing.assert_allclose(res.output, ann_forward(net, x[:3], max_rate=1.0), atol=1e-11)
    assert res.backend == "brian2 (cpp_standalone)"
