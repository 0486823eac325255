"""Graphs on Brian2 (issue 8): one ``Synapses`` per incoming projection into the same group.

Until the reference backend runs graphs, the check is exact by construction: a chain's
population fed instead by two projections of half its weights (and its max-pool edge split
the same way) receives the same sums to the last bit (halving is exact in floating point,
and each projection's events are summed before the other's), so its counts must equal the
reference's counts of the chain. Delays and identity shortcuts are checked against the core's
plan in the conformance suite once the reference runs graphs.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge.backend import simulate
from lif_bridge.network import Network, Poisson, Readout, Simulation
from lif_bridge.testing import random_inputs, random_network

pytestmark = pytest.mark.brian2


def _split_in_halves(chain: Network) -> Network:
    nodes = []
    for node in chain.as_graph().nodes:
        halves = []
        for proj in node.projections:
            half = dataclasses.replace(proj.map, weight=np.asarray(proj.map.weight) / 2)
            halves += [dataclasses.replace(proj, map=half)] * 2
        nodes.append(dataclasses.replace(node, projections=tuple(halves)))
    return Network(input_shape=chain.input_shape, nodes=tuple(nodes), max_rate=chain.max_rate)


@pytest.mark.parametrize("architecture", ["conv_max", "mixed"])
def test_two_projections_into_one_group_sum_like_one(architecture: str) -> None:
    from lif_bridge_brian2 import to_brian2

    chain = random_network(1, architecture, per_neuron=True, refractory=0.02)
    graph = _split_in_halves(chain)
    sim = Simulation(steps=40, dt=0.01, encoder=Poisson(seed=5), readout=Readout(counts="all"))
    x = random_inputs(chain, 2, seed=3)
    want = simulate(chain, x, sim, "reference")
    got = simulate(graph, x, sim, "brian2", device="runtime")
    assert sum(int(c.sum()) for c in want.counts.values()) > 0
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)
    _, lmap = to_brian2(graph, sim)
    for node in graph.nodes:
        assert len(lmap.projections[node.name]) == 2  # one Synapses per projection
        assert all(s.target is lmap.groups[node.name] for s in lmap.projections[node.name])
