"""NIR graphs of other tools (no ``lif_bridge`` metadata), built node for node with ``nir``.

The graphs stand for snnTorch's export conventions (``export_to_nir``): Affine layers, ``Leaky``
as LIF with ``tau = dt / (1 - beta)``, ``r = tau / dt``, ``v_leak = 0``, and non-leaky neurons as
IF with ``r = 1``; conv nets as Conv2d, SumPool2d and Flatten.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from lif_bridge import LifBridgeError, Simulation, simulate
from lif_bridge.network import INPUT, AvgPool2d, Flatten, Identity

pytestmark = [pytest.mark.nir]


def _chain(nir, *layers):  # type: ignore[no-untyped-def]
    """input -> layers (name, node) -> output; the shapes from the first and last."""
    names = [n for n, _ in layers]
    nodes = dict(layers)
    return nodes, [(INPUT, names[0]), *itertools.pairwise(names), (names[-1], "output")]


def _graph(nir, in_shape, out_shape, *layers):  # type: ignore[no-untyped-def]
    nodes, edges = _chain(nir, *layers)
    nodes = {
        INPUT: nir.Input(input_type={"input": np.array(in_shape)}),
        **nodes,
        "output": nir.Output(output_type={"output": np.array(out_shape)}),
    }
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_affine_lif_as_snntorch_writes_it() -> None:
    import nir

    from lif_bridge import from_nir

    dt, beta = 1e-3, 0.9
    tau = dt / (1 - beta)
    w = np.array([[1.0, -0.5], [0.25, 2.0]])
    g = _graph(
        nir,
        [2],
        [2],
        ("fc", nir.Affine(weight=w, bias=np.array([0.1, 0.0]))),
        ("lif", nir.LIF(tau=np.full(2, tau), r=np.full(2, tau / dt), v_leak=np.zeros(2),
                        v_threshold=np.ones(2), v_reset=np.zeros(2))),
    )  # fmt: skip
    net = from_nir(g)
    nrn = net.population("lif").neurons
    np.testing.assert_allclose(nrn.c_m, dt)  # tau / r
    np.testing.assert_allclose(nrn.g_l, dt / tau)  # 1 / r
    np.testing.assert_allclose(nrn.i_bias, [0.1, 0.0])
    np.testing.assert_array_equal(net.population("lif").projections[0].map.weight, w)
    assert nrn.reset == "zero"


def test_affine_if_chain_runs_on_the_reference() -> None:
    import nir

    from lif_bridge import from_nir

    rng = np.random.default_rng(0)
    w1, w2 = rng.random((5, 4)), rng.random((3, 5))
    g = _graph(
        nir,
        [4],
        [3],
        ("0", nir.Affine(weight=w1, bias=np.zeros(5))),
        ("1", nir.IF(r=np.ones(5), v_threshold=np.ones(5), v_reset=np.zeros(5))),
        ("2", nir.Affine(weight=w2, bias=np.zeros(3))),
        ("3", nir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3))),
    )
    net = from_nir(g)
    assert [p.name for p in net.populations] == ["1", "3"]
    assert net.population("3").sources == (0,)
    assert net.population("1").neurons.kind == "if"
    result = simulate(net, np.full((1, 4), 0.5), Simulation(steps=100, dt=1e-2))
    counts = result.counts[result.output]
    assert counts.shape == (1, 3) and counts.sum() > 0


def test_conv_sumpool_flatten_and_channel_bias() -> None:
    import nir

    from lif_bridge import from_nir

    rng = np.random.default_rng(1)
    wc, wd = rng.random((2, 1, 3, 3)), rng.random((3, 2 * 2 * 2))
    lif = {"v_leak": 0.0, "v_threshold": 1.0, "v_reset": 0.0}
    g = _graph(
        nir,
        [1, 6, 6],
        [3],
        ("conv", nir.Conv2d(input_shape=(6, 6), weight=wc, stride=1, padding=1, dilation=1,
                            groups=1, bias=np.array([0.5, -0.25]))),
        ("n1", nir.LIF(**{k: np.full((2, 6, 6), v) for k, v in lif.items()},
                       tau=np.full((2, 6, 6), 0.01), r=np.full((2, 6, 6), 10.0))),
        ("pool", nir.SumPool2d(kernel_size=np.array([3, 3]), stride=np.array([3, 3]),
                               padding=np.array([0, 0]))),
        ("flat", nir.Flatten(input_type={"input": np.array([2, 2, 2])}, start_dim=0)),
        ("fc", nir.Affine(weight=wd, bias=np.zeros(3))),
        ("n2", nir.IF(r=np.ones(3), v_threshold=np.ones(3), v_reset=np.zeros(3))),
    )  # fmt: skip
    net = from_nir(g)
    n1 = net.population("n1")
    assert n1.shape == (2, 6, 6)
    np.testing.assert_array_equal(n1.neurons.i_bias, np.repeat([0.5, -0.25], 36))
    edge = net.population("n2").projections[0]
    assert [type(s) for s in edge.stages] == [AvgPool2d, Flatten]
    np.testing.assert_allclose(edge.map.weight, wd * 9)  # the sum pool's window folded in


def test_unsupported_nodes_and_shapes_are_refused_by_name() -> None:
    import nir

    from lif_bridge import from_nir

    cuba = nir.CubaLIF(tau_syn=np.ones(2), tau_mem=np.ones(2), r=np.ones(2),
                       v_leak=np.zeros(2), v_threshold=np.ones(2))  # fmt: skip
    with pytest.raises(LifBridgeError, match=r"'syn' \(CubaLIF\) has tau_syn up to 1 s"):
        from_nir(_graph(nir, [2], [2], ("syn", cuba)))
    two = _graph(
        nir,
        [2],
        [2],
        ("a", nir.Affine(weight=np.eye(2), bias=np.zeros(2))),
        ("b", nir.Linear(weight=np.eye(2))),
        ("n", nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2))),
    )
    with pytest.raises(LifBridgeError, match=r"'a'.*followed by 'b'"):
        from_nir(two)
    last = _graph(nir, [2], [2], ("a", nir.Affine(weight=np.eye(2), bias=np.zeros(2))))
    with pytest.raises(LifBridgeError, match="must be an IF, LIF or CubaLIF"):
        from_nir(last)


def test_scale_shortcut_is_an_identity_projection() -> None:
    import nir

    from lif_bridge import from_nir

    if_ = {"r": np.ones(2), "v_threshold": np.ones(2), "v_reset": np.zeros(2)}
    g = nir.NIRGraph(
        nodes={
            INPUT: nir.Input(input_type={"input": np.array([2])}),
            "fc": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
            "a": nir.IF(**if_),
            "fc2": nir.Affine(weight=np.ones((2, 2)), bias=np.zeros(2)),
            "skip": nir.Scale(scale=np.array([0.5, 0.5])),
            "b": nir.IF(**if_),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[(INPUT, "fc"), ("fc", "a"), ("a", "fc2"), ("fc2", "b"), (INPUT, "skip"),
               ("skip", "b"), ("b", "output")],
        type_check=False,
    )  # fmt: skip
    net = from_nir(g)
    maps = [e.map for e in net.population("b").projections]
    assert isinstance(maps[1], Identity) and float(maps[1].scale) == 0.5
    assert net.population("b").sources == (0, -1)
