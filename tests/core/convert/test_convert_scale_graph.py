"""Normalisation of residual additions: each projection scaled by its own source's factor.

For a population ``l`` summing projections from sources ``s`` (Hu et al. 2018's shortcut
normalisation is the same rule), the converted map is ``M_{l,s} = W_{l,s} V_th C_m
(λ_s / λ_l)(ρ_l / ρ_s)`` — for an identity shortcut its per-channel scale, for a 1×1
projection its weights — and the bias ``b_l V_th C_m ρ_l / λ_l``; then the ANN view in ANN
units is the raw network's, whatever the factors.
"""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.ann import ann_activations
from lif_bridge.convert.scale import convert_network
from lif_bridge.network import Identity, Network, Neurons
from lif_bridge.testing import random_graph, random_inputs

FACTORS = {"stem": 2.0, "a": 0.5, "b": 4.0, "out": 3.0}


def _raw(graph: str) -> Network:
    net = random_graph(0, graph)
    rng = np.random.default_rng(5)
    nodes = tuple(
        n.replace(neurons=Neurons(), ann_bias=rng.normal(0.0, 0.1, net.population(n.name).size))
        for n in net.nodes
    )
    return Network(input_shape=net.input_shape, nodes=nodes)


def _weights(m: object) -> np.ndarray:
    return np.asarray(m.scale if isinstance(m, Identity) else m.weight)  # type: ignore[attr-defined]


@pytest.mark.parametrize("graph", ["identity_skip2", "projection_skip2"])
@pytest.mark.parametrize(("max_rate", "layer_rate"), [(100.0, None), (50.0, 200.0)])
def test_each_shortcut_is_scaled_by_its_own_source_factor(
    graph: str, max_rate: float, layer_rate: float | None
) -> None:
    raw = _raw(graph)
    factors = [FACTORS[p.name] for p in raw.populations]
    net = convert_network(raw, factors=factors, max_rate=max_rate, layer_rate=layer_rate)
    rho = max_rate if layer_rate is None else layer_rate
    for raw_node, node in zip(raw.nodes, net.nodes, strict=True):
        target = FACTORS[node.name]
        for raw_p, p in zip(raw_node.projections, node.projections, strict=True):
            src, src_rate = (1.0, max_rate) if p.source == "input" else (FACTORS[p.source], rho)
            want = _weights(raw_p.map) * (src / target) * (rho / src_rate)
            np.testing.assert_allclose(_weights(p.map), want, rtol=1e-12, err_msg=node.name)
        np.testing.assert_allclose(node.ann_bias, raw_node.ann_bias * rho / target, rtol=1e-12)
        assert node.rate_scale == pytest.approx(rho / target)
    shortcut = net.population("b").projections[1]
    assert shortcut.source_name == "stem"
    assert isinstance(shortcut.map, Identity) == (graph == "identity_skip2")
    x = random_inputs(raw, 4, seed=2)
    want_acts = ann_activations(raw, x, max_rate=1.0)
    got_acts = ann_activations(net, x, units="ann")
    for name, want in want_acts.items():
        np.testing.assert_allclose(got_acts[name], want, rtol=1e-10, atol=1e-12, err_msg=name)
