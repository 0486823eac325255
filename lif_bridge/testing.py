"""Random small networks and inputs for conformance tests across backends.

Public so that a third-party backend can run the same conformance checks as the shipped ones:
every backend must give spike counts identical to the reference backend on these networks.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    Layer,
    MaxPool2d,
    Network,
    Neurons,
    Node,
    Projection,
    concat_projections,
)

__all__ = [
    "ARCHITECTURES",
    "GRAPHS",
    "graph_union",
    "random_graph",
    "random_inputs",
    "random_network",
    "small_conv_net",
    "small_mlp",
    "snntorch_style_graph",
]

#: Names of the architectures :func:`random_network` builds.
ARCHITECTURES = ("dense", "conv_avg", "conv_max", "mixed")

#: Names of the graphs :func:`random_graph` builds.
GRAPHS = ("identity_skip1", "identity_skip2", "projection_skip2", "concat2_avg", "concat3_max")


def _neurons(rng: np.random.Generator, n: int, reset: str, per_neuron: bool) -> Neurons:
    leak = rng.uniform(0.0, 3.0, n) if per_neuron else float(rng.uniform(0.5, 3.0))
    bias = rng.normal(0.0, 0.3, n) if per_neuron else float(rng.normal(0.0, 0.3))
    c_m = rng.uniform(0.5, 1.5, n) if per_neuron else float(rng.uniform(0.5, 1.5))
    return Neurons(
        c_m=c_m,
        g_l=leak,
        v_th=float(rng.uniform(0.5, 1.5)),
        reset=reset,  # type: ignore[arg-type]
        i_bias=bias,
    )


def random_network(
    seed: int,
    architecture: str = "mixed",
    *,
    reset: str = "subtract",
    per_neuron: bool = False,
    refractory: float = 0.0,
) -> Network:
    """A small random network exercising the layer types of one architecture.

    Parameters
    ----------
    seed
        Seed of the weights and parameters.
    architecture
        ``"dense"`` (784-free MLP on 12 inputs), ``"conv_avg"`` (conv, average pool, dense),
        ``"conv_max"`` (conv, spiking max pool, strided/dilated conv, dense) or ``"mixed"``
        (grouped conv, max pool, avg pool, flatten, two dense layers).
    reset
        ``"subtract"`` or ``"zero"`` for every population.
    per_neuron
        Per-neuron leak, bias and capacitance instead of per-layer values.
    refractory
        Refractory period [s] of every population.
    """
    rng = np.random.default_rng(seed)

    def pop(n: int) -> Neurons:
        nrn = _neurons(rng, n, reset, per_neuron)
        return nrn.replace(refractory=refractory) if refractory else nrn

    layers: list[Layer]
    if architecture == "dense":
        shape: tuple[int, ...] = (12,)
        layers = [
            Dense(weight=rng.normal(0.1, 0.6, (9, 12)), neurons=pop(9)),
            Dense(weight=rng.normal(0.1, 0.6, (5, 9)), neurons=pop(5)),
        ]
    elif architecture == "conv_avg":
        shape = (2, 6, 6)
        layers = [
            Conv2d(weight=rng.normal(0.05, 0.5, (3, 2, 3, 3)), padding=1, neurons=pop(3 * 36)),
            AvgPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (4, 27)), neurons=pop(4)),
        ]
    elif architecture == "conv_max":
        shape = (1, 8, 8)
        layers = [
            Conv2d(weight=rng.normal(0.1, 0.6, (3, 1, 3, 3)), padding=1, neurons=pop(3 * 64)),
            MaxPool2d(kernel_size=2),
            Conv2d(
                weight=rng.normal(0.05, 0.4, (4, 3, 2, 2)),
                stride=2,
                dilation=1,
                neurons=pop(4 * 4),
            ),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (3, 16)), neurons=pop(3)),
        ]
    elif architecture == "mixed":
        shape = (2, 7, 7)
        layers = [
            Conv2d(
                weight=rng.normal(0.1, 0.6, (4, 1, 3, 3)),
                padding=(1, 2),
                dilation=(1, 2),
                groups=2,
                neurons=pop(4 * 49),
            ),
            MaxPool2d(kernel_size=2, stride=1),
            Conv2d(weight=rng.normal(0.05, 0.4, (3, 4, 2, 2)), stride=(2, 1), neurons=pop(3 * 15)),
            AvgPool2d(kernel_size=(1, 2)),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (6, 18)), neurons=pop(6)),
            Dense(weight=rng.normal(0.1, 0.6, (3, 6)), neurons=pop(3)),
        ]
    else:
        raise ValueError(f"unknown architecture {architecture!r}; choose from {ARCHITECTURES}")
    return Network(input_shape=shape, layers=tuple(layers))


def random_inputs(network: Network, samples: int, seed: int = 0) -> np.ndarray:
    """Uniform inputs in [0, 1] of shape ``(samples, *network.input_shape)``."""
    return np.random.default_rng(seed).random((samples, *network.input_shape))


def random_graph(
    seed: int,
    architecture: str = "identity_skip2",
    *,
    reset: str = "subtract",
    per_neuron: bool = False,
    refractory: float = 0.0,
    align_delays: bool = False,
) -> Network:
    """A small random graph: residual shortcuts or concatenated branches.

    Parameters
    ----------
    seed, reset, per_neuron, refractory
        As for :func:`random_network`.
    architecture
        ``"identity_skip1"`` (an identity shortcut around one conv), ``"identity_skip2"`` (around
        two convs), ``"projection_skip2"`` (a strided 1×1 conv shortcut around two convs, the
        first strided), ``"concat2_avg"`` (two conv branches of different kernels, one through
        average pooling, concatenated into a conv) or ``"concat3_max"`` (three branches, spiking
        max pooling on one and on the concatenation, into a dense layer).
    align_delays
        Delay each shortcut by the number of weighted layers it skips minus one, so that both
        paths of an addition have the same latency.
    """
    rng = np.random.default_rng(seed)

    def nrn(n: int) -> Neurons:
        out = _neurons(rng, n, reset, per_neuron)
        return out.replace(refractory=refractory) if refractory else out

    def conv(c_out: int, c_in: int, k: int, **kw: object) -> Conv2d:
        return Conv2d(weight=rng.normal(0.08, 0.5, (c_out, c_in, k, k)), **kw)  # type: ignore[arg-type]

    def node(name: str, size: int, *projections: Projection) -> Node:
        return Node(name=name, neurons=nrn(size), projections=projections)

    def dense_out(src: str, n_in: int, stages: tuple = (Flatten(),)) -> Node:
        d = Dense(weight=rng.normal(0.1, 0.5, (3, n_in)))
        return node("out", 3, Projection(source=src, map=d, stages=stages))

    shape: tuple[int, ...] = (2, 6, 6)
    stem = node("stem", 3 * 36, Projection(source=INPUT, map=conv(3, 2, 3, padding=1)))
    nodes: list[Node]
    if architecture == "identity_skip1":
        skip = Projection(source="stem", map=Identity(scale=rng.uniform(0.5, 1.0, 3)))
        a = node("a", 108, Projection(source="stem", map=conv(3, 3, 3, padding=1)), skip)
        nodes = [stem, a, dense_out("a", 27, (AvgPool2d(kernel_size=2), Flatten()))]
    elif architecture in ("identity_skip2", "projection_skip2"):
        strided = architecture == "projection_skip2"
        a_size = 3 * 9 if strided else 108
        a = node(
            "a",
            a_size,
            Projection(source="stem", map=conv(3, 3, 3, padding=1, stride=2 if strided else 1)),
        )
        shortcut = conv(3, 3, 1, stride=2) if strided else Identity(scale=0.8)
        delay = 1 if align_delays else 0
        b = node(
            "b",
            a_size,
            Projection(source="a", map=conv(3, 3, 3, padding=1)),
            Projection(source="stem", map=shortcut, delay=delay),
        )
        nodes = [stem, a, b, dense_out("b", a_size)]
    elif architecture == "concat2_avg":
        x = node("x", 2 * 36, Projection(source="stem", map=conv(2, 3, 3, padding=1)))
        y = node("y", 1 * 36, Projection(source="stem", map=conv(1, 3, 1)))
        join = conv(2, 3, 3)
        pool = (AvgPool2d(kernel_size=2),)
        c = node("c", 2, *concat_projections([("x", (2, 6, 6)), ("y", (1, 6, 6))], join, pool))
        nodes = [stem, x, y, c, dense_out("c", 2)]
    elif architecture == "concat3_max":
        x = node("x", 2 * 36, Projection(source="stem", map=conv(2, 3, 3, padding=1)))
        y = node("y", 1 * 36, Projection(source="stem", map=conv(1, 3, 1)))
        w = node("w", 2 * 36, Projection(source="stem", map=conv(2, 3, 3, padding=1), stages=()))
        d = Dense(weight=rng.normal(0.1, 0.5, (3, 5 * 9)))
        stages = (MaxPool2d(kernel_size=2), Flatten())
        srcs = [("x", (2, 6, 6)), ("y", (1, 6, 6)), ("w", (2, 6, 6))]
        nodes = [stem, x, y, w, node("out", 3, *concat_projections(srcs, d, stages))]
    else:
        raise ValueError(f"unknown graph {architecture!r}; choose from {GRAPHS}")
    return Network(input_shape=shape, nodes=tuple(nodes))


def graph_union(graphs: dict[str, Network]) -> Network:
    """Several graphs on one input side by side, as one network (disjoint but for the input).

    A backend that compiles (Lava, Brian2 standalone) builds the union once instead of once per
    graph; every population keeps its own parameters and projections, so its counts equal those
    of its own graph. Node ``n`` of ``graphs[key]`` is named ``f"{key}_{n}"``; the output
    population is the last graph's.

    Parameters
    ----------
    graphs
        Graph networks (built from nodes) with the same input shape, by prefix.
    """
    nets = list(graphs.values())
    if not nets or any(not n.nodes for n in nets):
        raise ValueError("graph_union needs at least one graph built from nodes")
    if len({n.input_shape for n in nets}) != 1:
        raise ValueError("graph_union: the graphs' input shapes differ")
    nodes = []
    for key, net in graphs.items():
        for nd in net.nodes:
            projections = tuple(
                dataclasses.replace(
                    p, source=p.source if p.source == INPUT else f"{key}_{p.source}"
                )
                for p in nd.projections
            )
            nodes.append(nd.replace(name=f"{key}_{nd.name}", projections=projections))
    return Network(input_shape=nets[0].input_shape, nodes=tuple(nodes))


def small_mlp(n_in: int = 4, hidden: int = 3, out: int = 2) -> Network:
    """A two-layer dense network with fixed weights."""
    rng = np.random.default_rng(0)
    return Network(
        input_shape=(n_in,),
        layers=(
            Dense(weight=rng.normal(size=(hidden, n_in))),
            Dense(weight=rng.normal(size=(out, hidden))),
        ),
    )


def small_conv_net() -> Network:
    """conv (1x6x6 -> 2x4x4), max pool, flatten, dense."""
    return Network(
        input_shape=(1, 6, 6),
        layers=(
            Conv2d(weight=np.ones((2, 1, 3, 3))),
            MaxPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=np.ones((3, 8))),
        ),
    )


def snntorch_style_graph(seed: int, *, branch: bool = False, dt: float = 1e-3) -> Any:
    """A random ``nir.NIRGraph`` built node for node as snnTorch's ``export_to_nir`` writes one.

    ``input (6) -> Affine -> LIF (8) -> Affine -> LIF (4) -> output``, each ``Leaky`` of decay
    ``beta`` written as ``LIF(tau = dt / (1 - beta), r = tau / dt, v_leak = 0, v_threshold = 1,
    v_reset = 0)``; ``branch`` adds an ``Affine`` from the input straight into the last LIF (two
    edges into one neuron node). No ``lif_bridge`` metadata. Needs the ``nir`` package.
    """
    import nir

    rng = np.random.default_rng(seed)

    def leaky(n: int) -> Any:
        tau = dt / (1 - rng.uniform(0.8, 0.95, n))
        return nir.LIF(
            tau=tau, r=tau / dt, v_leak=np.zeros(n), v_threshold=np.ones(n), v_reset=np.zeros(n)
        )

    nodes = {
        "input": nir.Input(input_type={"input": np.array([6])}),
        "fc1": nir.Affine(weight=rng.uniform(0, 0.3, (8, 6)), bias=rng.uniform(0, 0.02, 8)),
        "lif1": leaky(8),
        "fc2": nir.Affine(weight=rng.uniform(-0.1, 0.5, (4, 8)), bias=np.zeros(4)),
        "lif2": leaky(4),
        "output": nir.Output(output_type={"output": np.array([4])}),
    }
    edges = [("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2")]
    if branch:
        nodes["skip"] = nir.Affine(weight=rng.uniform(0, 0.2, (4, 6)), bias=np.zeros(4))
        edges += [("input", "skip"), ("skip", "lif2")]
    return nir.NIRGraph(nodes=nodes, edges=[*edges, ("lif2", "output")], type_check=False)
