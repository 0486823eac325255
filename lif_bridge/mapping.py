r"""The ReLU <-> Linear LIF mapping of Lu & Xu (2022), Table 1 as corrected in the spec.

A ReLU neuron :math:`y = k \max(0, \sum_i w_i x_i + b)` (inputs and output are rates [Hz],
weights [C], bias [A]) maps onto a Linear LIF neuron (reset by subtraction) with

=====================  ================================================================
ReLU                   Linear LIF
=====================  ================================================================
weight :math:`w_i`     synaptic weight: each input spike makes ``v`` jump by :math:`w_i/C_m`
slope :math:`k`        :math:`k = 1 / (V_{th} C_m)`
bias :math:`b \le 0`   leak :math:`g_l = b\,C_m \ln(1 - \Sigma w/(V_{th} C_m)) / \Sigma w`
=====================  ================================================================

and back, :math:`b = -\Sigma w \, f_{min}` with the firing onset

.. math::

    f_{min} = \frac{-1}{\tau_m \ln\!\big(1 - \Sigma w / (V_{th} C_m)\big)},\qquad
    \tau_m = C_m / g_l .

(The printed Table 1 puts the logarithm in the numerator; Eq. 12 and Table 2 put it in the
denominator, which is what is implemented.) The leak form exists only for
:math:`0 < \Sigma w < V_{th} C_m` and :math:`b \le 0`: outside, :class:`MappingDomainError`.
It is exact at the onset and in the slope when every input fires at the same rate (§5.5); at
high rates the Linear LIF sits above the ReLU (see :mod:`lif_bridge.transfer`).

Bias modes of the converter: ``"leak"`` (the paper: the bias becomes ``g_l``), ``"current"``
(a constant current ``I_bias = b``, any sign, exact in the mean) and ``"none"`` (bias dropped).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import MappingDomainError

__all__ = [
    "BIAS_MODES",
    "BiasMode",
    "LifParameters",
    "ReluParameters",
    "leak_for_bias",
    "lif_to_relu",
    "onset_rate",
    "relu_to_lif",
]

BiasMode = Literal["leak", "current", "none"]
BIAS_MODES: tuple[str, ...] = ("leak", "current", "none")


def _finite(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v):
        raise MappingDomainError(f"{name} is {value!r}; it must be a finite number")
    return v


def _positive(name: str, value: float, unit: str) -> float:
    v = _finite(name, value)
    if v <= 0:
        raise MappingDomainError(f"{name} must be > 0 {unit}, got {value!r}")
    return v


def _weight_sum(weights: ArrayLike) -> float:
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0:
        raise MappingDomainError("weights is empty; give the neuron's input weights")
    if not np.all(np.isfinite(w)):
        raise MappingDomainError("weights contain NaN or infinite values")
    return float(w.sum())


def _check_domain(sum_w: float, v_th: float, c_m: float) -> None:
    if not 0 < sum_w < v_th * c_m:
        raise MappingDomainError(
            f"the leak mapping needs 0 < sum(weights) < V_th*C_m = {v_th * c_m:g}, got "
            f"sum(weights) = {sum_w:g}: scale the weights down (or raise V_th or C_m), or use "
            "bias mode 'current'"
        )


@dataclass(frozen=True)
class LifParameters:
    """Linear LIF parameters for a ReLU neuron.

    Attributes
    ----------
    g_l
        Leak conductance [S].
    tau_m
        Membrane time constant ``C_m / g_l`` [s] (``inf`` for ``g_l = 0``).
    f_min
        Input rate [Hz] (all inputs equal) at which the neuron starts firing.
    slope
        ``k = 1 / (V_th C_m)`` [1/(V·F) = Hz per A].
    c_m, v_th
        The capacitance [F] and threshold [V] used.
    """

    g_l: float
    tau_m: float
    f_min: float
    slope: float
    c_m: float
    v_th: float


@dataclass(frozen=True)
class ReluParameters:
    """ReLU parameters a Linear LIF neuron stands for.

    Attributes
    ----------
    bias
        ``b = -sum(w) f_min`` [A] (0 for ``g_l = 0``).
    f_min
        Firing onset [Hz] for equal input rates.
    slope
        ``k = 1 / (V_th C_m)``.
    """

    bias: float
    f_min: float
    slope: float


def onset_rate(sum_w: float, g_l: float, v_th: float = 1.0, c_m: float = 1.0) -> float:
    """Minimum common input rate [Hz] that makes the neuron fire (``0`` for ``g_l = 0``)."""
    g_l = _finite("g_l", g_l)
    if g_l < 0:
        raise MappingDomainError(f"g_l must be >= 0 S, got {g_l!r}")
    if g_l == 0:
        return 0.0
    _check_domain(sum_w, v_th, c_m)
    tau = c_m / g_l
    return _finite_result("f_min", -1.0 / (tau * math.log1p(-sum_w / (v_th * c_m))), "g_l", g_l)


def _finite_result(name: str, value: float, cause: str, given: float) -> float:
    """``value``, or a :class:`MappingDomainError` naming the input that made it overflow."""
    if not math.isfinite(value):
        raise MappingDomainError(
            f"{cause} = {given:g} makes {name} = {value} (outside the floating-point range); "
            f"give a {cause} of a physical magnitude"
        )
    return value


def relu_to_lif(
    weights: ArrayLike, bias: float, *, v_th: float = 1.0, c_m: float = 1.0
) -> LifParameters:
    """Map a ReLU neuron ``(w, b)`` onto Linear LIF parameters (leak mode).

    Raises
    ------
    MappingDomainError
        If ``b > 0``, ``sum(w)`` is outside ``(0, V_th C_m)``, or a value is not finite.
    """
    v_th = _positive("v_th", v_th, "V")
    c_m = _positive("c_m", c_m, "F")
    b = _finite("bias", bias)
    sum_w = _weight_sum(weights)
    if b > 0:
        raise MappingDomainError(
            f"bias = {b:g} > 0 cannot be expressed by a leak (a leak only lowers the rate); "
            "use bias mode 'current' for positive biases"
        )
    _check_domain(sum_w, v_th, c_m)
    g_l = _finite_result("g_l", b * c_m * math.log1p(-sum_w / (v_th * c_m)) / sum_w, "bias", b)
    f_min = onset_rate(sum_w, g_l, v_th, c_m)
    return LifParameters(
        g_l=g_l,
        tau_m=c_m / g_l if g_l > 0 else math.inf,
        f_min=f_min,
        slope=1.0 / (v_th * c_m),
        c_m=c_m,
        v_th=v_th,
    )


def lif_to_relu(
    weights: ArrayLike, g_l: float, *, v_th: float = 1.0, c_m: float = 1.0
) -> ReluParameters:
    """The ReLU ``(b, k)`` a Linear LIF neuron with leak ``g_l`` maps to (the inverse)."""
    v_th = _positive("v_th", v_th, "V")
    c_m = _positive("c_m", c_m, "F")
    sum_w = _weight_sum(weights)
    f_min = onset_rate(sum_w, g_l, v_th, c_m)
    bias = _finite_result("the bias", -sum_w * f_min, "g_l", g_l)
    return ReluParameters(bias=bias, f_min=f_min, slope=1.0 / (v_th * c_m))


def leak_for_bias(
    sum_w: ArrayLike,
    bias: ArrayLike,
    *,
    v_th: ArrayLike = 1.0,
    c_m: ArrayLike = 1.0,
    layer: str = "",
) -> np.ndarray:
    """Vectorised leak mapping for a whole layer: ``g_l`` per neuron [S].

    Parameters
    ----------
    sum_w
        Sum of each neuron's incoming weights [C].
    bias
        ReLU bias of each neuron [A], ``<= 0``.
    v_th, c_m
        Threshold [V] and capacitance [F], scalars or per neuron.
    layer
        Name used in error messages.

    Raises
    ------
    MappingDomainError
        Naming the layer, the first offending neurons and the fix.
    """
    s, b, v, c = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (sum_w, bias, v_th, c_m))
    )
    where = f"layer {layer!r}: " if layer else ""
    bad = ~np.isfinite(s) | ~np.isfinite(b)
    if bad.any():
        raise MappingDomainError(f"{where}NaN or infinite weights/bias at neurons {_first(bad)}")
    pos = b > 0
    if pos.any():
        raise MappingDomainError(
            f"{where}{int(pos.sum())} neurons have a positive bias (e.g. neurons {_first(pos)}), "
            "which a leak cannot express; use bias mode 'current'"
        )
    needs = b < 0
    out = (s <= 0) | (s >= v * c)
    off = needs & out
    if off.any():
        raise MappingDomainError(
            f"{where}{int(off.sum())} neurons need 0 < sum(weights) < V_th*C_m for the leak "
            f"mapping (e.g. neurons {_first(off)}, sum(weights) = {s[off][:3].round(4).tolist()}); "
            "scale the layer's weights down or use bias mode 'current'"
        )
    g = np.zeros_like(s)
    g[needs] = b[needs] * c[needs] * np.log1p(-s[needs] / (v[needs] * c[needs])) / s[needs]
    return g


def _first(mask: np.ndarray, k: int = 3) -> Sequence[int]:
    return [int(i) for i in np.flatnonzero(mask)[:k]]
