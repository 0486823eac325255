"""Fold a graph of traced operations into populations with several projections (internal).

Pure numpy. The input is the read graph (:class:`Op` per node and the nodes it reads, in
topological order); the output is one :class:`GraphPop` per spiking population, each the sum
of :class:`Term` s (a source, its stateless stages and a weighted or identity map) plus a bias.

Every value of the forward pass is tracked as one of

``Rates``
    Non-negative values that spikes carry: the input, or a population's output after its
    ReLU, behind stateless stages (max pool, average pool, flatten). ReLU of ``Rates`` is a
    no-op.
``Cat``
    ``torch.cat`` of several ``Rates`` along dim 1. A weighted layer on it splits its weight
    into one block of input channels (or, after a flatten, one block of columns) per part;
    pooling and flatten act on each part alike (torch flattens channel-major, so
    ``flatten(cat([a, b], 1)) = [flatten(a), flatten(b)]``).
``Sum``
    A pre-activation ``Σ_p M_p(z_p) + b``: a weighted layer on ``Rates``/``Cat``, an
    addition of two values (``Rates`` become identity terms of scale 1), and BatchNorm
    (``s ⊙ · + t`` per channel, folded into every term and the bias: BN before or after the
    add). ReLU of a ``Sum`` makes a population; max pooling and flatten between the sum and its
    ReLU commute with the ReLU and become stages of the population's outgoing projections.
    A ``Sum`` is the model's output only as the last value (``ann_activation="identity"``).

Anything else (a weighted layer or pooling other than max on a ``Sum``, BatchNorm on
``Rates``, a concatenation of pre-activations) is refused naming the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.convert.fold import AnnLayer, Stage, fold_bn_weight
from lif_bridge.convert.ops import SUPPORTED, WHERE, Op
from lif_bridge.errors import ConversionError, UnsupportedLayerError

__all__ = ["INPUT_SOURCE", "GraphPop", "Term", "fold_graph"]

#: Source name of the input encoder.
INPUT_SOURCE = "input"


@dataclass
class Term:
    """One projection: ``map(stages(source))``; ``layer`` is ``None`` for an identity map."""

    source: str
    stages: list[Stage]
    layer: AnnLayer | None
    scale: np.ndarray | None = None  # identity: one scale per channel
    shape: tuple[int, ...] = ()  # what the map receives


@dataclass
class GraphPop:
    """A population: the sum of its terms plus ``bias`` (one per channel), then ``activation``."""

    name: str
    terms: list[Term]
    bias: np.ndarray
    shape: tuple[int, ...]
    activation: str = "relu"
    folded: list[str] = field(default_factory=list)


@dataclass
class _Rates:
    source: str
    stages: list[Stage]
    shape: tuple[int, ...]


@dataclass
class _Cat:
    parts: list[_Rates]
    shape: tuple[int, ...]


@dataclass
class _Sum:
    terms: list[Term]
    bias: np.ndarray
    shape: tuple[int, ...]
    post: list[tuple[Stage, Op]] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)
    name: str = ""


def _stage(op: Op) -> Stage:
    stage = Stage(op.kind, op.path.replace(".", "_"))
    if op.kind != "flatten":
        stage.kernel, stage.stride = op.attrs["kernel"], op.attrs["stride"]
    return stage


def _refuse(op: Op, why: str) -> ConversionError:
    return ConversionError(f"node {op.path!r} ({op.type_name}): {why}")


class _Folder:
    def __init__(self) -> None:
        self.pops: list[GraphPop] = []
        self.names: set[str] = {INPUT_SOURCE}
        self.layer_uses: dict[str, int] = {}

    def unique(self, name: str) -> str:
        out, i = name, 2
        while out in self.names:
            out, i = f"{name}_{i}", i + 1
        self.names.add(out)
        return out

    def weighted(self, op: Op, value: Any) -> _Sum:
        if isinstance(value, _Sum):
            raise _refuse(
                op,
                "its input has no ReLU: a hidden layer (or an addition) must be followed by a "
                "ReLU before the next weighted layer, since the spiking population rectifies",
            )
        uses = self.layer_uses.get(op.path, 0)
        self.layer_uses[op.path] = uses + 1
        weight = op.params["weight"]
        bias = op.params.get("bias")
        layer = AnnLayer(
            kind="dense" if op.kind == "linear" else "conv",
            name=op.path if not uses else f"{op.path}_{uses + 1}",
            weight=weight,
            bias=np.zeros(weight.shape[0]) if bias is None else bias,
            attrs=dict(op.attrs),
        )
        parts = value.parts if isinstance(value, _Cat) else [value]
        terms = _split(layer, parts, op)
        return _Sum(terms, layer.bias.copy(), op.out_shape, name=layer.name)

    def add(self, op: Op, a: Any, b: Any) -> _Sum:
        sums = [self.as_sum(op, v) for v in (a, b)]
        if sums[0].shape != sums[1].shape:
            raise _refuse(op, f"adds shapes {sums[0].shape} and {sums[1].shape}")
        for s in sums:
            if s.post:
                raise _refuse(op, "adds a value pooled or flattened before its ReLU")
        return _Sum(
            sums[0].terms + sums[1].terms,
            sums[0].bias + sums[1].bias,
            op.out_shape,
            folded=sums[0].folded + sums[1].folded,
            name=sums[0].name or sums[1].name or op.path,
        )

    def as_sum(self, op: Op, value: Any) -> _Sum:
        if isinstance(value, _Sum):
            return value
        if isinstance(value, _Cat):
            raise _refuse(op, "adds a concatenation; add the branches before concatenating")
        channels = value.shape[0]
        term = Term(value.source, list(value.stages), None, np.ones(channels), value.shape)
        return _Sum([term], np.zeros(channels), value.shape)

    def relu(self, op: Op, value: Any) -> Any:
        if not isinstance(value, _Sum):
            return value  # already >= 0
        return self.population(value, "relu")

    def population(self, value: _Sum, activation: str) -> _Rates:
        name = self.unique(value.name or "add")
        # max pooling / flatten between the sum and its ReLU act on the population's spikes
        shape = value.post[0][1].in_shape if value.post else value.shape
        self.pops.append(GraphPop(name, value.terms, value.bias, shape, activation, value.folded))
        return _Rates(name, [stage for stage, _ in value.post], value.shape)


def _split(layer: AnnLayer, parts: list[_Rates], op: Op) -> list[Term]:
    """One term per concatenated part, each with its block of the layer's weight."""
    if len(parts) == 1:
        return [Term(parts[0].source, list(parts[0].stages), layer, None, op.in_shape)]
    if layer.kind == "conv":
        if int(layer.attrs["groups"]) != 1:
            raise _refuse(op, "a concatenation can only feed a convolution with groups=1")
        widths = [p.shape[0] for p in parts]
    else:
        widths = [int(np.prod(p.shape)) for p in parts]
    edges = np.cumsum([0, *widths])
    if edges[-1] != layer.weight.shape[1]:
        raise _refuse(op, f"reads {layer.weight.shape[1]} inputs, the concatenation gives {widths}")
    terms = []
    for part, a, b in zip(parts, edges[:-1], edges[1:], strict=True):
        block = AnnLayer(layer.kind, layer.name, layer.weight[:, a:b], layer.bias, layer.attrs)
        terms.append(Term(part.source, list(part.stages), block, None, part.shape))
    return terms


def _bn(op: Op, value: Any) -> _Sum:
    if not isinstance(value, _Sum) or value.post:
        raise _refuse(
            op,
            "a batch norm must follow a Linear/Conv2d or an addition of branches (before the "
            "ReLU and any pooling) to be folded",
        )
    scale, shift = op.params["scale"], op.params["shift"]
    for term in value.terms:
        if term.layer is None:
            term.scale = term.scale * scale
        else:
            term.layer = AnnLayer(
                term.layer.kind,
                term.layer.name,
                fold_bn_weight(term.layer.weight, scale, op),
                term.layer.bias,
                term.layer.attrs,
            )
    value.bias = value.bias * scale + shift
    value.folded.append(op.path)
    return value


def _stage_on(op: Op, value: Any) -> Any:
    if isinstance(value, _Rates):
        return _Rates(value.source, [*value.stages, _stage(op)], op.out_shape)
    if isinstance(value, _Cat):
        parts = [_Rates(p.source, [*p.stages, _stage(op)], p.shape) for p in value.parts]
        for p, src in zip(parts, value.parts, strict=True):
            p.shape = _stage_shape(op, src.shape)
        return _Cat(parts, op.out_shape)
    if op.kind == "avgpool":
        raise _refuse(
            op,
            "average pooling between a weighted layer and its ReLU does not commute with the "
            "ReLU; move the pooling after the ReLU",
        )
    value.post.append((_stage(op), op))
    value.shape = op.out_shape
    return value


def _stage_shape(op: Op, shape: tuple[int, ...]) -> tuple[int, ...]:
    if op.kind == "flatten":
        return (int(np.prod(shape)),)
    (c, h, w), (kh, kw), (sh, sw) = shape, op.attrs["kernel"], op.attrs["stride"]
    return (c, (h - kh) // sh + 1, (w - kw) // sw + 1)


def fold_graph(
    nodes: list[tuple[Any, Op | None, list[Any]]],
    first: Any,
    result: Any,
    input_shape: tuple[int, ...],
) -> list[GraphPop]:
    """The populations of a read graph (see the module docstring); the last is the output."""
    folder = _Folder()
    values: dict[Any, Any] = {first: _Rates(INPUT_SOURCE, [], tuple(input_shape))}
    for node, op, inputs in nodes:
        if op is None:
            continue
        args = [values[i] for i in inputs]
        if op.kind == "join":
            values[node] = _join(folder, op, args)
            continue
        (value,) = args
        if op.kind == "noop":
            values[node] = value
        elif op.kind in ("linear", "conv"):
            values[node] = folder.weighted(op, value)
        elif op.kind == "bn":
            values[node] = _bn(op, value)
        elif op.kind == "relu":
            values[node] = folder.relu(op, value)
        elif op.kind in ("maxpool", "avgpool", "flatten"):
            values[node] = _stage_on(op, value)
        else:  # pragma: no cover - readers emit no other kinds
            raise UnsupportedLayerError(op.path, op.type_name, WHERE, SUPPORTED)
    out = values[result]
    if isinstance(out, _Sum):
        if any(stage.kind != "flatten" for stage, _ in out.post):
            raise ConversionError("the model's output is pooled after its last weighted layer")
        folder.population(out, "identity")
    elif (
        isinstance(out, _Cat)
        or out.source == INPUT_SOURCE
        or any(s.kind != "flatten" for s in out.stages)
    ):
        raise ConversionError(
            "the model's output must be a weighted layer or an addition (optionally with ReLU "
            "and flatten), not a concatenation, pooling or the input"
        )
    elif out.source != folder.pops[-1].name:
        raise ConversionError("the model's output is not the last population it computes")
    if not folder.pops:
        raise ConversionError("the model has no Linear or Conv2d layer to convert")
    return folder.pops


def _join(folder: _Folder, op: Op, args: list[Any]) -> Any:
    if op.type_name in ("add", "iadd", "add_") and len(args) == 2:
        return folder.add(op, *args)
    if op.type_name == "cat" and op.attrs.get("dim") == 1 and len(op.out_shape) == 3:
        parts: list[_Rates] = []
        for a in args:
            if isinstance(a, _Sum):
                raise _refuse(
                    op, "concatenates a value before its ReLU; apply ReLU to each branch first"
                )
            parts.extend(a.parts if isinstance(a, _Cat) else [a])
        return _Cat(parts, op.out_shape)
    raise UnsupportedLayerError(op.path, op.type_name, WHERE, SUPPORTED)
