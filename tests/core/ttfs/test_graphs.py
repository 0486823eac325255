"""TTFS on graph networks (reference backend): windows by depth, re-timed shortcuts, exactness."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from lif_bridge import (
    INPUT,
    Dense,
    Network,
    Neurons,
    Node,
    Projection,
    ann_activations,
    ann_forward,
)
from lif_bridge.errors import ConversionError, ValidationError
from lif_bridge.testing import GRAPHS, random_graph, random_inputs
from lif_bridge.ttfs import (
    convert_ttfs,
    graph_plan,
    layer_plan,
    simulate_ttfs,
    synaptic_operations,
)
from lif_bridge.ttfs.cli import convert_summary
from lif_bridge.ttfs.semantics import decode


def _raw_graph(seed: int, architecture: str) -> Network:
    """A random graph with trained-network neurons (defaults) and per-channel ReLU biases."""
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
    return Network(input_shape=g.input_shape, nodes=nodes)


@pytest.mark.parametrize("architecture", GRAPHS)
def test_random_graph_outputs_equal_relu_graph(architecture: str) -> None:
    raw = _raw_graph(3, architecture)
    x = random_inputs(raw, 24, seed=4)
    net = convert_ttfs(raw, calibration=x, safety=1.0)  # the test inputs are the calibration
    res = simulate_ttfs(net, x)
    ref = ann_forward(net, x, max_rate=1.0)
    np.testing.assert_allclose(res.output, ref, rtol=1e-9, atol=1e-10)
    # every hidden population decodes to its ReLU activation in its level's window
    acts = ann_activations(net, x, max_rate=1.0)
    tau_c = net.metadata["ttfs"]["tau_c"]
    _, plan = graph_plan(net)
    for layer in plan[:-1]:
        name = layer.population.name
        got = decode(res.spike_times[name], layer.t_max, tau_c)
        np.testing.assert_allclose(got, acts[name], rtol=1e-9, atol=1e-10)
    assert res.spikes_per_neuron()["max"] <= 1
    assert np.isfinite(res.spike_times["stem"]).any()  # not a network of silent neurons


def test_populations_of_one_depth_share_the_longest_window() -> None:
    raw = _raw_graph(0, "concat2_avg")  # stem (depth 1) -> x, y (depth 2) -> c (3) -> out (4)
    net = convert_ttfs(raw, calibration=random_inputs(raw, 16))
    windows = net.metadata["ttfs"]["windows"]
    _, plan = graph_plan(net)
    by_name = {lay.population.name: lay for lay in plan}
    assert [by_name[n].depth for n in ("stem", "x", "y", "c", "out")] == [1, 2, 2, 3, 4]
    x, y = by_name["x"], by_name["y"]
    assert (x.t_min, x.t_max) == (y.t_min, y.t_max)
    assert x.t_max - x.t_min == pytest.approx(max(windows["x"], windows["y"]), rel=1e-12)


def _residual() -> Network:
    """h = relu(2 x), r = relu(1.5 h + 0.8 x - 0.1) (x: a shortcut from the input), out = r."""
    h = Node(name="h", projections=(Projection(source=INPUT, map=Dense(weight=[[2.0]])),))
    r = Node(
        name="r",
        projections=(
            Projection(source="h", map=Dense(weight=[[1.5]])),
            Projection(source=INPUT, map=Dense(weight=[[0.8]])),
        ),
        ann_bias=[-0.1],
    )
    out = Node(
        name="out",
        projections=(Projection(source="r", map=Dense(weight=[[1.0]])),),
        ann_activation="identity",
    )
    doc = {"tau_c": 1e-3, "input_window": 1e-3, "windows": {"h": 2e-3, "r": 4e-3}}
    return Network(input_shape=(1,), nodes=(h, r, out), metadata={"coding": "ttfs", "ttfs": doc})


def test_residual_add_spike_times_by_hand() -> None:
    # Windows (ms): input [0, 1], h [1, 3], r [3, 7]; readout at 7.  x = 0.5 spikes at 0.5 ms.
    # h: V(1 ms) = 2 * 0.5 = 1, theta = 2/1 - 0 = 2 -> fires at 1 + (2 - 1) = 2 ms (codes 1).
    # r: the shortcut's input spike is re-timed by t_max(1) - t_max(0) = 2 ms to 2.5 ms, which
    #    codes (3 - 2.5) = 0.5 in window 1; V(3 ms) = 1.5 * 1 + 0.8 * 0.5 = 1.9,
    #    theta = 4 + 0.1 = 4.1 -> fires at 3 + (4.1 - 1.9) = 5.2 ms, codes 7 - 5.2 = 1.8.
    net = _residual()
    _, plan = graph_plan(net)
    r = plan[1]
    assert r.depth == 2
    assert np.allclose([r.t_min - e for e in r.source_ends], [0.0, 2e-3], atol=1e-15)
    res = simulate_ttfs(net, np.array([[0.5]]))
    assert res.spike_times["input"][0, 0] == pytest.approx(0.5e-3, abs=1e-15)
    assert res.spike_times["h"][0, 0] == pytest.approx(2e-3, abs=1e-15)
    assert res.spike_times["r"][0, 0] == pytest.approx(5.2e-3, abs=1e-15)
    assert res.readout_time == pytest.approx(7e-3, abs=1e-15)
    assert res.output[0, 0] == pytest.approx(1.8, abs=1e-12)
    # one spike each (input, h, r), over fan-outs 1 (h), 1 + 1 (r: both projections), 1 (out)
    assert synaptic_operations(net, res) == {"h": 1.0, "r": 2.0, "out": 1.0, "total": 4.0}


@pytest.mark.parametrize(
    ("architecture", "joined"), [("identity_skip1", "a"), ("concat2_avg", "c")]
)
def test_chain_only_plan_refuses_graphs_naming_the_joined_population(
    architecture: str, joined: str
) -> None:
    net = convert_ttfs(_raw_graph(0, architecture), calibration=np.full((2, 2, 6, 6), 0.5))
    with pytest.raises(
        ValidationError,
        match=rf"^X runs TTFS chains only.*several projections: {joined};.*; do Y$",
    ):
        layer_plan(net, backend="X", fix="do Y")


def test_graph_on_a_grid_retimes_by_whole_steps_and_converges() -> None:
    raw = _raw_graph(1, "identity_skip2")  # b sums a (depth 2) and a shortcut from stem (depth 1)
    x = random_inputs(raw, 16, seed=2)
    net = convert_ttfs(raw, calibration=x)
    dt = 1e-6  # tau_c / 1000
    _, plan = graph_plan(net, dt)
    shifts = np.array([lay.t_min - e for lay in plan for e in lay.source_ends])
    assert shifts.max() > 0  # the shortcut is re-timed ...
    np.testing.assert_allclose(shifts / dt, np.round(shifts / dt), atol=1e-6)  # ... by steps
    exact = simulate_ttfs(net, x).output
    coarse, fine = (np.abs(simulate_ttfs(net, x, dt=h).output - exact).max() for h in (dt, dt / 10))
    assert 0 < coarse < 0.01 * np.abs(exact).max()  # quantisation: values rounded down per step
    assert fine < coarse / 3  # and it shrinks with the step


def test_time_budget_counts_levels_and_names_the_longest_window() -> None:
    raw = _raw_graph(0, "concat2_avg")
    x = random_inputs(raw, 16)
    windows = convert_ttfs(raw, calibration=x).metadata["ttfs"]["windows"]
    longest = max(("x", "y"), key=lambda n: windows[n])
    budget = 1e-3 + windows["stem"] + 0.5 * min(windows["x"], windows["y"])
    with pytest.raises(ConversionError, match=rf"layer '{longest}'.*time budget"):
        convert_ttfs(raw, calibration=x, time_budget=budget)
    # the level of x and y costs its longest window once, not the sum of both
    latency = 1e-3 + windows["stem"] + windows[longest] + windows["c"]
    assert simulate_ttfs(
        convert_ttfs(raw, calibration=x, time_budget=latency * (1 + 1e-9)), x[:1]
    ).readout_time == pytest.approx(latency, rel=1e-12)


def test_convert_summary_lists_every_projection_of_a_graph(tmp_path: Path) -> None:
    raw = _raw_graph(0, "identity_skip1")
    net = convert_ttfs(raw, calibration=random_inputs(raw, 8))
    payload, _, text = convert_summary(net, tmp_path / "g.npz", False)
    row = {lay["name"]: lay for lay in payload["layers"]}["a"]
    assert row["type"] == "Conv2d+Identity"
    assert row["synapses"] > row["neurons"]  # the conv's synapses plus one per unit
    assert "readout latency" in text


def test_projection_delays_are_refused_naming_the_projection() -> None:
    # align_delays: the shortcut stem -> b waits 1 rate-coding step; TTFS re-times by depth
    delayed = _raw_graph(0, "identity_skip2")
    nodes = list(delayed.nodes)
    b = nodes[2]
    nodes[2] = dataclasses.replace(
        b, projections=(b.projections[0], dataclasses.replace(b.projections[1], delay=1))
    )
    raw = Network(input_shape=delayed.input_shape, nodes=tuple(nodes))
    message = r"^population 'b', projection 1 \(from 'stem'\) has delay 1 steps;.*set delay=0"
    with pytest.raises(ConversionError, match=message):
        convert_ttfs(raw, calibration=random_inputs(raw, 4))
    # a TTFS network that gained a delay afterwards (e.g. edited, then saved) fails to lower
    net = convert_ttfs(_raw_graph(0, "identity_skip2"), calibration=random_inputs(raw, 4))
    edited = Network(input_shape=net.input_shape, nodes=tuple(nodes), metadata=net.metadata)
    with pytest.raises(ValidationError, match=message):
        simulate_ttfs(edited, random_inputs(raw, 1))
