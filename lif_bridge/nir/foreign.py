r"""Graphs written by other tools (no ``lif_bridge`` metadata) as lif-bridge networks.

Every ``IF``/``LIF`` node becomes a population (a :class:`~lif_bridge.network.Node` of the same
name); every edge into it, traced back through stateless nodes to a neuron node or the
``Input``, becomes one :class:`~lif_bridge.network.Projection`: ``Flatten``, ``AvgPool2d`` and
``SumPool2d`` are stages (a sum pool is an average pool with its window's ``kH·kW`` folded into
the map after it), the last node the map (``Affine``/``Linear`` -> Dense, ``Conv2d`` -> Conv2d,
``Scale`` -> Identity; none: Identity of scale 1). Biases add to the population's ``I_bias``.

Neurons, the inverse of :func:`lif_bridge.nir.export.neuron_node`:

.. math::

    \text{IF:}\ C_m = 1/R,\ g_l = 0; \qquad
    \text{LIF:}\ C_m = \tau / R,\ g_l = 1 / R,\ v_{rest} = v_{leak}

with ``v_th = v_threshold`` and reset to ``v_reset`` (``reset="zero"``; NIR has no subtractive
reset). NIR is continuous time; lif-bridge integrates each step exactly as in
:mod:`lif_bridge.semantics` and compares ``v >= v_th`` before the step's input, so counts can
differ from a tool that discretises differently (snnTorch: forward Euler, ``v > v_th`` after the
input; :mod:`lif_bridge.nir.rules`). ``Flatten`` always flattens the whole sample (NIR's shapes
have no batch axis). A graph traced with a batch of one (Norse 1.1's ``to_nir`` keeps the
sample's batch axis: ``Input`` ``(1, 64)``, ``Output`` ``(1, 10)``) is read without it when both
its ``Input`` and ``Output`` types start with an axis of 1 and the network built from the
``Input`` shape without it has a readout of exactly the ``Output`` shape without it; otherwise the
``Input`` shape is taken as written.

With :class:`~lif_bridge.nir.NirImportOptions`: every weight is multiplied by ``spike_dt``
(a spike as a unit pulse of the exporter's step); ``Delay`` nodes on a path sum into the
projection's delay of ``delay / dt`` whole steps; a ``CubaLIF`` (``tau_syn <= tau_syn_max``) is
a LIF of ``tau_mem`` whose incoming maps and biases are multiplied by ``w_in`` per neuron (Dense)
or per channel (Conv2d; a Scale path needs one ``w_in``): the limit ``tau_syn -> 0``.
``Conv2d`` padding ``"valid"`` is 0, ``"same"`` (stride 1) ``dilation (k - 1) / 2``. Nested
subgraphs are flattened before (:mod:`lif_bridge.nir.subgraphs`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from lif_bridge.errors import FileFormatError, LifBridgeError
from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    Network,
    Neurons,
    Node,
    Projection,
)
from lif_bridge.nir.options import NirImportOptions

__all__ = ["foreign_network"]

_NEURONS = ("IF", "LIF", "CubaLIF")
_STAGES = ("Flatten", "AvgPool2d", "SumPool2d")


def _kind(node: Any) -> str:
    return type(node).__name__


def _compact(value: Any) -> Any:
    """A scalar when every value is the same, else the flat array."""
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    return float(arr[0]) if arr.size and np.all(arr == arr[0]) else arr


def _check_synapse(name: str, node: Any, where: str, options: NirImportOptions) -> None:
    """A CubaLIF is read in the limit ``tau_syn -> 0`` only when the options accept it."""
    tau_syn = float(np.max(np.asarray(node.tau_syn, dtype=np.float64)))
    if tau_syn > options.tau_syn_max:
        raise FileFormatError(
            f"{where}: node {name!r} (CubaLIF) has tau_syn up to {tau_syn:g} s; lif-bridge has "
            "no synaptic current state and reads CubaLIF only in the limit tau_syn -> 0 (the "
            f"charge of each spike kept): pass tau_syn_max={tau_syn:g} (--nir-tau-syn-max) "
            "to accept that"
        )


def _neurons(name: str, node: Any, where: str) -> Neurons:
    r = np.asarray(node.r, dtype=np.float64)
    v_reset = np.zeros_like(r) if node.v_reset is None else node.v_reset
    try:
        if _kind(node) == "IF":
            return Neurons(
                c_m=_compact(1.0 / r),
                v_th=_compact(node.v_threshold),
                v_reset=_compact(v_reset),
                reset="zero",
            )
        tau = node.tau_mem if _kind(node) == "CubaLIF" else node.tau
        return Neurons(
            c_m=_compact(np.asarray(tau, dtype=np.float64) / r),
            g_l=_compact(1.0 / r),
            v_rest=_compact(node.v_leak),
            v_th=_compact(node.v_threshold),
            v_reset=_compact(v_reset),
            reset="zero",
        )
    except LifBridgeError as exc:
        raise FileFormatError(f"{where}: node {name!r} ({_kind(node)}): {exc}") from exc


def _pair(v: Any) -> tuple[int, int]:
    arr = np.broadcast_to(np.asarray(v).astype(np.int64), (2,))
    return int(arr[0]), int(arr[1])


def _padding(name: str, node: Any, kernel: tuple[int, ...], where: str) -> tuple[int, int]:
    """Conv2d padding as ints: ``"valid"`` is 0; ``"same"`` (stride 1) is ``d (k - 1) / 2``."""
    if not isinstance(node.padding, str):
        return _pair(node.padding)
    if node.padding == "valid":
        return 0, 0
    dilation, stride = _pair(node.dilation), _pair(node.stride)
    total = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
    if node.padding != "same" or stride != (1, 1) or any(t % 2 for t in total):
        raise FileFormatError(
            f"{where}: node {name!r} (Conv2d) has padding {node.padding!r} with stride "
            f"{stride} and kernel {tuple(kernel)}; lif-bridge pads symmetrically: 'valid', "
            "or 'same' with stride 1 and an odd dilated kernel, or ints"
        )
    return total[0] // 2, total[1] // 2


def _map(name: str, node: Any, factor: float, where: str) -> tuple[Any, np.ndarray | None]:
    """The lif-bridge map of a NIR map node and its bias (``None``: none)."""
    kind = _kind(node)
    if kind in ("Affine", "Linear"):
        weight = np.asarray(node.weight, dtype=np.float64) * factor
        bias = None if kind == "Linear" else np.asarray(node.bias, dtype=np.float64)
        return Dense(name=name, weight=weight), bias
    if kind == "Conv2d":
        weight = np.asarray(node.weight, dtype=np.float64) * factor
        conv = Conv2d(
            name=name,
            weight=weight,
            stride=_pair(node.stride),
            padding=_padding(name, node, weight.shape[2:], where),
            dilation=_pair(node.dilation),
            groups=int(node.groups),
        )
        return conv, np.asarray(node.bias, dtype=np.float64)
    assert kind == "Scale"  # the caller passes map nodes only
    scale = np.asarray(node.scale, dtype=np.float64) * factor
    flat = scale.reshape(scale.shape[0], -1) if scale.ndim > 1 else scale.reshape(-1, 1)
    if scale.ndim == 0 or np.all(scale == scale.reshape(-1)[0]):
        return Identity(name=name, scale=float(scale.reshape(-1)[0])), None
    if np.all(flat == flat[:, :1]):
        return Identity(name=name, scale=flat[:, 0].copy()), None
    raise FileFormatError(
        f"{where}: node {name!r} (Scale) varies within a channel; lif-bridge scales per channel"
    )


def _stage(name: str, node: Any, where: str) -> tuple[Any, float]:
    """The stage of a NIR stage node and the factor it leaves to the next map."""
    if _kind(node) == "Flatten":
        return Flatten(name=name), 1.0
    if np.any(np.asarray(node.padding) != 0):
        raise FileFormatError(f"{where}: node {name!r} ({_kind(node)}) pads; lif-bridge does not")
    kernel = _pair(node.kernel_size)
    pool = AvgPool2d(name=name, kernel_size=kernel, stride=_pair(node.stride))
    return pool, float(kernel[0] * kernel[1]) if _kind(node) == "SumPool2d" else 1.0


def _trace(graph: Any, preds: dict[str, list[str]], start: str, where: str) -> list[str]:
    """The stateless nodes from a neuron node or the input to ``start``, in order."""
    path: list[str] = []
    name = start
    while _kind(graph.nodes[name]) not in (*_NEURONS, "Input"):
        path.append(name)
        if len(preds[name]) != 1:
            raise FileFormatError(
                f"{where}: node {name!r} ({_kind(graph.nodes[name])}) has "
                f"{len(preds[name])} inputs; lif-bridge sums inputs only in neuron nodes"
            )
        name = preds[name][0]
    path.append(name)
    return path[::-1]


def _projection(
    graph: Any, path: list[str], where: str, options: NirImportOptions
) -> tuple[Projection, np.ndarray | None]:
    source = INPUT if _kind(graph.nodes[path[0]]) == "Input" else path[0]
    stages, factor = [], options.spike_charge
    rest = [n for n in path[1:] if _kind(graph.nodes[n]) != "Delay"]
    delay = _delay_steps(graph, [n for n in path[1:] if n not in rest], where, options)
    for i, name in enumerate(rest):
        node = graph.nodes[name]
        if _kind(node) in _STAGES:
            stage, f = _stage(name, node, where)
            stages.append(stage)
            factor *= f
            continue
        if i != len(rest) - 1:
            raise FileFormatError(
                f"{where}: node {name!r} ({_kind(node)}) is followed by {rest[i + 1]!r}; "
                "lif-bridge needs one weighted map per path into a neuron node"
            )
        m, bias = _map(name, node, factor, where)
        return Projection(source=source, map=m, stages=tuple(stages), delay=delay), bias
    m = Identity(scale=factor)
    return Projection(source=source, map=m, stages=tuple(stages), delay=delay), None


def _delay_steps(graph: Any, names: list[str], where: str, options: NirImportOptions) -> int:
    """The steps of the ``Delay`` nodes on one path (their sum, uniform per node)."""
    steps = 0
    for name in names:
        delay = np.asarray(graph.nodes[name].delay, dtype=np.float64).reshape(-1)
        if options.dt is None:
            raise FileFormatError(
                f"{where}: node {name!r} (Delay) needs the simulation step to count its delay "
                "in steps: pass dt= (--nir-dt)"
            )
        k = delay / options.dt
        whole = np.round(k)
        if delay.size == 0 or np.any(delay != delay[0]) or np.any(delay < 0):
            raise FileFormatError(
                f"{where}: node {name!r} (Delay) delays its units differently (or by < 0 s); "
                "lif-bridge delays a whole projection by one number of steps"
            )
        if abs(k[0] - whole[0]) > 1e-9 * max(1.0, abs(k[0])):
            raise FileFormatError(
                f"{where}: node {name!r} (Delay) of {delay[0]:g} s is {k[0]:g} steps of "
                f"dt = {options.dt:g} s; lif-bridge delays whole steps: choose dt dividing it"
            )
        steps += int(whole[0])
    return steps


def _with_gain(name: str, proj: Projection, bias: Any, gain: Any, where: str) -> Any:
    """``proj`` and ``bias`` with a CubaLIF's input weight ``w_in`` (per neuron) folded in."""
    g = np.asarray(gain, dtype=np.float64).reshape(-1)
    if np.all(g == 1):
        return proj, bias
    m = proj.map
    new: Any
    if isinstance(m, Dense):
        g_out = g
        new = dataclasses.replace(m, weight=np.asarray(m.weight) * g[:, None])
    else:
        channels = np.asarray(m.weight).shape[0] if isinstance(m, Conv2d) else 1
        per = g.reshape(channels, -1)
        if np.any(per != per[:, :1]):
            raise FileFormatError(
                f"{where}: node {name!r} (CubaLIF) has w_in varying within a channel behind "
                f"{type(m).__name__} {m.name!r}; lif-bridge folds w_in per channel there"
            )
        g_out = per[:, 0]
        if isinstance(m, Conv2d):
            new = dataclasses.replace(m, weight=np.asarray(m.weight) * g_out[:, None, None, None])
        else:
            new = dataclasses.replace(m, scale=np.asarray(m.scale) * g_out[0])
    return dataclasses.replace(proj, map=new), None if bias is None else bias * g_out


def foreign_network(graph: Any, where: str, options: NirImportOptions | None = None) -> Network:
    """The network of a checked NIR graph without ``lif_bridge`` metadata (see module doc)."""
    options = NirImportOptions() if options is None else options
    preds: dict[str, list[str]] = {n: [] for n in graph.nodes}
    for a, b in graph.edges:
        preds[str(b)].append(str(a))
    kinds = {n: _kind(v) for n, v in graph.nodes.items()}
    inputs = [n for n, k in kinds.items() if k == "Input"]
    outputs = [n for n, k in kinds.items() if k == "Output"]
    if len(inputs) != 1 or len(outputs) != 1 or len(preds[outputs[0]]) != 1:
        raise FileFormatError(
            f"{where}: lif-bridge reads graphs with one Input and one Output fed by one node "
            f"(found inputs {inputs}, outputs {outputs})"
        )
    readout = preds[outputs[0]][0]
    if kinds[readout] not in _NEURONS:
        raise FileFormatError(
            f"{where}: the Output is fed by {readout!r} ({kinds[readout]}); the readout must be "
            "an IF, LIF or CubaLIF node"
        )
    nodes: list[Node] = []
    biases: dict[str, list[np.ndarray]] = {}
    for name in _topological(graph, preds):
        if kinds[name] not in _NEURONS:
            continue
        projections = []
        node = graph.nodes[name]
        if kinds[name] == "CubaLIF":
            _check_synapse(name, node, where, options)
        for pred in preds[name]:
            proj, b = _projection(graph, _trace(graph, preds, pred, where), where, options)
            if kinds[name] == "CubaLIF":
                proj, b = _with_gain(name, proj, b, node.w_in, where)
            projections.append(proj)
            if b is not None and np.any(b != 0):
                biases.setdefault(name, []).append(b)
        neurons = _neurons(name, graph.nodes[name], where)
        nodes.append(Node(name=name, projections=tuple(projections), neurons=neurons))
    nodes.sort(key=lambda n: n.name == readout)  # the readout last (a stable sort)
    shape = _type_shape(graph.nodes[inputs[0]])
    out = _type_shape(graph.nodes[outputs[0]])
    batch_error = None
    if len(shape) >= 2 and shape[0] == 1 and out is not None and len(out) >= 2 and out[0] == 1:
        try:  # traced with a batch of one (Norse's to_nir): the sample is shape[1:]
            net = _build(shape[1:], nodes, biases)
            if tuple(net.population(readout).shape) == out[1:]:
                return net
        except LifBridgeError as exc:
            batch_error = exc
    try:
        return _build(shape, nodes, biases)
    except LifBridgeError as exc:
        if batch_error is not None:  # the batch reading's error is the one that tells
            raise FileFormatError(
                f"{where}: (read without the Input's batch axis, {shape} -> {shape[1:]}) "
                f"{batch_error}"
            ) from batch_error
        raise FileFormatError(f"{where}: {exc}") from exc


def _type_shape(node: Any) -> Any:
    """The shape an ``Input``/``Output`` node declares (``None``: none declared)."""
    declared = (node.input_type or {}).get("input")
    if declared is None:
        return None
    return tuple(int(s) for s in np.asarray(declared).reshape(-1))


def _build(shape: tuple[int, ...], nodes: list[Node], biases: dict[str, list[np.ndarray]]) -> Any:
    net = Network(input_shape=shape, nodes=tuple(nodes), metadata={"source": "nir"})
    if not biases:
        return net
    return Network(
        input_shape=shape,
        nodes=tuple(_with_bias(n, net, biases.get(n.name, [])) for n in net.nodes),
        metadata={"source": "nir"},
    )


def _with_bias(node: Node, net: Network, biases: list[np.ndarray]) -> Node:
    """``node`` with its maps' biases (Affine: per unit; Conv2d: per channel) in ``I_bias``."""
    if not biases:
        return node
    pop = net.population(node.name)
    per_channel = pop.size // pop.shape[0]
    total = np.zeros(pop.size)
    for b in biases:
        total += b if b.size == pop.size else np.repeat(b, per_channel)
    i_bias = np.broadcast_to(node.neurons.i_bias, (pop.size,)) + total
    return node.replace(neurons=node.neurons.replace(i_bias=_compact(i_bias)))


def _topological(graph: Any, preds: dict[str, list[str]]) -> list[str]:
    done: list[str] = []
    seen: set[str] = set()
    for name in graph.nodes:  # acyclic (checked): depth-first post-order
        stack = [name]
        while stack:
            top = stack[-1]
            if top in seen:
                stack.pop()
                continue
            todo = [p for p in preds[top] if p not in seen]
            if todo:
                stack.extend(todo)
            else:
                seen.add(top)
                done.append(top)
                stack.pop()
    return done
