"""The pure step function against the reference backend: counts identical for every neuron."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import ValidationError
from lif_bridge.backend import get_backend
from lif_bridge.network import ConstantCurrent, Network, Poisson, Readout, RegularRate, Simulation
from lif_bridge.plan import lower
from lif_bridge.step import initial_state, simulate, step
from lif_bridge.testing import ARCHITECTURES, GRAPHS, random_graph, random_inputs, random_network

ENCODERS = {"regular": RegularRate(), "poisson": Poisson(seed=3), "current": ConstantCurrent()}


def _sim(encoder: str, steps: int = 40) -> Simulation:
    return Simulation(
        steps=steps, dt=0.01, encoder=ENCODERS[encoder], readout=Readout(counts="all")
    )


def _compare(network: Network, sim: Simulation, samples: int = 3, **options: object) -> None:
    x = random_inputs(network, samples, seed=1)
    plan = lower(network, sim)
    want = simulate(plan, plan.encode(x))
    got = get_backend("reference", **options).lower(network, sim).run(x).counts
    assert sum(int(c.sum()) for c in want.values()) > 0, "silent network proves nothing"
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("encoder", ["regular", "poisson"])
@pytest.mark.parametrize("seed", [0, 1])
def test_reference_equals_step_function_on_graphs(
    graph: str, reset: str, encoder: str, seed: int
) -> None:
    net = random_graph(
        seed, graph, reset=reset, per_neuron=bool(seed), refractory=0.02 if seed else 0.0
    )
    _compare(net, _sim(encoder), batch_size=2)


@pytest.mark.parametrize("graph", ["identity_skip2", "projection_skip2"])
def test_delayed_shortcuts_and_blocks_of_steps(graph: str) -> None:
    """Aligned (delayed) shortcuts; a tiny memory budget forces blocks of a few steps."""
    net = random_graph(2, graph, align_delays=True)
    assert net.population("b").projections[1].delay == 1
    _compare(net, _sim("regular"), memory_gib=1e-4)


@pytest.mark.parametrize("graph", ["identity_skip1", "identity_skip2", "concat2_avg"])
def test_constant_current_on_graphs(graph: str) -> None:
    _compare(random_graph(0, graph), _sim("current"))


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_chains_step_function_and_as_graph(architecture: str) -> None:
    """A chain, its graph form, and the step function give the same counts."""
    chain = random_network(1, architecture, per_neuron=True, refractory=0.02)
    sim = _sim("poisson")
    _compare(chain, sim)
    x = random_inputs(chain, 3, seed=1)
    a = get_backend("reference").lower(chain, sim).run(x).counts
    b = get_backend("reference").lower(chain.as_graph(), sim).run(x).counts
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_step_is_pure_and_delay_shifts_arrival() -> None:
    """step() leaves its state untouched; a delay of d steps postpones the first output by d."""
    net = random_graph(0, "identity_skip1")
    plan = lower(net, _sim("regular", steps=5))
    x = random_inputs(net, 2, seed=0)
    e = plan.encode(x)
    s0 = initial_state(plan, 2)
    v_before = [v.copy() for v in s0.v]
    s1, _ = step(plan, s0, e[:, 0, :])
    assert all(np.array_equal(a, b) for a, b in zip(v_before, s0.v, strict=True))
    assert s1.n == 1 and s0.n == 0


def test_max_pool_on_constant_current_refused_once_in_the_plan() -> None:
    with pytest.raises(ValidationError, match=r"MaxPool2d before 'out'.*use a spiking encoder"):
        lower(
            Network(
                input_shape=(2, 6, 6),
                nodes=tuple(
                    n
                    if n.name != "out"
                    else n.replace(
                        projections=tuple(
                            p.__class__(source="input", map=p.map, stages=p.stages)
                            for p in n.projections[:1]
                        )
                    )
                    for n in random_graph(0, "concat3_max").nodes
                    if n.name == "out"
                ),
            ),
            _sim("current"),
        )


def test_graph_union_counts_equal_each_graph_alone() -> None:
    from lif_bridge.testing import graph_union

    graphs = {g: random_graph(i, g, per_neuron=bool(i % 2)) for i, g in enumerate(GRAPHS[:3])}
    union = graph_union(graphs)
    assert len(union.populations) == sum(len(n.populations) for n in graphs.values())
    sim = _sim("poisson")
    x = random_inputs(union, 2, seed=4)
    plan = lower(union, sim)
    got = simulate(plan, plan.encode(x))
    for key, net in graphs.items():
        alone = lower(net, sim)
        for name, counts in simulate(alone, alone.encode(x)).items():
            np.testing.assert_array_equal(got[f"{key}_{name}"], counts, err_msg=name)
    with pytest.raises(ValueError, match="built from nodes"):  # a chain
        graph_union({"a": random_graph(0), "b": random_network(0, "dense")})
