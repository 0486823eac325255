"""TTFS on Lava: the float model equals the reference's discrete run; the fixed-point model."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import Conv2d, Dense, Flatten, MaxPool2d, Network, agreement, ann_forward
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs
from lif_bridge.ttfs.cli import run_payload

pytestmark = pytest.mark.lava


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
            Flatten(),
            Dense(name="h", weight=rng.normal(0, 0.3, (8, 48)), ann_bias=rng.normal(0, 0.1, 8)),
            Dense(name="o", weight=rng.normal(0, 0.5, (5, 8)), ann_activation="identity"),
        ),
    )
    x = rng.random((8, 2, 8, 8))
    return convert_ttfs(raw, calibration=x), x


def test_float_model_equals_reference_grid(small: tuple[Network, np.ndarray]) -> None:
    net, x = small
    dt = 1e-4
    res = simulate_ttfs(net, x, "lava", dt=dt)
    ref = simulate_ttfs(net, x, dt=dt)
    np.testing.assert_allclose(res.output, ref.output, atol=1e-12)
    for layer, counts in res.info["spikes_per_sample"].items():
        np.testing.assert_array_equal(counts, ref.spike_counts(layer).sum(axis=1))
    assert res.latency_steps == ref.latency_steps
    for layer, t in ref.spike_times.items():  # grid times (inf: silent), rounding aside
        np.testing.assert_allclose(res.spike_times[layer], t, rtol=0, atol=1e-15)
    # lif-bridge run --json: spikes per neuron and SynOps from the recorded times and counts
    ann = ann_forward(net, x, max_rate=1.0)
    got, want = run_payload(net, res, ann, None), run_payload(net, ref, ann, None)
    assert got["max_spikes_per_neuron"] == 1.0 == res.info["max_spikes_per_neuron"]
    for key in ("mean_spikes_per_neuron", "synops_per_sample", "input_spikes_per_sample"):
        assert got[key] == pytest.approx(want[key], rel=1e-12) and got[key] > 0, key


def test_fixed_point_model_is_close(small: tuple[Network, np.ndarray]) -> None:
    net, x = small
    res = simulate_ttfs(net, x, "lava", dt=1e-4, fixed_point=True)
    ref = simulate_ttfs(net, x, dt=1e-4)
    assert res.backend == "lava (fixed_pt)"
    # 8-bit weights: the readout moves by the weight rounding, not by more than a few steps
    assert np.abs(res.output - ref.output).max() < 0.5
    assert agreement(res.output, ann_forward(net, x, max_rate=1.0)).fraction >= 0.75
