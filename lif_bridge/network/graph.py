r"""Graph descriptions: populations fed by several projections (residual additions, concatenation).

A chain (``Network(layers=...)``) is the special case where every population has one
projection from the population before it. A graph (``Network(nodes=...)``) lists
:class:`Node` s, each a population of :class:`Neurons` with a tuple of incoming
:class:`Projection` s:

.. math::

    C_m \frac{dv}{dt} = \dots + \sum_{p \in \text{projections}} W_p\, z_p(t - d_p)

where ``z_p`` are the spikes of the projection's source after its stateless stages (flatten,
average pooling, spiking max pooling), ``W_p`` its weighted map (:class:`Dense`,
:class:`Conv2d` or :class:`Identity`) and ``d_p`` its delay in steps. The membrane receives the
*sum* of its projections in phase C of :mod:`lif_bridge.semantics`; a residual addition
``relu(conv(x) + x)`` is one node with a Conv2d projection and an Identity projection.

Concatenation along channels (``torch.cat(xs, dim=1)``) feeding a weighted layer is the layer's
weight split into one block of input channels per source (:func:`concat_projections`). The flatten
order of a concatenation is torch's: ``flatten(cat([a, b], 1))`` is ``[flatten(a), flatten(b)]``
(channel-major C order), so a Dense layer after a Flatten of concatenated maps splits its columns
into consecutive blocks of ``prod(shape_i)``.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import ValidationError
from lif_bridge.network._validate import as_param, fields_equal
from lif_bridge.network.layers import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d, Shape
from lif_bridge.network.neurons import Neurons

__all__ = [
    "INPUT",
    "Identity",
    "Map",
    "Node",
    "Projection",
    "Stage",
    "concat_projections",
]

#: Source name of a projection fed by the input encoder (not a valid node name).
INPUT = "input"


@dataclass(frozen=True, kw_only=True, eq=False)
class Identity:
    r"""The identity map of a shortcut with a per-channel scale: ``y[c] = scale[c] · x[c]``.

    Parameters
    ----------
    scale
        Synaptic weight [C]: a scalar, or one value per channel (first axis) of the input.
    name
        Optional label.
    """

    scale: ArrayLike = 1.0
    name: str = ""

    def __post_init__(self) -> None:
        where = f"Identity {self.name!r}" if self.name else "Identity"
        object.__setattr__(self, "scale", as_param(self.scale, what="scale", where=where))

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def output_shape(self, input_shape: Shape) -> Shape:
        """The input shape (checked against a per-channel scale)."""
        scale = np.asarray(self.scale)
        if scale.ndim == 1 and scale.size != input_shape[0]:
            where = f"Identity {self.name!r}" if self.name else "Identity"
            raise ValidationError(
                f"{where}: scale has {scale.size} values but the input has "
                f"{input_shape[0]} channels {input_shape}"
            )
        return tuple(input_shape)

    def unit_scale(self, input_shape: Shape) -> np.ndarray:
        """The scale of every unit of a flattened input of ``input_shape`` [C]."""
        scale = np.asarray(self.scale, dtype=np.float64)
        n = int(np.prod(input_shape))
        if scale.ndim == 0:
            return np.full(n, float(scale))
        return np.repeat(scale, n // scale.size)


Map = Dense | Conv2d | Identity
Stage = Flatten | AvgPool2d | MaxPool2d
_MAPS = (Dense, Conv2d, Identity)
_STAGES = (Flatten, AvgPool2d, MaxPool2d)


def _map_is_bare(m: Map) -> bool:
    if isinstance(m, Identity):
        return True
    return (
        m.neurons == Neurons()
        and m.ann_bias is None
        and m.ann_activation == "relu"
        and m.rate_scale == 1.0
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Projection:
    """One incoming projection of a :class:`Node`: source -> stages -> weighted map -> delay.

    Parameters
    ----------
    source
        Name of the source node, or :data:`INPUT` for the input encoder.
    map
        :class:`Dense`, :class:`Conv2d` (weights [C]) or :class:`Identity`. Its ``neurons`` and
        ``ann_*`` fields must stay at their defaults: the target :class:`Node` carries them.
    stages
        Stateless stages applied to the source's spikes first, in order (:class:`Flatten`,
        :class:`AvgPool2d`, :class:`MaxPool2d`); spiking max pools come before any linear stage.
    delay
        Extra steps [int >= 0] before the spikes reach the target: a projection with delay ``d``
        delivers in step ``n`` what its stages produced in step ``n - d`` (nothing before ``d``).
    """

    source: str
    map: Map
    stages: tuple[Stage, ...] = ()
    delay: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.source, str) or not self.source:
            raise ValidationError(
                f"Projection: source must be a node name or {INPUT!r}, got {self.source!r}"
            )
        where = f"Projection from {self.source!r}"
        if not isinstance(self.map, _MAPS):
            raise ValidationError(
                f"{where}: map must be Dense, Conv2d or Identity, got {type(self.map).__name__}"
            )
        if not _map_is_bare(self.map):
            raise ValidationError(
                f"{where}: the map's neurons and ann_bias/ann_activation/rate_scale are unused "
                "in a graph; set them on the Node the projection feeds"
            )
        stages = tuple(self.stages)
        for st in stages:
            if not isinstance(st, _STAGES):
                raise ValidationError(
                    f"{where}: stages must be Flatten, AvgPool2d or MaxPool2d, got "
                    f"{type(st).__name__}"
                )
        seen_linear = False
        for st in stages:
            if isinstance(st, MaxPool2d) and seen_linear:
                raise ValidationError(
                    f"{where}: a spiking max pool must receive spikes directly (before any "
                    "Flatten or AvgPool2d stage); reorder the stages"
                )
            seen_linear = seen_linear or not isinstance(st, MaxPool2d)
        object.__setattr__(self, "stages", stages)
        if (
            not isinstance(self.delay, (int, np.integer))
            or isinstance(self.delay, bool)
            or self.delay < 0
        ):
            raise ValidationError(f"{where}: delay must be an int >= 0 steps, got {self.delay!r}")
        object.__setattr__(self, "delay", int(self.delay))

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def output_shape(self, source_shape: Shape) -> Shape:
        """Shape of what the projection delivers for a source of ``source_shape``."""
        shape = tuple(source_shape)
        for st in self.stages:
            shape = st.output_shape(shape)
        return self.map.output_shape(shape)


@dataclass(frozen=True, kw_only=True, eq=False)
class Node:
    """A population of a graph: its neurons and the projections it sums.

    Parameters
    ----------
    name
        Unique, non-empty; other nodes' projections name it as their ``source``.
    projections
        One or more :class:`Projection`; all must deliver the same shape (the population's).
    neurons
        The population's :class:`Neurons` (per-neuron arrays: one value per unit).
    ann_bias, ann_activation, rate_scale
        As for :class:`~lif_bridge.network.WeightedLayer` (used by the ANN view only); one
        ``ann_bias`` value per channel (first axis of the shape) or per unit.
    """

    name: str
    projections: tuple[Projection, ...]
    neurons: Neurons = field(default_factory=Neurons)
    ann_bias: ArrayLike | None = None
    ann_activation: Literal["relu", "identity"] = "relu"
    rate_scale: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name or self.name == INPUT:
            raise ValidationError(
                f"Node: name must be a non-empty string other than {INPUT!r}, got {self.name!r}"
            )
        where = f"Node {self.name!r}"
        projections = tuple(self.projections)
        if not projections or not all(isinstance(p, Projection) for p in projections):
            raise ValidationError(f"{where}: projections must be one or more Projection")
        object.__setattr__(self, "projections", projections)
        if not isinstance(self.neurons, Neurons):
            raise ValidationError(f"{where}: neurons must be a Neurons instance")
        if self.ann_bias is not None:
            bias = as_param(self.ann_bias, what="ann_bias", where=where)
            object.__setattr__(self, "ann_bias", bias)
        if self.ann_activation not in ("relu", "identity"):
            raise ValidationError(f"{where}: ann_activation must be 'relu' or 'identity'")
        scale = float(self.rate_scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ValidationError(f"{where}: rate_scale must be a finite number > 0")
        object.__setattr__(self, "rate_scale", scale)

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def replace(self, **changes: object) -> Node:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def concat_projections(
    sources: Sequence[tuple[str, Shape]],
    map: Dense | Conv2d,
    stages: Sequence[Stage] = (),
    *,
    delay: int = 0,
) -> tuple[Projection, ...]:
    """The projections of a weighted layer applied to ``cat([s_1, ..., s_k], dim=1)``.

    Parameters
    ----------
    sources
        ``(name, shape)`` of each concatenated source, in the order of the concatenation; maps
        ``(C_i, H, W)`` (same ``H, W``) or vectors ``(n_i,)``.
    map
        The layer applied to the concatenation (after ``stages``): a Conv2d with
        ``groups = 1`` over ``sum C_i`` channels, or a Dense over the flattened concatenation.
    stages
        Stages applied to the concatenation (channel-wise pooling, Flatten), applied to every
        source alike: pooling acts per channel, and flattening the concatenation equals
        concatenating the flattened sources (torch's C order).
    delay
        Delay of every projection [steps].

    Returns
    -------
    tuple of Projection
        One per source, each with the block of ``map``'s weight that reads that source.
    """
    if not sources:
        raise ValidationError("concat_projections: give at least one source")
    shapes = []
    for name, shape in sources:
        out = tuple(int(s) for s in shape)
        for st in stages:
            out = st.output_shape(out)
        shapes.append((name, out))
    weight = np.asarray(map.weight)
    blocks: list[np.ndarray] = []
    if isinstance(map, Conv2d):
        if map.groups != 1:
            raise ValidationError(
                f"concat_projections: Conv2d {map.name!r} has groups={map.groups}; a "
                "concatenation can only feed a convolution with groups=1"
            )
        widths = [s[0] for _, s in shapes]
        if sum(widths) != weight.shape[1]:
            raise ValidationError(
                f"concat_projections: Conv2d {map.name!r} reads {weight.shape[1]} channels but "
                f"the sources give {widths} (sum {sum(widths)})"
            )
        edges = np.cumsum([0, *widths])
        blocks = [weight[:, a:b] for a, b in itertools.pairwise(edges)]
    elif isinstance(map, Dense):
        widths = [int(np.prod(s)) for _, s in shapes]
        if sum(widths) != weight.shape[1]:
            raise ValidationError(
                f"concat_projections: Dense {map.name!r} reads {weight.shape[1]} inputs but the "
                f"flattened sources give {widths} (sum {sum(widths)})"
            )
        edges = np.cumsum([0, *widths])
        blocks = [weight[:, a:b] for a, b in itertools.pairwise(edges)]
    else:
        raise ValidationError("concat_projections: map must be Dense or Conv2d")
    return tuple(
        Projection(
            source=name,
            map=dataclasses.replace(map, weight=block),
            stages=tuple(stages),
            delay=delay,
        )
        for (name, _), block in zip(sources, blocks, strict=True)
    )
