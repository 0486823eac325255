"""The network description and the simulation settings."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network._validate import fields_equal
from lif_bridge.network.encoders import ConstantCurrent, Encoder, Poisson, RegularRate
from lif_bridge.network.layers import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Layer,
    MaxPool2d,
    WeightedLayer,
)

__all__ = ["Network", "Population", "Readout", "Simulation"]

_LAYER_TYPES = (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten)
_PREFIX = {
    Dense: "dense",
    Conv2d: "conv",
    AvgPool2d: "avgpool",
    MaxPool2d: "maxpool",
    Flatten: "flatten",
}


@dataclass(frozen=True)
class Population:
    """A weighted layer seen from the simulator: where it sits and what it receives.

    Attributes
    ----------
    index
        Position of the weighted layer in ``Network.layers``.
    layer
        The weighted layer (its ``neurons`` are the population).
    source
        Index of the population it receives spikes from (``-1``: the input encoder).
    stages
        The stateless layers (flatten, pooling) between the source and this layer, in order.
    input_shape, shape
        Shape of what the synapses receive (after the stages) and of the population.
    """

    index: int
    layer: WeightedLayer
    source: int
    stages: tuple[Layer, ...]
    source_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def name(self) -> str:
        """The layer's name."""
        return self.layer.name

    @property
    def size(self) -> int:
        """Number of neurons."""
        return int(np.prod(self.shape))

    @property
    def gates(self) -> tuple[MaxPool2d, ...]:
        """The spiking max-pool stages, which always come first (before any linear stage)."""
        return tuple(s for s in self.stages if isinstance(s, MaxPool2d))

    @property
    def linear_stages(self) -> tuple[Layer, ...]:
        """The linear stages (flatten, average pooling) after the gates."""
        return tuple(s for s in self.stages if not isinstance(s, MaxPool2d))

    @property
    def gated_shape(self) -> tuple[int, ...]:
        """Shape of what leaves the max-pool gates (the source shape if there are none)."""
        shape = self.source_shape
        for stage in self.gates:
            shape = stage.output_shape(shape)
        return shape


@dataclass(frozen=True, kw_only=True, eq=False)
class Network:
    """A feed-forward spiking network: input shape, layers, and the populations they feed.

    Parameters
    ----------
    input_shape
        Shape of one input sample, e.g. ``(1, 28, 28)`` or ``(784,)``.
    layers
        :class:`Dense`, :class:`Conv2d` (each with its :class:`Neurons`), :class:`AvgPool2d`,
        :class:`MaxPool2d` and :class:`Flatten`, in order. The last layer must be weighted.
        Unnamed layers are named ``<type><index>``; names must be unique.
    max_rate
        Input rate [Hz] for ``x = 1`` that the network was converted for (the default of
        :attr:`Simulation.max_rate`); ``None`` if the network does not depend on it.
    metadata
        Free JSON-serialisable information (source model, conversion options...).
    """

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    max_rate: float | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        shape = tuple(int(s) for s in self.input_shape)
        if not shape or any(s < 1 for s in shape):
            raise ValidationError(f"Network: input_shape must be positive ints, got {shape}")
        object.__setattr__(self, "input_shape", shape)
        layers = tuple(self.layers)
        if not layers:
            raise ValidationError("Network: needs at least one layer")
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
        object.__setattr__(self, "layers", tuple(named))
        if not isinstance(named[-1], WeightedLayer):
            raise ValidationError(
                f"Network: the last layer {named[-1].name!r} must be Dense or Conv2d "
                "(its neurons are the readout)"
            )
        if self.max_rate is not None:
            rate = float(self.max_rate)
            if not np.isfinite(rate) or rate <= 0:
                raise ValidationError("Network: max_rate must be a finite rate > 0 Hz")
            object.__setattr__(self, "max_rate", rate)
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "_populations", self._build_populations())

    def _build_populations(self) -> tuple[Population, ...]:
        pops: list[Population] = []
        shape = self.input_shape
        source, source_shape, stages = -1, shape, []
        for i, layer in enumerate(self.layers):
            if isinstance(layer, MaxPool2d) and any(not isinstance(st, MaxPool2d) for st in stages):
                raise ValidationError(
                    f"MaxPool2d {layer.name!r}: a spiking max pool must receive spikes "
                    "directly (from a population, the input, or another MaxPool2d), not "
                    "the output of a Flatten or AvgPool2d; reorder the layers"
                )
            out = layer.output_shape(shape)
            if isinstance(layer, WeightedLayer):
                size = int(np.prod(out))
                n = layer.neurons.size
                if n is not None and n != size:
                    raise ValidationError(
                        f"{type(layer).__name__} {layer.name!r}: per-neuron parameters have {n} "
                        f"values but the layer has {size} neurons {out}"
                    )
                pops.append(Population(i, layer, source, tuple(stages), source_shape, shape, out))
                source, source_shape, stages = len(pops) - 1, out, []
            else:
                stages.append(layer)
            shape = out
        return tuple(pops)

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def populations(self) -> tuple[Population, ...]:
        """The populations in order (one per weighted layer)."""
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
        """The population of the weighted layer called ``name``."""
        for pop in self.populations:
            if pop.name == name:
                return pop
        raise ValidationError(
            f"Network: no weighted layer named {name!r}; populations are "
            + ", ".join(p.name for p in self.populations)
        )

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def summary(self) -> str:
        """A table of layers, shapes, neurons and synapse counts."""
        from lif_bridge.connectivity import synapse_count

        rows = [f"input {self.input_shape}"]
        shape = self.input_shape
        for layer in self.layers:
            out = layer.output_shape(shape)
            line = f"{layer.name:<12} {type(layer).__name__:<10} {shape!s:>16} -> {out!s:<16}"
            if isinstance(layer, WeightedLayer):
                line += f" {layer.neurons.kind:<10} synapses={synapse_count(layer, shape):,}"
            rows.append(line)
            shape = out
        return "\n".join(rows)


def _renamed(layer: Layer, name: str) -> Layer:
    values = {f: getattr(layer, f) for f in layer.__dataclass_fields__}
    values["name"] = name
    return type(layer)(**values)


ReadoutLayers = Literal["output", "all"] | tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Readout:
    """What a run returns besides the output spike counts.

    Parameters
    ----------
    counts
        ``"output"`` (the last population), ``"all"`` (every population) or a tuple of layer
        names whose per-neuron spike counts are returned.
    traces
        Names of populations whose membrane potential ``v`` [V] is recorded after every step
        (after the reset); memory grows as samples × steps × neurons.
    """

    counts: ReadoutLayers = "output"
    traces: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.counts, str):
            if self.counts not in ("output", "all"):
                raise ValidationError("Readout: counts must be 'output', 'all' or layer names")
        else:
            object.__setattr__(self, "counts", tuple(self.counts))
        object.__setattr__(self, "traces", tuple(self.traces))

    def count_layers(self, network: Network) -> tuple[str, ...]:
        """Names of the populations whose counts are returned (the output always included)."""
        if self.counts == "all":
            return tuple(p.name for p in network.populations)
        names = () if self.counts == "output" else tuple(self.counts)
        for name in (*names, *self.traces):
            network.population(name)  # raises a clear error for unknown names
        out = network.output.name
        return tuple(dict.fromkeys((*names, out)))


_ENCODERS = (RegularRate, Poisson, ConstantCurrent)


@dataclass(frozen=True, kw_only=True)
class Simulation:
    """How to run a network: time step, window, input encoding and readout.

    Parameters
    ----------
    steps
        Number of time steps in each sample's window (``T = steps · dt``).
    dt
        Time step [s] (the paper uses 0.01 s).
    encoder
        :class:`RegularRate` (paper), :class:`Poisson` or :class:`ConstantCurrent`.
    max_rate
        Input rate [Hz] for ``x = 1``; ``None``: the network's ``max_rate``, else ``1/dt``.
    readout
        What to return besides the output counts.
    """

    steps: int
    dt: float = 0.01
    encoder: Encoder = field(default_factory=RegularRate)
    max_rate: float | None = None
    readout: Readout = field(default_factory=Readout)

    def __post_init__(self) -> None:
        if not isinstance(self.steps, (int, np.integer)) or self.steps < 1:
            raise ValidationError(f"Simulation: steps must be an int >= 1, got {self.steps!r}")
        dt = float(self.dt)
        if not np.isfinite(dt) or dt <= 0:
            raise ValidationError(f"Simulation: dt must be a time step > 0 s, got {self.dt!r}")
        object.__setattr__(self, "dt", dt)
        object.__setattr__(self, "steps", int(self.steps))
        if not isinstance(self.encoder, _ENCODERS):
            raise ValidationError(
                "Simulation: encoder must be RegularRate, Poisson or ConstantCurrent"
            )
        if self.max_rate is not None:
            rate = float(self.max_rate)
            if not np.isfinite(rate) or rate <= 0:
                raise ValidationError("Simulation: max_rate must be a finite rate > 0 Hz")
            if rate * dt > 1 + 1e-12 and self.encoder.is_spiking:
                raise ValidationError(
                    f"Simulation: max_rate {rate} Hz exceeds 1/dt = {1 / dt:g} Hz, the most a "
                    "spike train on this grid can carry; lower max_rate or dt"
                )
            object.__setattr__(self, "max_rate", rate)

    @property
    def duration(self) -> float:
        """Window length ``T = steps · dt`` [s]."""
        return self.steps * self.dt

    def input_rate(self, network: Network) -> float:
        """The effective ``max_rate`` [Hz] for ``network``.

        ``Simulation.max_rate`` if set, else the network's (the rate it was converted for),
        else ``1/dt``. A network converted for a rate above ``1/dt`` cannot be driven at that
        rate by spike trains on this grid; its bias currents assume that rate, so this raises
        rather than silently lowering it.
        """
        if self.max_rate is not None:
            return self.max_rate
        if network.max_rate is not None:
            if self.encoder.is_spiking and network.max_rate * self.dt > 1 + 1e-12:
                raise ValidationError(
                    f"the network was converted for input rates up to {network.max_rate:g} Hz, "
                    f"but spike trains with dt = {self.dt:g} s carry at most {1 / self.dt:g} Hz; "
                    f"use dt <= {1 / network.max_rate:g} s or convert with a lower max_rate"
                )
            return network.max_rate
        return 1.0 / self.dt

    def encode(self, network: Network, x: np.ndarray, start_index: int = 0) -> np.ndarray:
        """The encoder's values for a batch ``x`` (batch, *input_shape): (batch, steps, n_in)."""
        from lif_bridge.network.encoders import spike_probability

        x = np.asarray(x)
        flat = x.reshape(x.shape[0], -1)
        p = spike_probability(flat, self.input_rate(network), self.dt)
        return self.encoder.encode(p, self.steps, start_index)


def check_inputs(network: Network, x: Sequence[Any] | np.ndarray) -> np.ndarray:
    """``x`` as a float64 array of shape ``(samples, *network.input_shape)``, or a clear error."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.shape[1:] != network.input_shape:
        if arr.ndim >= 1 and int(np.prod(arr.shape[1:])) == network.n_inputs:
            arr = arr.reshape((arr.shape[0], *network.input_shape))
        else:
            raise ValidationError(
                f"inputs have shape {arr.shape}; expected (samples, *{network.input_shape})"
            )
    if not np.all(np.isfinite(arr)):
        raise ValidationError("inputs contain NaN or infinite values")
    return arr
