"""The raw graph description of folded populations (internal; numpy only).

Each :class:`~lif_bridge.convert.graph_fold.GraphPop` becomes a
:class:`~lif_bridge.network.Node` with the trained weights (BatchNorm folded) and
``ann_bias = b`` per channel, each of its terms a :class:`~lif_bridge.network.Projection`:
the source, its stages (``Flatten``, ``AvgPool2d``, spiking ``MaxPool2d``) and a ``Dense``,
``Conv2d`` or ``Identity(scale)`` map. As for chains (:func:`lif_bridge.convert.torch.from_torch`)
the neurons are the defaults and ``rate_scale = 1``, so the ANN view with ``max_rate = 1`` is the
trained model; projections carry no delay.
"""

from __future__ import annotations

from typing import Any

from lif_bridge.convert.fold import AnnLayer, Stage
from lif_bridge.convert.graph_fold import INPUT_SOURCE, GraphPop
from lif_bridge.errors import ConversionError
from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    MaxPool2d,
    Network,
    Node,
    Projection,
)

__all__ = ["assemble_graph"]


def _stage(stage: Stage) -> Any:
    if stage.kind == "maxpool":
        return MaxPool2d(name=stage.name, kernel_size=stage.kernel, stride=stage.stride)
    if stage.kind == "avgpool":
        return AvgPool2d(name=stage.name, kernel_size=stage.kernel, stride=stage.stride)
    return Flatten(name=stage.name)


def _map(layer: AnnLayer) -> Dense | Conv2d:
    if layer.kind == "dense":
        return Dense(name=layer.name, weight=layer.weight)
    return Conv2d(
        name=layer.name,
        weight=layer.weight,
        stride=layer.attrs["stride"],
        padding=layer.attrs["padding"],
        dilation=layer.attrs["dilation"],
        groups=int(layer.attrs["groups"]),
    )


def assemble_graph(
    pops: list[GraphPop], input_shape: tuple[int, ...], metadata: dict[str, Any] | None = None
) -> Network:
    """``Network(nodes=...)`` of the folded populations (the last is the readout).

    Raises
    ------
    ConversionError
        If the description refuses the result (a shape or stage order it cannot hold).
    """
    nodes = []
    for pop in pops:
        projections = []
        for term in pop.terms:
            source = INPUT if term.source == INPUT_SOURCE else term.source
            if term.layer is None:
                scale = 1.0 if term.scale is None else term.scale
                mapping: Any = Identity(scale=scale, name=f"{pop.name}<-{term.source}")
            else:
                mapping = _map(term.layer)
            stages = tuple(_stage(s) for s in term.stages)
            projections.append(Projection(source=source, map=mapping, stages=stages))
        nodes.append(
            Node(
                name=pop.name,
                projections=tuple(projections),
                ann_bias=pop.bias,
                ann_activation="relu" if pop.activation == "relu" else "identity",
            )
        )
    try:
        return Network(input_shape=input_shape, nodes=tuple(nodes), metadata=metadata or {})
    except Exception as exc:
        raise ConversionError(f"the converted graph is not a valid network: {exc}") from exc
