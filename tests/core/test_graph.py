"""Tests of graph descriptions: nodes, projections, validation, file format 2, summary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lif_bridge import FileFormatError, ValidationError, load_network, save_network
from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    MaxPool2d,
    Network,
    Neurons,
    Node,
    Poisson,
    Projection,
    Readout,
    Simulation,
    concat_projections,
)
from lif_bridge.network.io import load_network_and_simulation
from lif_bridge.testing import random_network

DATA = Path(__file__).parent / "data"


def _residual() -> Network:
    """input -> a (conv) -> b (conv) + identity(a) -> out (dense)."""
    rng = np.random.default_rng(0)
    return Network(
        input_shape=(1, 4, 4),
        nodes=(
            Node(
                name="a",
                projections=(
                    Projection(
                        source=INPUT, map=Conv2d(weight=rng.normal(size=(2, 1, 3, 3)), padding=1)
                    ),
                ),
            ),
            Node(
                name="b",
                neurons=Neurons(g_l=0.1),
                projections=(
                    Projection(
                        source="a", map=Conv2d(weight=rng.normal(size=(2, 2, 3, 3)), padding=1)
                    ),
                    Projection(source="a", map=Identity(scale=[1.0, 0.5]), delay=1),
                ),
            ),
            Node(
                name="out",
                projections=(
                    Projection(
                        source="b",
                        map=Dense(weight=rng.normal(size=(3, 8))),
                        stages=(MaxPool2d(kernel_size=2), Flatten()),
                    ),
                ),
            ),
        ),
    )


def test_residual_graph_populations_and_edges() -> None:
    net = _residual()
    assert not net.is_chain
    assert [p.name for p in net.populations] == ["a", "b", "out"]
    b = net.population("b")
    assert b.sources == (0, 0) and b.shape == (2, 4, 4)
    assert [e.delay for e in b.projections] == [0, 1]
    out = net.output
    assert out.projections[0].gated_shape == (2, 2, 2)
    assert out.projections[0].input_shape == (8,)
    assert net.consumers(0) == (1,) and net.consumers(-1) == (0,)
    # the chain view works for single undelayed projections, refuses the others by name
    assert out.source == 1 and out.layer.name == "out"
    with pytest.raises(ValidationError, match=r"population 'b' receives 2 projection"):
        _ = b.layer


def test_nodes_are_sorted_topologically_and_cycles_refused() -> None:
    net = _residual()
    shuffled = Network(input_shape=(1, 4, 4), nodes=(net.nodes[1], net.nodes[0], net.nodes[2]))
    assert [n.name for n in shuffled.nodes] == ["a", "b", "out"]
    assert shuffled == net
    d = Dense(weight=np.ones((2, 2)))
    with pytest.raises(ValidationError, match=r"cycle: (x -> y -> x|y -> x -> y)"):
        Network(
            input_shape=(2,),
            nodes=(
                Node(name="x", projections=(Projection(source="y", map=d),)),
                Node(name="y", projections=(Projection(source="x", map=d),)),
                Node(name="o", projections=(Projection(source="y", map=d),)),
            ),
        )


@pytest.mark.parametrize(
    ("nodes", "pattern"),
    [
        (
            (
                Node(
                    name="o",
                    projections=(Projection(source="nope", map=Dense(weight=np.ones((2, 2)))),),
                ),
            ),
            r"projection 0 comes from 'nope', which is not a node",
        ),
        (
            (
                Node(
                    name="o",
                    projections=(Projection(source=INPUT, map=Dense(weight=np.ones((2, 2)))),),
                ),
                Node(
                    name="o",
                    projections=(Projection(source=INPUT, map=Dense(weight=np.ones((2, 2)))),),
                ),
            ),
            r"node names must be unique, repeated: \['o'\]",
        ),
        (
            (
                Node(
                    name="o",
                    projections=(
                        Projection(source=INPUT, map=Dense(weight=np.ones((2, 2)))),
                        Projection(source=INPUT, map=Dense(weight=np.ones((3, 2)))),
                    ),
                ),
            ),
            r"Node 'o': its projections deliver different shapes",
        ),
        (
            (
                Node(
                    name="o",
                    projections=(Projection(source=INPUT, map=Dense(weight=np.ones((2, 3)))),),
                ),
            ),
            r"Node 'o', projection 0 from 'input' \(2,\): Dense: expects a vector of 3",
        ),
        (
            (
                Node(
                    name="o",
                    projections=(Projection(source=INPUT, map=Dense(weight=np.ones((2, 2)))),),
                ),
                Node(
                    name="p",
                    projections=(Projection(source="o", map=Dense(weight=np.ones((2, 2)))),),
                ),
            )[::-1],
            r"the last node 'o' is the readout and must feed no other node",
        ),
    ],
)
def test_graph_errors_name_the_node(nodes: tuple[Node, ...], pattern: str) -> None:
    with pytest.raises(ValidationError, match=pattern):
        Network(input_shape=(2,), nodes=nodes)


def test_projection_and_node_validation() -> None:
    d = Dense(weight=np.ones((2, 2)))
    with pytest.raises(ValidationError, match=r"delay must be an int >= 0"):
        Projection(source=INPUT, map=d, delay=-1)
    with pytest.raises(ValidationError, match=r"set them on the Node"):
        Projection(source=INPUT, map=Dense(weight=np.ones((2, 2)), neurons=Neurons(g_l=1.0)))
    with pytest.raises(ValidationError, match=r"spiking max pool must receive spikes directly"):
        Projection(source=INPUT, map=d, stages=(AvgPool2d(kernel_size=2), MaxPool2d()))
    with pytest.raises(ValidationError, match=r"name must be a non-empty string other than"):
        Node(name=INPUT, projections=(Projection(source=INPUT, map=d),))
    with pytest.raises(ValidationError, match=r"Identity: scale has 3 values but the input has 2"):
        Network(
            input_shape=(2,),
            nodes=(
                Node(
                    name="o", projections=(Projection(source=INPUT, map=Identity(scale=[1, 2, 3])),)
                ),
            ),
        )
    with pytest.raises(ValidationError, match=r"per-neuron parameters have 3 values"):
        Network(
            input_shape=(2,),
            nodes=(
                Node(
                    name="o",
                    neurons=Neurons(v_th=[1, 2, 3]),
                    projections=(Projection(source=INPUT, map=d),),
                ),
            ),
        )


def test_concat_projections_split_weights_in_torch_order() -> None:
    """cat([a (2ch), b (1ch)], 1) -> conv equals the sum of the two block projections."""
    rng = np.random.default_rng(1)
    conv = Conv2d(weight=rng.normal(size=(4, 3, 3, 3)), padding=1)
    projs = concat_projections([("a", (2, 5, 5)), ("b", (1, 5, 5))], conv)
    assert [p.source for p in projs] == ["a", "b"]
    np.testing.assert_array_equal(projs[0].map.weight, np.asarray(conv.weight)[:, :2])
    np.testing.assert_array_equal(projs[1].map.weight, np.asarray(conv.weight)[:, 2:])
    dense = Dense(weight=rng.normal(size=(2, 3 * 4)))
    flat = concat_projections(
        [("a", (2, 4, 4)), ("b", (1, 4, 4))], dense, (AvgPool2d(kernel_size=2), Flatten())
    )
    assert [np.shape(p.map.weight) for p in flat] == [(2, 8), (2, 4)]
    with pytest.raises(
        ValidationError, match=r"reads 12 inputs but the flattened sources give \[8, 8\]"
    ):
        concat_projections(
            [("a", (2, 4, 4)), ("b", (2, 4, 4))], dense, (AvgPool2d(kernel_size=2), Flatten())
        )
    grouped = Conv2d(weight=np.ones((2, 1, 1, 1)), groups=2)
    with pytest.raises(ValidationError, match=r"groups=2"):
        concat_projections([("a", (1, 2, 2)), ("b", (1, 2, 2))], grouped)


def test_graph_round_trip_format_2(tmp_path: Path) -> None:
    net = _residual()
    path = save_network(tmp_path / "g.npz", net)
    loaded = load_network(path)
    assert loaded == net and not loaded.is_chain
    assert loaded.population("b").projections[1].delay == 1


def test_format_1_file_from_0_1_still_loads() -> None:
    """tests/core/data/network_format1.npz was written by lif-bridge 0.1 (format version 1)."""
    net, sim = load_network_and_simulation(DATA / "network_format1.npz")
    want = random_network(3, "mixed", per_neuron=True, refractory=0.02)
    assert net.layers == want.layers and net.input_shape == want.input_shape
    assert net.max_rate == 50.0 and net.metadata == {"source": "format-1 fixture"}
    assert sim == Simulation(
        steps=20, dt=0.01, encoder=Poisson(seed=4), readout=Readout(counts="all", traces=("conv0",))
    )


def test_newer_graph_version_refused(tmp_path: Path) -> None:
    import json

    path = save_network(tmp_path / "g.npz", _residual())
    with np.load(path) as z:
        header = json.loads(str(z["lif_bridge_header"]))
        arrays = {k: z[k] for k in z.files if k != "lif_bridge_header"}
    header["version"] = 3
    np.savez(tmp_path / "new.npz", lif_bridge_header=np.array(json.dumps(header)), **arrays)
    with pytest.raises(FileFormatError, match=r"format version 3, this one reads up to 2"):
        load_network(tmp_path / "new.npz")


def test_chain_as_graph_has_the_same_populations() -> None:
    chain = random_network(2, "mixed")
    graph = chain.as_graph()
    assert not graph.is_chain and chain.as_graph().as_graph() == graph
    for p, q in zip(chain.populations, graph.populations, strict=True):
        assert (p.name, p.shape, p.sources) == (q.name, q.shape, q.sources)
        assert p.neurons == q.neurons
        assert p.projections[0].projection == q.projections[0].projection


def test_summary_shows_edges() -> None:
    lines = _residual().summary().splitlines()
    assert lines[0] == "input (1, 4, 4)"
    assert lines[1].split()[:2] == ["a", "Node"]
    assert lines[2].split()[:3] == ["<-", "input", "Conv2d"]
    b = lines.index(next(line for line in lines if line.startswith("b ")))
    assert "<- a" in lines[b + 1] and "Conv2d" in lines[b + 1]
    assert (
        "Identity" in lines[b + 2] and "delay=1" in lines[b + 2] and "synapses=32" in lines[b + 2]
    )
    assert "<- b via MaxPool2d, Flatten" in lines[-1]
    chain = random_network(0, "conv_max").summary().splitlines()
    assert chain[1].endswith("<- input") and chain[3].endswith("<- conv0 via maxpool1")
