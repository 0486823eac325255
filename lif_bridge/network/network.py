"""The network description: a chain of layers or a graph of nodes, and its populations."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network._validate import fields_equal
from lif_bridge.network.graph import INPUT, Node
from lif_bridge.network.layers import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Layer,
    MaxPool2d,
    WeightedLayer,
)
from lif_bridge.network.population import (
    Edge,
    Population,
    chain_populations,
    graph_order,
    graph_populations,
)
from lif_bridge.network.simulation import Readout, Simulation, check_inputs

__all__ = ["Edge", "Network", "Population", "Readout", "Simulation", "check_inputs"]

_LAYER_TYPES = (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten)
_PREFIX = {
    Dense: "dense",
    Conv2d: "conv",
    AvgPool2d: "avgpool",
    MaxPool2d: "maxpool",
    Flatten: "flatten",
}


@dataclass(frozen=True, kw_only=True, eq=False)
class Network:
    """A feed-forward spiking network: a chain of layers or a graph of population nodes.

    Give exactly one of ``layers`` (a chain) and ``nodes`` (a graph).

    Parameters
    ----------
    input_shape
        Shape of one input sample, e.g. ``(1, 28, 28)`` or ``(784,)``.
    layers
        A chain: :class:`Dense`, :class:`Conv2d` (each with its :class:`Neurons`),
        :class:`AvgPool2d`, :class:`MaxPool2d` and :class:`Flatten`, in order. The last layer must
        be weighted. Unnamed layers are named ``<type><index>``; names must be unique.
    nodes
        A graph: :class:`~lif_bridge.network.Node` s, each summing one or more
        :class:`~lif_bridge.network.Projection` s from earlier nodes or
        :data:`~lif_bridge.network.INPUT`. Feed-forward only (cycles are refused); names unique;
        the last node given is the readout and feeds no other node. Stored in a topological
        order (stable: the given order where the dependencies allow it).
    max_rate
        Input rate [Hz] for ``x = 1`` that the network was converted for (the default of
        :attr:`Simulation.max_rate`); ``None`` if the network does not depend on it.
    metadata
        Free JSON-serialisable information (source model, conversion options...).
    """

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...] = ()
    nodes: tuple[Node, ...] = ()
    max_rate: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.input_shape)
        if not shape or any(s < 1 for s in shape):
            raise ValidationError(f"Network: input_shape must be positive ints, got {shape}")
        object.__setattr__(self, "input_shape", shape)
        layers, nodes = tuple(self.layers), tuple(self.nodes)
        if layers and nodes:
            raise ValidationError("Network: give either layers (a chain) or nodes (a graph)")
        if not layers and not nodes:
            raise ValidationError("Network: needs at least one layer")
        if layers:
            object.__setattr__(self, "layers", _named_chain(layers))
            pops = chain_populations(shape, self.layers)
        else:
            for i, node in enumerate(nodes):
                if not isinstance(node, Node):
                    raise ValidationError(
                        f"Network: node {i} is a {type(node).__name__}; nodes must be Node"
                    )
            names = [n.name for n in nodes]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValidationError(f"Network: node names must be unique, repeated: {dupes}")
            object.__setattr__(self, "nodes", graph_order(nodes))
            pops = graph_populations(shape, self.nodes)
        if self.max_rate is not None:
            rate = float(self.max_rate)
            if not np.isfinite(rate) or rate <= 0:
                raise ValidationError("Network: max_rate must be a finite rate > 0 Hz")
            object.__setattr__(self, "max_rate", rate)
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "_populations", pops)

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def is_chain(self) -> bool:
        """Whether the network was described as a chain of layers."""
        return bool(self.layers)

    @property
    def populations(self) -> tuple[Population, ...]:
        """The populations in a topological order (a chain: one per weighted layer, in order)."""
        return self._populations  # type: ignore[attr-defined, no-any-return]

    @property
    def output(self) -> Population:
        """The readout population (the last one)."""
        return self.populations[-1]

    @property
    def n_inputs(self) -> int:
        """Number of input units (``prod(input_shape)``)."""
        return int(np.prod(self.input_shape))

    def population(self, name: str) -> Population:
        """The population called ``name``."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValidationError(
            f"Network: no weighted layer named {name!r}; populations are "
            + ", ".join(p.name for p in self.populations)
        )

    def consumers(self, index: int) -> tuple[int, ...]:
        """Indices of the populations fed by population ``index`` (``-1``: the input)."""
        return tuple(
            i
            for i, p in enumerate(self.populations)
            if any(e.source == index for e in p.projections)
        )

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def as_graph(self) -> Network:
        """The same network described as a graph of nodes (a graph is returned unchanged)."""
        if not self.is_chain:
            return self
        nodes = tuple(
            Node(
                name=pop.name,
                neurons=pop.neurons,
                projections=tuple(e.projection for e in pop.projections),
                ann_bias=pop.ann_bias,
                ann_activation=pop.ann_activation,
                rate_scale=pop.rate_scale,
            )
            for pop in self.populations
        )
        return Network(
            input_shape=self.input_shape,
            nodes=nodes,
            max_rate=self.max_rate,
            metadata=self.metadata,
        )

    def summary(self) -> str:
        """A table of layers or nodes, shapes, neurons, synapse counts and who feeds whom."""
        from lif_bridge.network.summary import chain_summary, graph_summary

        return chain_summary(self) if self.is_chain else graph_summary(self)


def _named_chain(layers: tuple[Layer, ...]) -> tuple[Layer, ...]:
    named: list[Layer] = []
    for i, layer in enumerate(layers):
        if not isinstance(layer, _LAYER_TYPES):
            raise ValidationError(
                f"Network: layer {i} is a {type(layer).__name__}; layers must be one of "
                + ", ".join(t.__name__ for t in _LAYER_TYPES)
            )
        if not layer.name:
            layer = _renamed(layer, f"{_PREFIX[type(layer)]}{i}")
        named.append(layer)
    names = [layer.name for layer in named]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValidationError(f"Network: layer names must be unique, repeated: {dupes}")
    if INPUT in names:
        raise ValidationError(f"Network: {INPUT!r} is reserved for the input; rename the layer")
    if not isinstance(named[-1], WeightedLayer):
        raise ValidationError(
            f"Network: the last layer {named[-1].name!r} must be Dense or Conv2d "
            "(its neurons are the readout)"
        )
    return tuple(named)


def _renamed(layer: Layer, name: str) -> Layer:
    return dataclasses.replace(layer, name=name)  # type: ignore[arg-type]
