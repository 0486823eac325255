"""Simulation settings: time step, window, input encoding, readout; input checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network.encoders import ConstantCurrent, Encoder, Poisson, RegularRate

if TYPE_CHECKING:
    from lif_bridge.network.network import Network

__all__ = ["Readout", "ReadoutLayers", "Simulation", "check_inputs"]


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
