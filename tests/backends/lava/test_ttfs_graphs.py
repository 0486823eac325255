"""TTFS graphs on Lava: one in-port per source, re-timed shortcuts held inside the consumer.

The float model equals the reference's discrete run of the same ``dt`` spike for spike on a
graph with a delayed identity shortcut and on one with three concatenated sources through a
max pool; the fixed-point model shares one ramp across a population's projections.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge import Network, Neurons
from lif_bridge.testing import random_graph, random_inputs
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs

pytestmark = pytest.mark.lava

#: tau_c / 4: few steps per window keep the Lava runs short.
DT = 2.5e-4


def _ttfs_graph(architecture: str, seed: int = 3) -> tuple[Network, np.ndarray]:
    g = random_graph(seed, architecture)
    rng = np.random.default_rng(seed + 100)
    shapes = {p.name: p.shape for p in g.populations}
    last = g.nodes[-1].name
    nodes = tuple(
        dataclasses.replace(
            n,
            neurons=Neurons(),
            ann_bias=rng.normal(0.0, 0.2, shapes[n.name][0]),
            ann_activation="identity" if n.name == last else "relu",
        )
        for n in g.nodes
    )
    raw = Network(input_shape=g.input_shape, nodes=nodes)
    x = random_inputs(raw, 3, seed=seed)
    return convert_ttfs(raw, calibration=x), x


@pytest.mark.parametrize("architecture", ["identity_skip2", "concat3_max"])
def test_float_graph_equals_the_discrete_reference(architecture: str) -> None:
    net, x = _ttfs_graph(architecture)
    res = simulate_ttfs(net, x, "lava", dt=DT)
    ref = simulate_ttfs(net, x, dt=DT)
    np.testing.assert_allclose(res.output, ref.output, atol=1e-12)
    assert set(res.spike_times) == set(ref.spike_times)
    for name, t in ref.spike_times.items():
        fired = np.isfinite(t)
        assert fired.any(), f"{name}: no spike at all (a vacuous comparison)"
        np.testing.assert_array_equal(np.isfinite(res.spike_times[name]), fired, err_msg=name)
        np.testing.assert_allclose(res.spike_times[name][fired], t[fired], atol=1e-12)
        counts = res.info["spikes_per_sample"][name]
        np.testing.assert_array_equal(counts, fired.sum(axis=1))
    assert res.spikes_per_neuron()["max"] == 1


def test_fixed_point_graph_is_close() -> None:
    net, x = _ttfs_graph("identity_skip2")
    res = simulate_ttfs(net, x, "lava", dt=DT, fixed_point=True)
    ref = simulate_ttfs(net, x, dt=DT)
    assert res.backend == "lava (fixed_pt)"
    # 8-bit weights on two summed projections: the readout moves by the weight rounding
    scale = np.abs(ref.output).max()
    assert 0 < np.abs(res.output - ref.output).max() < 0.05 * scale
    assert res.spikes_per_neuron()["max"] <= 1
