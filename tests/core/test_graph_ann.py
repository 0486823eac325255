"""The ANN view and normalisation of graphs: several inputs per population."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import ann_forward
from lif_bridge.convert.scale import convert_network
from lif_bridge.network import Network, Neurons
from lif_bridge.testing import GRAPHS, random_graph, random_inputs


def _raw(graph: str, seed: int = 0) -> Network:
    """A random graph as an unnormalised ReLU net: V_th C_m = 1, biases in ann_bias."""
    net = random_graph(seed, graph)
    rng = np.random.default_rng(seed + 100)
    nodes = tuple(
        n.replace(neurons=Neurons(), ann_bias=rng.normal(0.0, 0.1, net.population(n.name).shape[0]))
        for n in net.nodes
    )
    return Network(input_shape=net.input_shape, nodes=nodes)


def _relu_forward(net: Network, x: np.ndarray) -> np.ndarray:
    """The graph's ReLU network written out directly (dense maps, max of windows), ANN units."""
    acts: list[np.ndarray] = []
    from lif_bridge.connectivity import pool_windows, population_matrix

    for pop in net.populations:
        pre = np.broadcast_to(
            np.repeat(pop.ann_bias, pop.size // pop.ann_bias.size), (len(x), pop.size)
        ).copy()
        for e in pop.projections:
            z = x.reshape(len(x), -1) if e.source < 0 else acts[e.source]
            shape = e.source_shape
            for g in e.gates:
                z = z[:, pool_windows(g, shape)].max(axis=2)
                shape = g.output_shape(shape)
            pre += z @ population_matrix(e.map, e.linear_stages, e.gated_shape).toarray().T
        acts.append(np.maximum(pre, 0.0) if pop.ann_activation == "relu" else pre)
    return acts[-1]


@pytest.mark.parametrize("graph", GRAPHS)
def test_ann_view_of_a_graph_is_its_relu_forward_pass(graph: str) -> None:
    raw = _raw(graph)
    x = random_inputs(raw, 5, seed=2)
    np.testing.assert_allclose(ann_forward(raw, x, max_rate=1.0), _relu_forward(raw, x), atol=1e-12)


@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize("method", ["max", "percentile", "l4"])
def test_normalisation_keeps_the_ann_view_of_graphs(graph: str, method: str) -> None:
    """Each projection scaled by its own source's factor: the ANN view (ANN units) is unchanged."""
    raw = _raw(graph)
    calib = random_inputs(raw, 20, seed=3)
    conv = convert_network(raw, bias_mode="current", normalize=method, calibration=calib)
    assert not conv.is_chain
    factors = conv.metadata["conversion"]["factors"]
    assert len(set(factors.values())) > 1, "factors all equal: the test proves little"
    x = random_inputs(raw, 6, seed=4)
    want = ann_forward(raw, x, max_rate=1.0)
    np.testing.assert_allclose(ann_forward(conv, x, units="ann"), want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("method", ["max", "l4"])
def test_chain_and_its_graph_normalise_alike(method: str) -> None:
    from lif_bridge.testing import random_network

    chain = random_network(0, "conv_max")
    nodes = tuple(n.replace(neurons=Neurons()) for n in chain.as_graph().nodes)
    graph = Network(input_shape=chain.input_shape, nodes=nodes)
    layers = tuple(
        layer.__class__(
            **{**{f: getattr(layer, f) for f in layer.__dataclass_fields__}, "neurons": Neurons()}
        )
        if hasattr(layer, "neurons")
        else layer
        for layer in chain.layers
    )
    chain = Network(input_shape=chain.input_shape, layers=layers)
    calib = random_inputs(chain, 20, seed=3)
    a = convert_network(chain, normalize=method, calibration=calib)
    b = convert_network(graph, normalize=method, calibration=calib)
    assert a.metadata["conversion"]["factors"] == b.metadata["conversion"]["factors"]
    x = random_inputs(chain, 4, seed=5)
    np.testing.assert_array_equal(ann_forward(a, x), ann_forward(b, x))
