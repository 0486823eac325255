"""TTFS graphs on Brian2 (NumPy target): several Synapses into one group, re-timed shortcuts.

Three graphs of :data:`lif_bridge.testing.GRAPHS` cover what a graph adds to a chain: a
delayed strided-conv shortcut and three concatenated sources through a max pool, run with
interpolated spike times against the reference's exact continuous-time solution, and a delayed
identity shortcut on the grid against the reference's discrete run of the same ``dt`` (the
same neurons fire, at the same times). Average pooling is a linear stage, as in chains.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge import Network, Neurons, ann_forward
from lif_bridge.testing import random_graph, random_inputs
from lif_bridge.ttfs import convert_ttfs, graph_plan, simulate_ttfs

pytestmark = pytest.mark.brian2

#: Spike times of Brian2 (interpolated) and the exact reference agree to this [s].
TIME_TOLERANCE = 1e-12
#: tau_c / 4: interpolated spike times are exact for any step, and few steps keep this fast.
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


def _spike_time_error(a: dict, b: dict) -> float:
    worst = 0.0
    for k in b:
        fa, fb = np.isfinite(a[k]), np.isfinite(b[k])
        assert np.array_equal(fa, fb), f"layer {k}: different neurons fired"
        assert fb.any(), f"layer {k}: no spike at all (a vacuous comparison)"
        worst = max(worst, float(np.abs(a[k][fa] - b[k][fb]).max(initial=0.0)))
    return worst


def _window_shift(net: Network) -> dict[str, float]:
    """Per population: ``t_max`` on the grid of :data:`DT` minus its exact ``t_max`` [s]."""
    (end_grid, grid), (end_exact, exact) = graph_plan(net, DT), graph_plan(net)
    shift = {"input": end_grid - end_exact}
    for g, e in zip(grid[:-1], exact[:-1], strict=True):
        shift[g.population.name] = g.t_max - e.t_max
    return shift


@pytest.mark.parametrize("architecture", ["projection_skip2", "concat3_max"])
def test_interpolated_graph_spike_times_equal_the_exact_reference(architecture: str) -> None:
    net, x = _ttfs_graph(architecture)
    res = simulate_ttfs(net, x, "brian2", dt=DT)
    ref = simulate_ttfs(net, x)
    np.testing.assert_allclose(res.output, ref.output, atol=1e-11)
    np.testing.assert_allclose(res.output, ann_forward(net, x, max_rate=1.0), atol=1e-11)
    assert res.spikes_per_neuron()["max"] <= 1
    # the grid rounds windows up; a spike keeps its value, so it moves with its window's end
    shift = _window_shift(net)
    shifted = {k: t + shift[k] for k, t in ref.spike_times.items()}
    assert _spike_time_error(res.spike_times, shifted) < TIME_TOLERANCE


def test_grid_graph_equals_the_discrete_reference() -> None:
    net, x = _ttfs_graph("identity_skip2")  # a delayed identity shortcut on the grid
    res = simulate_ttfs(net, x, "brian2", dt=DT, interpolate=False)
    ref = simulate_ttfs(net, x, dt=DT)
    assert _spike_time_error(res.spike_times, ref.spike_times) < TIME_TOLERANCE
    np.testing.assert_allclose(res.output, ref.output, atol=1e-12)
