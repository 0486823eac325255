"""The resolved view of a network: populations in topological order and their incoming edges.

:class:`Network` builds these once from its ``layers`` (a chain) or ``nodes`` (a graph); every
consumer (the plan, the ANN view, normalisation, backends) reads ``network.populations``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network.graph import INPUT, Identity, Map, Node, Projection, Stage
from lif_bridge.network.layers import Layer, MaxPool2d, Shape, WeightedLayer
from lif_bridge.network.neurons import Neurons

__all__ = ["Edge", "Population", "chain_populations", "graph_order", "graph_populations"]


@dataclass(frozen=True)
class Edge:
    """One incoming projection of a population, with its shapes resolved.

    Attributes
    ----------
    projection
        The :class:`~lif_bridge.network.Projection` (for a chain: the layer, stripped of its
        neurons, with the stages before it).
    source
        Index of the source in ``Network.populations`` (``-1``: the input encoder).
    source_name
        Name of the source (:data:`~lif_bridge.network.INPUT` for the encoder).
    source_shape, gated_shape, input_shape
        Shape of the source, of what leaves the max-pool gates, and of what the map receives
        (after all stages).
    """

    projection: Projection
    source: int
    source_name: str
    source_shape: Shape
    gated_shape: Shape
    input_shape: Shape

    @property
    def map(self) -> Map:
        """The weighted map (Dense, Conv2d or Identity)."""
        return self.projection.map

    @property
    def stages(self) -> tuple[Stage, ...]:
        """All stages, in order (gates first)."""
        return self.projection.stages

    @property
    def gates(self) -> tuple[MaxPool2d, ...]:
        """The spiking max-pool stages (always before any linear stage)."""
        return tuple(s for s in self.stages if isinstance(s, MaxPool2d))

    @property
    def linear_stages(self) -> tuple[Stage, ...]:
        """The linear stages (flatten, average pooling) after the gates."""
        return tuple(s for s in self.stages if not isinstance(s, MaxPool2d))

    @property
    def delay(self) -> int:
        """Delay [steps]."""
        return self.projection.delay


@dataclass(frozen=True)
class Population:
    """A population of neurons seen from the simulator: its parameters and incoming edges.

    Attributes
    ----------
    index
        Position in ``Network.layers`` (chain) or ``Network.nodes`` (graph).
    name
        Unique name.
    neurons
        Its :class:`~lif_bridge.network.Neurons`.
    projections
        The incoming :class:`Edge` s, summed in phase C (a chain has exactly one).
    shape
        Shape of the population.
    ann_bias, ann_activation, rate_scale
        The ANN-view fields (see :class:`~lif_bridge.network.WeightedLayer`).
    chain_layer
        The weighted layer of a chain (``None`` in a graph).

    The chain view (``layer``, ``source``, ``stages``, ``source_shape``, ``input_shape``,
    ``gates``, ``linear_stages``, ``gated_shape``) is defined when the population has a single,
    undelayed Dense/Conv2d projection; otherwise it raises, naming the population.
    """

    index: int
    name: str
    neurons: Neurons
    projections: tuple[Edge, ...]
    shape: Shape
    ann_bias: Any = None
    ann_activation: Literal["relu", "identity"] = "relu"
    rate_scale: float = 1.0
    chain_layer: WeightedLayer | None = None

    @property
    def size(self) -> int:
        """Number of neurons."""
        return int(np.prod(self.shape))

    @property
    def sources(self) -> tuple[int, ...]:
        """Source indices of the projections (``-1``: the input)."""
        return tuple(e.source for e in self.projections)

    def _single(self, what: str) -> Edge:
        edge = self.projections[0]
        if len(self.projections) != 1 or edge.delay or isinstance(edge.map, Identity):
            raise ValidationError(
                f"population {self.name!r} receives {len(self.projections)} projection(s) "
                f"(identity maps or delays included), so it has no single {what}; read "
                "Population.projections (or lif_bridge.plan.lower) instead"
            )
        return edge

    @property
    def layer(self) -> WeightedLayer:
        """The weighted layer with the population's neurons (chain view)."""
        if self.chain_layer is not None:
            return self.chain_layer
        edge = self._single("layer")
        cached: WeightedLayer | None = self.__dict__.get("_layer")
        if cached is None:
            m = edge.map
            assert isinstance(m, WeightedLayer)  # _single refuses Identity maps
            cached = dataclasses.replace(
                m,
                name=self.name,
                neurons=self.neurons,
                ann_bias=self.ann_bias,
                ann_activation=self.ann_activation,
                rate_scale=self.rate_scale,
            )
            object.__setattr__(self, "_layer", cached)
        return cached

    @property
    def source(self) -> int:
        """Index of the single source (chain view; ``-1``: the input encoder)."""
        return self._single("source").source

    @property
    def stages(self) -> tuple[Layer, ...]:
        """The stages of the single projection (chain view)."""
        return self._single("stages").stages

    @property
    def source_shape(self) -> Shape:
        """Shape of the single source (chain view)."""
        return self._single("source_shape").source_shape

    @property
    def input_shape(self) -> Shape:
        """Shape of what the single map receives (chain view)."""
        return self._single("input_shape").input_shape

    @property
    def gates(self) -> tuple[MaxPool2d, ...]:
        """The max-pool stages of the single projection (chain view)."""
        return self._single("gates").gates

    @property
    def linear_stages(self) -> tuple[Layer, ...]:
        """The linear stages of the single projection (chain view)."""
        return self._single("linear_stages").linear_stages

    @property
    def gated_shape(self) -> Shape:
        """Shape after the max-pool gates of the single projection (chain view)."""
        return self._single("gated_shape").gated_shape


def _edge(projection: Projection, source: int, name: str, shape: Shape) -> Edge:
    gated = shape
    out = shape
    for st in projection.stages:
        out = st.output_shape(out)
        if isinstance(st, MaxPool2d):
            gated = out
    return Edge(projection, source, name, shape, gated, out)


def _check_units(
    where: str, neurons: Neurons, ann_bias: Any, shape: Shape, what: str = "population"
) -> None:
    size = int(np.prod(shape))
    n = neurons.size
    if n is not None and n != size:
        raise ValidationError(
            f"{where}: per-neuron parameters have {n} values but the {what} has {size} "
            f"neurons {shape}"
        )
    if ann_bias is not None:
        b = np.asarray(ann_bias)
        if b.ndim == 1 and b.size not in (shape[0], size):
            raise ValidationError(
                f"{where}: ann_bias must be a scalar or have {shape[0]} values (one per "
                f"channel) or {size} (one per unit), got {b.size}"
            )


def chain_populations(input_shape: Shape, layers: Sequence[Layer]) -> tuple[Population, ...]:
    """The populations of a chain of layers (validated names and types assumed)."""
    pops: list[Population] = []
    shape, source, source_name = input_shape, -1, INPUT
    source_shape: Shape = input_shape
    stages: list[Layer] = []
    for i, layer in enumerate(layers):
        if isinstance(layer, MaxPool2d) and any(not isinstance(st, MaxPool2d) for st in stages):
            raise ValidationError(
                f"MaxPool2d {layer.name!r}: a spiking max pool must receive spikes "
                "directly (from a population, the input, or another MaxPool2d), not "
                "the output of a Flatten or AvgPool2d; reorder the layers"
            )
        out = layer.output_shape(shape)
        if isinstance(layer, WeightedLayer):
            where = f"{type(layer).__name__} {layer.name!r}"
            _check_units(where, layer.neurons, None, out, what="layer")
            bare = dataclasses.replace(
                layer,  # type: ignore[arg-type]
                neurons=Neurons(),
                ann_bias=None,
                ann_activation="relu",
                rate_scale=1.0,
            )
            proj = Projection(source=source_name, map=bare, stages=tuple(stages))  # type: ignore[arg-type]
            edge = Edge(
                proj, source, source_name, source_shape, _gated(stages, source_shape), shape
            )
            pops.append(
                Population(
                    index=i,
                    name=layer.name,
                    neurons=layer.neurons,
                    projections=(edge,),
                    shape=out,
                    ann_bias=layer.ann_bias,
                    ann_activation=layer.ann_activation,
                    rate_scale=layer.rate_scale,
                    chain_layer=layer,
                )
            )
            source, source_name, source_shape, stages = len(pops) - 1, layer.name, out, []
        else:
            stages.append(layer)
        shape = out
    return tuple(pops)


def _gated(stages: Sequence[Layer], shape: Shape) -> Shape:
    for st in stages:
        if not isinstance(st, MaxPool2d):
            break
        shape = st.output_shape(shape)
    return shape


def graph_order(nodes: Sequence[Node]) -> tuple[Node, ...]:
    """``nodes`` in a topological order (stable: ties keep the given order).

    Raises a clear error for unknown sources, cycles, or an output (the last node given) that
    feeds another node.
    """
    index = {node.name: i for i, node in enumerate(nodes)}
    deps: list[set[int]] = []
    for node in nodes:
        srcs = set()
        for k, proj in enumerate(node.projections):
            if proj.source == INPUT:
                continue
            if proj.source not in index:
                raise ValidationError(
                    f"Node {node.name!r}: projection {k} comes from {proj.source!r}, which is "
                    f"not a node; sources are {INPUT!r} or one of {sorted(index)}"
                )
            srcs.add(index[proj.source])
        deps.append(srcs)
    last = len(nodes) - 1
    feeds_output = [nodes[i].name for i, d in enumerate(deps) if last in d]
    if feeds_output:
        raise ValidationError(
            f"Network: the last node {nodes[last].name!r} is the readout and must feed no other "
            f"node, but {feeds_output} receive it; list the readout last"
        )
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(nodes):
        ready = [i for i in range(len(nodes)) if i not in done and deps[i] <= done]
        if not ready:
            raise ValidationError(f"Network: the graph has a cycle: {_cycle(nodes, deps, done)}")
        order.append(ready[0])
        done.add(ready[0])
    return tuple(nodes[i] for i in order)


def _cycle(nodes: Sequence[Node], deps: list[set[int]], done: set[int]) -> str:
    start = next(i for i in range(len(nodes)) if i not in done)
    path = [start]
    while True:
        nxt = min(d for d in deps[path[-1]] if d not in done)
        if nxt in path:
            loop = [*path[path.index(nxt) :], nxt]
            return " -> ".join(nodes[i].name for i in reversed(loop)) + " (feed-forward only)"
        path.append(nxt)


def graph_populations(input_shape: Shape, nodes: Sequence[Node]) -> tuple[Population, ...]:
    """The populations of topologically ordered ``nodes`` with every edge's shapes checked."""
    pops: list[Population] = []
    index: dict[str, int] = {}
    for i, node in enumerate(nodes):
        edges = []
        shapes = []
        for k, proj in enumerate(node.projections):
            src = -1 if proj.source == INPUT else index[proj.source]
            src_shape = input_shape if src < 0 else pops[src].shape
            try:
                edge = _edge(proj, src, proj.source, src_shape)
                out = proj.map.output_shape(edge.input_shape)
            except ValidationError as exc:
                raise ValidationError(
                    f"Node {node.name!r}, projection {k} from {proj.source!r} {src_shape}: {exc}"
                ) from exc
            edges.append(edge)
            shapes.append(out)
        if any(s != shapes[0] for s in shapes):
            listing = ", ".join(
                f"{p.source} -> {s}" for p, s in zip(node.projections, shapes, strict=True)
            )
            raise ValidationError(
                f"Node {node.name!r}: its projections deliver different shapes ({listing}); "
                "every projection must give the population's shape"
            )
        _check_units(f"Node {node.name!r}", node.neurons, node.ann_bias, shapes[0])
        pops.append(
            Population(
                index=i,
                name=node.name,
                neurons=node.neurons,
                projections=tuple(edges),
                shape=shapes[0],
                ann_bias=node.ann_bias,
                ann_activation=node.ann_activation,
                rate_scale=node.rate_scale,
            )
        )
        index[node.name] = i
    return tuple(pops)
