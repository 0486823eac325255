"""The exactness property: decoded TTFS outputs equal the ReLU network on random small nets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lif_bridge import Conv2d, Dense, Flatten, MaxPool2d, Network, ann_activations, ann_forward
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs
from lif_bridge.ttfs.semantics import decode


def _random_mlp(rng: np.random.Generator, sizes: list[int]) -> Network:
    layers: list = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        last = k == len(sizes) - 2
        layers.append(
            Dense(
                name=f"d{k}",
                weight=rng.normal(0, 1.5 / np.sqrt(n_in), (n_out, n_in)),
                ann_bias=rng.normal(0, 0.3, n_out),
                ann_activation="identity" if last else "relu",
            )
        )
    return Network(input_shape=(sizes[0],), layers=tuple(layers))


@pytest.mark.parametrize("seed", range(6))
def test_random_mlp_outputs_equal_relu(seed: int) -> None:
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(3, 12)) for _ in range(int(rng.integers(3, 6)))]
    raw = _random_mlp(rng, sizes)
    x = rng.random((64, sizes[0]))
    net = convert_ttfs(raw, calibration=x, safety=1.0)  # the test inputs are the calibration
    res = simulate_ttfs(net, x)
    np.testing.assert_allclose(res.output, ann_forward(net, x, max_rate=1.0), atol=1e-12)
    # every hidden layer decodes to its ReLU activation, with at most one spike per neuron
    acts = ann_activations(net, x, max_rate=1.0)
    ttfs = net.metadata["ttfs"]
    t_max = ttfs["input_window"]
    for pop in net.populations[:-1]:
        t_max += ttfs["windows"][pop.name]
        np.testing.assert_allclose(
            decode(res.spike_times[pop.name], t_max, ttfs["tau_c"]), acts[pop.name], atol=1e-12
        )
    assert res.spikes_per_neuron()["max"] <= 1


def test_random_conv_maxpool_outputs_equal_relu() -> None:
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
    x = rng.random((32, 2, 8, 8))
    net = convert_ttfs(raw, calibration=x)
    res = simulate_ttfs(net, x)
    np.testing.assert_allclose(res.output, ann_forward(net, x, max_rate=1.0), atol=1e-12)


def test_discrete_time_converges_to_exact() -> None:
    rng = np.random.default_rng(5)
    raw = _random_mlp(rng, [10, 8, 6, 4])
    x = rng.random((50, 10))
    net = convert_ttfs(raw, calibration=x)
    ann = ann_forward(net, x, max_rate=1.0)
    errors = [np.abs(simulate_ttfs(net, x, dt=dt).output - ann).max() for dt in (1e-4, 1e-5, 1e-6)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-2
