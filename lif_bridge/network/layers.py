"""Layers of the description: weighted layers with their neurons, and stateless spike stages.

Shapes follow PyTorch: feature maps are ``(C, H, W)``; dense inputs are vectors. Weighted
layers (:class:`Dense`, :class:`Conv2d`) carry the population of :class:`Neurons` they feed.
Stages without neurons (:class:`Flatten`, :class:`AvgPool2d`, :class:`MaxPool2d`) transform the
spikes of one step on their way to the next weighted layer, without latency (see
:mod:`lif_bridge.semantics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import ValidationError
from lif_bridge.network._validate import as_pair, as_weight, fields_equal
from lif_bridge.network.neurons import Neurons

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Dense",
    "Flatten",
    "Layer",
    "MaxPool2d",
    "WeightedLayer",
]

Shape = tuple[int, ...]


def _conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


@dataclass(frozen=True, kw_only=True, eq=False)
class _Base:
    name: str = ""

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    def output_shape(self, input_shape: Shape) -> Shape:  # pragma: no cover - abstract
        raise NotImplementedError

    def _where(self) -> str:
        return f"{type(self).__name__} {self.name!r}" if self.name else type(self).__name__


@dataclass(frozen=True, kw_only=True, eq=False)
class WeightedLayer(_Base):
    r"""Common fields of layers with synapses and a population of neurons.

    Parameters
    ----------
    neurons
        The population this layer's synapses feed (one neuron per output unit).
    ann_bias
        Bias :math:`b` [A] of the ReLU layer this population stands for, used only by the ANN
        view (:func:`lif_bridge.ann_forward`), not by simulation; ``None`` means the ANN bias is
        the population's ``i_bias``. Scalar or one value per output unit (channel for conv).
    ann_activation
        ``"relu"`` or ``"identity"`` (an ANN output layer without ReLU); the spiking population
        always rectifies.
    rate_scale
        ANN activation = rate [Hz] / ``rate_scale``: set by the converter so that the ANN view
        reproduces the trained model's outputs exactly.
    """

    neurons: Neurons = field(default_factory=Neurons)
    ann_bias: ArrayLike | None = None
    ann_activation: Literal["relu", "identity"] = "relu"
    rate_scale: float = 1.0

    def _check_common(self, n_units: int) -> None:
        where = self._where()
        if not isinstance(self.neurons, Neurons):
            raise ValidationError(f"{where}: neurons must be a Neurons instance")
        if self.ann_bias is not None:
            bias = np.array(self.ann_bias, dtype=np.float64)
            if bias.ndim > 1 or (bias.ndim == 1 and bias.size != n_units):
                raise ValidationError(
                    f"{where}: ann_bias must be a scalar or have {n_units} values, "
                    f"got shape {bias.shape}"
                )
            if not np.all(np.isfinite(bias)):
                raise ValidationError(f"{where}: ann_bias contains NaN or infinite values")
            bias.setflags(write=False)
            object.__setattr__(self, "ann_bias", bias)
        if self.ann_activation not in ("relu", "identity"):
            raise ValidationError(f"{where}: ann_activation must be 'relu' or 'identity'")
        scale = float(self.rate_scale)
        if not np.isfinite(scale) or scale <= 0:
            raise ValidationError(f"{where}: rate_scale must be a finite number > 0")
        object.__setattr__(self, "rate_scale", scale)

    @property
    def n_units(self) -> int:  # pragma: no cover - abstract
        """Number of output units (channels for a convolution)."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True, eq=False)
class Dense(WeightedLayer):
    r"""All-to-all synapses ``W`` of shape ``(n_out, n_in)`` [C] feeding ``n_out`` neurons.

    An input spike of unit ``j`` raises ``v_i`` by ``W[i, j] / C_m`` [V].
    """

    weight: ArrayLike = field(default_factory=lambda: np.zeros((0, 0)))

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "weight", as_weight(self.weight, ndim=2, what="weight", where=self._where())
        )
        self._check_common(self.n_units)

    @property
    def n_units(self) -> int:
        return int(np.shape(self.weight)[0])

    def output_shape(self, input_shape: Shape) -> Shape:
        n_in = int(np.shape(self.weight)[1])
        if len(input_shape) != 1 or input_shape[0] != n_in:
            raise ValidationError(
                f"{self._where()}: expects a vector of {n_in} inputs but receives shape "
                f"{input_shape}; insert a Flatten before it or check the weight shape"
            )
        return (self.n_units,)


@dataclass(frozen=True, kw_only=True, eq=False)
class Conv2d(WeightedLayer):
    r"""2-D convolution (PyTorch's cross-correlation) feeding one neuron per output position.

    ``weight`` has shape ``(C_out, C_in / groups, kH, kW)`` [C]. Output unit ``(o, y, x)`` receives
    ``sum_{c, dy, dx} W[o, c, dy, dx] s[g·C_in/groups + c, y·sH - pH + dy·dH, x·sW - pW + dx·dW]``
    (zero padding), i.e. exactly ``torch.nn.functional.conv2d`` applied to the spike map.
    """

    weight: ArrayLike = field(default_factory=lambda: np.zeros((0, 0, 0, 0)))
    stride: tuple[int, int] | int = 1
    padding: tuple[int, int] | int = 0
    dilation: tuple[int, int] | int = 1
    groups: int = 1

    def __post_init__(self) -> None:
        where = self._where()
        object.__setattr__(
            self, "weight", as_weight(self.weight, ndim=4, what="weight", where=where)
        )
        object.__setattr__(
            self, "stride", as_pair(self.stride, what="stride", where=where, minimum=1)
        )
        object.__setattr__(
            self, "padding", as_pair(self.padding, what="padding", where=where, minimum=0)
        )
        object.__setattr__(
            self, "dilation", as_pair(self.dilation, what="dilation", where=where, minimum=1)
        )
        if not isinstance(self.groups, (int, np.integer)) or self.groups < 1:
            raise ValidationError(f"{where}: groups must be an int >= 1")
        if np.shape(self.weight)[0] % self.groups:
            raise ValidationError(f"{where}: output channels must be divisible by groups")
        self._check_common(self.n_units)

    @property
    def n_units(self) -> int:
        return int(np.shape(self.weight)[0])

    @property
    def in_channels(self) -> int:
        """Number of input channels the layer expects."""
        return int(np.shape(self.weight)[1]) * int(self.groups)

    def output_shape(self, input_shape: Shape) -> Shape:
        where = self._where()
        if len(input_shape) != 3:
            raise ValidationError(f"{where}: expects a (C, H, W) map, receives shape {input_shape}")
        c, h, w = input_shape
        if c != self.in_channels:
            raise ValidationError(
                f"{where}: expects {self.in_channels} input channels, receives {c}"
            )
        kh, kw = np.shape(self.weight)[2:]
        (sh, sw), (ph, pw), (dh, dw) = self.stride, self.padding, self.dilation  # type: ignore[misc]
        oh, ow = _conv_out(h, kh, sh, ph, dh), _conv_out(w, kw, sw, pw, dw)
        if oh < 1 or ow < 1:
            raise ValidationError(f"{where}: input {input_shape} is smaller than the kernel")
        return (self.n_units, oh, ow)


@dataclass(frozen=True, kw_only=True, eq=False)
class _Pool(_Base):
    kernel_size: tuple[int, int] | int = 2
    stride: tuple[int, int] | int | None = None

    def __post_init__(self) -> None:
        where = self._where()
        kernel = as_pair(self.kernel_size, what="kernel_size", where=where, minimum=1)
        object.__setattr__(self, "kernel_size", kernel)
        stride = kernel if self.stride is None else self.stride
        object.__setattr__(self, "stride", as_pair(stride, what="stride", where=where, minimum=1))

    def output_shape(self, input_shape: Shape) -> Shape:
        if len(input_shape) != 3:
            raise ValidationError(
                f"{self._where()}: expects a (C, H, W) map, receives shape {input_shape}"
            )
        c, h, w = input_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride  # type: ignore[misc]
        oh, ow = _conv_out(h, kh, sh, 0, 1), _conv_out(w, kw, sw, 0, 1)
        if oh < 1 or ow < 1:
            raise ValidationError(
                f"{self._where()}: input {input_shape} is smaller than the window"
            )
        return (c, oh, ow)


@dataclass(frozen=True, kw_only=True, eq=False)
class AvgPool2d(_Pool):
    """Average pooling (no padding): ``z_u`` is the mean of the spikes in window ``u``.

    Linear, so it acts as fixed weights ``1/(kH·kW)`` in front of the next weighted layer.
    """


@dataclass(frozen=True, kw_only=True, eq=False)
class MaxPool2d(_Pool):
    """Spiking max pooling gated on running spike counts (Lu & Xu §5.4.2, online form).

    Each window has one *winner*, the unit whose spikes pass: after this step's spikes are
    added to the running counts since the start of the sample, the winner stays while its count
    is the window's largest (an incumbent keeps a tie), else the first unit in row-major window
    order with the largest count becomes the winner; winners are forgotten at each sample's
    start. At most one spike per window and step. See :mod:`lif_bridge.semantics`.
    """


@dataclass(frozen=True, kw_only=True, eq=False)
class Flatten(_Base):
    """Reshape a ``(C, H, W)`` map to a vector in C order (``torch.flatten(x, 1)``)."""

    def output_shape(self, input_shape: Shape) -> Shape:
        return (int(np.prod(input_shape)),)


Layer = Dense | Conv2d | AvgPool2d | MaxPool2d | Flatten
