"""NIR export/import: node mapping, parameter conversion on numbers, exact round trips, errors."""

from __future__ import annotations

import os

import numpy as np
import pytest

from lif_bridge import Dense, LifBridgeError, Network, Neurons, Simulation
from lif_bridge.network import INPUT, Identity, Node, Poisson, Projection
from lif_bridge.testing import ARCHITECTURES, GRAPHS, random_graph, random_network
from lif_bridge.zoo.nets import PAPER_NETS, paper_network

pytestmark = [pytest.mark.nir, pytest.mark.filterwarnings("ignore:NIR export")]


def _lif_net() -> Network:
    nrn = Neurons(c_m=2.0, g_l=0.5, v_th=1.5, v_rest=0.1, i_bias=np.array([0.2, -0.4]))
    weight = np.arange(6.0).reshape(2, 3)
    return Network(input_shape=(3,), layers=(Dense(name="fc", weight=weight, neurons=nrn),))


def test_lif_parameters_convert_to_nir_conventions() -> None:
    import nir

    from lif_bridge import to_nir

    g = to_nir(_lif_net())
    lif = g.nodes["fc"]
    assert isinstance(lif, nir.LIF)
    np.testing.assert_allclose(lif.tau, [4.0, 4.0])  # C_m / g_l = 2 / 0.5 s
    np.testing.assert_allclose(lif.r, [2.0, 2.0])  # 1 / g_l
    np.testing.assert_allclose(lif.v_leak, [0.1, 0.1])  # v_rest
    np.testing.assert_allclose(lif.v_threshold, [1.5, 1.5])
    aff = g.nodes["fc.p0"]
    assert isinstance(aff, nir.Affine)
    np.testing.assert_array_equal(aff.weight, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(aff.bias, [0.2, -0.4])  # I_bias
    assert sorted(g.edges) == sorted([(INPUT, "fc.p0"), ("fc.p0", "fc"), ("fc", "output")])


def test_if_neurons_are_nir_if_with_r_one_over_c_m() -> None:
    import nir

    from lif_bridge import to_nir

    net = Network(
        input_shape=(2,),
        layers=(Dense(name="fc", weight=np.eye(2), neurons=Neurons(c_m=4.0, v_th=0.5)),),
    )
    node = to_nir(net).nodes["fc"]
    assert isinstance(node, nir.IF)
    np.testing.assert_allclose(node.r, [0.25, 0.25])
    np.testing.assert_allclose(node.v_threshold, [0.5, 0.5])


def test_export_warns_what_a_plain_reader_loses() -> None:
    from lif_bridge.nir import NirExportWarning, to_nir

    with pytest.warns(NirExportWarning, match="subtractive reset"):
        to_nir(_lif_net())


@pytest.mark.parametrize("name", list(PAPER_NETS))
def test_zoo_round_trip_through_file(tmp_path, name: str) -> None:
    import nir

    from lif_bridge.nir import read_nir, write_nir

    net = paper_network(name)
    sim = Simulation(steps=50, dt=1e-3, encoder=Poisson(seed=3))
    old = os.umask(0o027)
    try:
        path = write_nir(tmp_path / f"{name}.nir", net, sim)
    finally:
        os.umask(old)
    assert (path.stat().st_mode & 0o777) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.nir"]  # no temporary left
    assert isinstance(nir.read(path), nir.NIRGraph)  # a plain reader (type check on) loads it
    back, back_sim = read_nir(path)
    assert back == net
    assert back_sim == sim


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_random_chain_round_trip(arch: str) -> None:
    from lif_bridge import from_nir, to_nir

    net = random_network(1, arch, per_neuron=True, refractory=2e-3)
    assert from_nir(to_nir(net)) == net


@pytest.mark.parametrize("arch", GRAPHS)
def test_random_graph_round_trip(arch: str) -> None:
    from lif_bridge import from_nir, to_nir

    net = random_graph(3, arch, reset="zero", align_delays=True)
    g = to_nir(net)
    assert from_nir(g) == net
    for pop in net.populations:  # several projections: several edges into one neuron node
        assert sum(1 for _, b in g.edges if b == pop.name) == len(pop.projections)


def test_shortcut_becomes_scale_node_and_delay_is_listed_as_lost() -> None:
    import nir

    from lif_bridge.nir import NirExportWarning, to_nir

    nrn = Neurons(g_l=0.1)
    net = Network(
        input_shape=(2,),
        nodes=(
            Node(name="a", projections=(Projection(source=INPUT, map=Dense(weight=np.eye(2))),)),
            Node(
                name="b",
                neurons=nrn,
                projections=(
                    Projection(source="a", map=Dense(weight=np.ones((2, 2)))),
                    Projection(source=INPUT, map=Identity(scale=0.5), delay=1),
                ),
            ),
        ),
    )
    with pytest.warns(NirExportWarning, match="projection delays"):
        g = to_nir(net)
    assert isinstance(g.nodes["b.p1"], nir.Scale)
    np.testing.assert_array_equal(g.nodes["b.p1"].scale, [0.5, 0.5])


def _two_node_graph(nir, second):  # type: ignore[no-untyped-def]
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "x": second,
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "x"), ("x", "output")],
        type_check=False,
    )


def test_bad_graphs_are_refused_naming_the_node(tmp_path) -> None:
    import nir

    from lif_bridge import from_nir, to_nir

    with pytest.raises(LifBridgeError, match="'x' is a Threshold"):
        from_nir(_two_node_graph(nir, nir.Threshold(threshold=np.ones(2))))
    nan_if = nir.IF(r=np.array([1.0, np.nan]), v_threshold=np.ones(2), v_reset=np.zeros(2))
    with pytest.raises(LifBridgeError, match=r"'x'.*NaN"):
        from_nir(_two_node_graph(nir, nan_if))
    g = to_nir(_lif_net())
    g.edges.append(("fc", "fc.p0"))
    with pytest.raises(LifBridgeError, match="cycle"):
        from_nir(g)
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not hdf5")
    with pytest.raises(LifBridgeError, match=r"bad\.nir"):
        from_nir(bad)


def test_file_sizes_are_checked_against_the_limits_before_reading(tmp_path) -> None:
    from lif_bridge import from_nir
    from lif_bridge.limits import override
    from lif_bridge.nir import write_nir

    path = write_nir(tmp_path / "n.nir", _lif_net(), warn=False)
    with override(memory_bytes=64), pytest.raises(LifBridgeError, match="memory_bytes"):
        from_nir(path)
    with override(layers=2), pytest.raises(LifBridgeError, match="number of NIR nodes"):
        from_nir(path)


def test_without_the_nir_package_the_error_names_the_extra(monkeypatch) -> None:
    import sys

    from lif_bridge import to_nir

    monkeypatch.setitem(sys.modules, "nir", None)  # import nir raises ImportError
    with pytest.raises(LifBridgeError, match=r"lif-bridge\[nir\]"):
        to_nir(_lif_net())


def test_bn_cnn_with_bias_currents_exports_its_biases_and_round_trips(tmp_path) -> None:
    import nir

    from lif_bridge.convert.scale import convert_network
    from lif_bridge.experiments.study import bn_cnn_raw
    from lif_bridge.nir import read_nir, write_nir

    net = convert_network(bn_cnn_raw(), bias_mode="current", max_rate=100.0)
    path = write_nir(tmp_path / "bn.nir", net, warn=False)
    g = nir.read(path)  # type check on
    conv1 = net.population("conv1")
    bias = np.broadcast_to(conv1.neurons.i_bias, (conv1.size,)).reshape(conv1.shape)
    np.testing.assert_array_equal(g.nodes["conv1.p0"].bias, bias[:, 0, 0])  # per channel
    assert isinstance(g.nodes["conv2.p0.s0"], nir.AvgPool2d)  # the max pool's stand-in
    assert read_nir(path) == (net, None)


def test_unserialisable_metadata_is_one_clear_error() -> None:
    from lif_bridge import to_nir

    net = Network(input_shape=(3,), layers=_lif_net().layers, metadata={"x": object()})
    with pytest.raises(LifBridgeError, match="JSON-serialisable"):
        to_nir(net)
