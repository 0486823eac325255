"""Graphs of other tools beyond IF/LIF chains: CubaLIF (in the limit tau_syn -> 0), Delay nodes
as projection delays, Conv2d string padding, nested subgraphs (flattened).

Built node for node with ``nir`` as the tools write them: snnTorch's ``Synaptic`` as CubaLIF
(``w_in = tau_syn / dt``), its ``RLeaky`` as a recurrent subgraph, torch's ``padding="same"``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lif_bridge import LifBridgeError, Simulation, from_nir, simulate
from lif_bridge.network import INPUT

pytestmark = [pytest.mark.nir]


def _if(n: int):  # type: ignore[no-untyped-def]
    import nir

    return nir.IF(r=np.ones(n), v_threshold=np.ones(n), v_reset=np.zeros(n))


def _graph(nodes: dict, edges: list):  # type: ignore[no-untyped-def]
    import nir

    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def _chain(in_shape, out_shape, *layers):  # type: ignore[no-untyped-def]
    import nir

    names = [n for n, _ in layers]
    nodes = {
        INPUT: nir.Input(input_type={"input": np.array(in_shape)}),
        **dict(layers),
        "output": nir.Output(output_type={"output": np.array(out_shape)}),
    }
    edges = [(a, b) for a, b in zip([INPUT, *names], [*names, "output"], strict=True)]
    return _graph(nodes, edges)


def _cuba(n: int, tau_syn: float, w_in: np.ndarray):  # type: ignore[no-untyped-def]
    import nir

    return nir.CubaLIF(tau_syn=np.full(n, tau_syn), tau_mem=np.full(n, 0.02),
                       r=np.full(n, 2.0), v_leak=np.zeros(n), v_threshold=np.ones(n),
                       v_reset=np.zeros(n), w_in=w_in)  # fmt: skip


def test_cubalif_is_refused_unless_its_limit_is_accepted() -> None:
    import nir

    w, b, w_in = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, 0.25]), np.array([2.0, 3.0])
    g = _chain([2], [2], ("fc", nir.Affine(weight=w, bias=b)), ("syn", _cuba(2, 5e-3, w_in)))
    with pytest.raises(LifBridgeError, match=r"'syn' \(CubaLIF\) has tau_syn up to 0.005 s"):
        from_nir(g)
    net = from_nir(g, tau_syn_max=5e-3)
    # tau_syn -> 0: the same network as a LIF of tau_mem whose inputs are scaled by w_in
    lif = nir.LIF(tau=np.full(2, 0.02), r=np.full(2, 2.0), v_leak=np.zeros(2),
                  v_threshold=np.ones(2), v_reset=np.zeros(2))  # fmt: skip
    want = _chain([2], [2], ("fc", nir.Affine(weight=w * w_in[:, None], bias=b * w_in)),
                  ("syn", lif))  # fmt: skip
    assert net == from_nir(want)
    np.testing.assert_allclose(net.population("syn").neurons.c_m, 0.01)  # tau_mem / r
    np.testing.assert_allclose(net.population("syn").neurons.i_bias, b * w_in)


def test_cubalif_behind_a_conv_folds_w_in_per_channel() -> None:
    import nir

    rng = np.random.default_rng(0)
    conv = nir.Conv2d(input_shape=(4, 4), weight=rng.random((2, 1, 3, 3)), stride=1,
                      padding=1, dilation=1, groups=1, bias=np.zeros(2))  # fmt: skip
    per_channel = np.repeat([2.0, 0.5], 16).reshape(2, 4, 4)
    cuba = nir.CubaLIF(tau_syn=np.full((2, 4, 4), 1e-4), tau_mem=np.full((2, 4, 4), 0.02),
                       r=np.ones((2, 4, 4)), v_leak=np.zeros((2, 4, 4)),
                       v_threshold=np.ones((2, 4, 4)), w_in=per_channel)  # fmt: skip
    net = from_nir(_chain([1, 4, 4], [2, 4, 4], ("c", conv), ("n", cuba)), tau_syn_max=1e-4)
    got = net.population("n").projections[0].map.weight
    np.testing.assert_allclose(got, conv.weight * np.array([2.0, 0.5])[:, None, None, None])
    cuba.w_in = per_channel * rng.uniform(1, 2, per_channel.shape)
    with pytest.raises(LifBridgeError, match=r"'n' \(CubaLIF\) has w_in varying within a channel"):
        from_nir(_chain([1, 4, 4], [2, 4, 4], ("c", conv), ("n", cuba)), tau_syn_max=1e-4)


def _delayed(delay: np.ndarray):  # type: ignore[no-untyped-def]
    import nir

    fc = nir.Affine(weight=np.full((2, 3), 0.6), bias=np.zeros(2))
    return _chain([3], [2], ("fc", fc), ("d", nir.Delay(delay=delay)), ("n", _if(2)))


def test_delay_nodes_become_projection_delays_in_whole_steps() -> None:
    net = from_nir(_delayed(np.full(2, 3e-3)), dt=1e-3)
    assert net.population("n").projections[0].delay == 3
    sim = Simulation(steps=40, dt=1e-3)
    x = np.ones((1, 3))
    late = simulate(net, x, sim).counts["n"]
    early = simulate(from_nir(_delayed(np.zeros(2)), dt=1e-3), x, sim).counts["n"]
    assert int(early.sum()) > int(late.sum()) > 0  # 3 steps later: fewer spikes in the window
    with pytest.raises(LifBridgeError, match=r"'d' \(Delay\) needs the simulation step"):
        from_nir(_delayed(np.full(2, 3e-3)))
    with pytest.raises(LifBridgeError, match=r"'d' \(Delay\) of 0.0025 s is 2.5 steps"):
        from_nir(_delayed(np.full(2, 2.5e-3)), dt=1e-3)
    with pytest.raises(LifBridgeError, match=r"'d' \(Delay\) delays its units differently"):
        from_nir(_delayed(np.array([1e-3, 2e-3])), dt=1e-3)


def _conv(padding, stride=1, k=3):  # type: ignore[no-untyped-def]
    import nir

    conv = nir.Conv2d(input_shape=(6, 6), weight=np.ones((1, 1, k, k)), stride=stride,
                      padding=padding, dilation=1, groups=1, bias=np.zeros(1))  # fmt: skip
    shape = (1, 6, 6)
    neurons = nir.IF(r=np.ones(shape), v_threshold=np.ones(shape), v_reset=np.zeros(shape))
    return _chain([1, 6, 6], [1, 6, 6], ("c", conv), ("n", neurons))


def test_conv_string_padding() -> None:
    assert from_nir(_conv("same")).population("n").projections[0].map.padding == (1, 1)
    assert from_nir(_conv("same", k=5)).population("n").projections[0].map.padding == (2, 2)
    assert from_nir(_conv("valid", k=1)).population("n").projections[0].map.padding == (0, 0)
    with pytest.raises(LifBridgeError, match=r"'c' \(Conv2d\) has padding 'same' with stride"):
        from_nir(_conv("same", k=2))


def _hidden_subgraph():  # type: ignore[no-untyped-def]
    import nir

    rng = np.random.default_rng(3)
    inner = {
        "input": nir.Input(input_type={"input": np.array([3])}),
        "fc": nir.Affine(weight=rng.random((4, 3)), bias=np.zeros(4)),
        "lif": _if(4),
        "output": nir.Output(output_type={"output": np.array([4])}),
    }
    return _graph(inner, [("input", "fc"), ("fc", "lif"), ("lif", "output")])


def test_nested_subgraphs_are_flattened(tmp_path: Path) -> None:
    import nir

    readout = nir.Affine(weight=np.ones((2, 4)), bias=np.zeros(2))
    outer = {
        INPUT: nir.Input(input_type={"input": np.array([3])}),
        "block": _hidden_subgraph(),
        "fc2": readout,
        "n": _if(2),
        "output": nir.Output(output_type={"output": np.array([2])}),
    }
    edges = [(INPUT, "block"), ("block", "fc2"), ("fc2", "n"), ("n", "output")]
    net = from_nir(_graph(outer, edges))
    assert [p.name for p in net.populations] == ["block.lif", "n"]
    flat = _hidden_subgraph().nodes
    want = _chain([3], [2], ("block.fc", flat["fc"]), ("block.lif", flat["lif"]),
                  ("fc2", readout), ("n", _if(2)))  # fmt: skip
    assert net == from_nir(want)
    # two levels deep, through a file (nir.read wants edges naming the subgraph), and in
    # memory with edges naming the inner ports (older NIR files)
    middle_nodes = {
        "input": nir.Input(input_type={"input": np.array([3])}),
        "inner": _hidden_subgraph(),
        "output": nir.Output(output_type={"output": np.array([4])}),
    }
    for inner_edges, use_file in (
        ([("input", "inner"), ("inner", "output")], True),
        ([("input", "inner.input"), ("inner.output", "output")], False),
    ):
        deep = _graph({**outer, "block": _graph(middle_nodes, inner_edges)}, edges)
        if use_file:
            nir.write(tmp_path / "deep.nir", deep)
        got = from_nir(tmp_path / "deep.nir" if use_file else deep)
        assert [p.name for p in got.populations] == ["block.inner.lif", "n"]
        np.testing.assert_array_equal(
            got.population("block.inner.lif").projections[0].map.weight, flat["fc"].weight
        )


def test_recurrent_subgraph_is_refused_as_a_cycle() -> None:
    import nir

    rnn = {  # snnTorch's RLeaky: input -> lif -> w_rec -> lif
        "input": nir.Input(input_type={"input": np.array([2])}),
        "lif": _if(2),
        "w_rec": nir.Linear(weight=np.eye(2)),
        "output": nir.Output(output_type={"output": np.array([2])}),
    }
    sub = _graph(rnn, [("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    outer = {
        INPUT: nir.Input(input_type={"input": np.array([2])}),
        "fc": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
        "rleaky": sub,
        "output": nir.Output(output_type={"output": np.array([2])}),
    }
    g = _graph(outer, [(INPUT, "fc"), ("fc", "rleaky"), ("rleaky", "output")])
    with pytest.raises(LifBridgeError, match=r"cycle rleaky\.lif -> rleaky\.w_rec -> rleaky\.lif"):
        from_nir(g)
