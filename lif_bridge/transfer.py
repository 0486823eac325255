r"""The exact single-neuron transfer: output rate vs input rates for regular trains.

Computed event-driven in continuous time, not by the small-rate approximation (Eq. 15): input
``i`` fires at ``t = k / f_i`` (``k = 1, 2, ...``); between events the membrane follows the
exact solution of :math:`C_m \dot v = -g_l (v - v_{rest}) + I_{bias}`,

.. math::

    v(t) = v_\infty + (v_0 - v_\infty)\, e^{-(t - t_0) g_l / C_m},\quad
    v_\infty = v_{rest} + I_{bias}/g_l
    \qquad (g_l = 0:\ v(t) = v_0 + I_{bias} (t - t_0) / C_m),

threshold crossings between events are solved for exactly, simultaneous input spikes add their
jumps :math:`\sum w_i / C_m` at once, and every crossing of ``v_th`` emits a spike followed by the
reset (``subtract``: ``v -= v_th``, repeated while ``v >= v_th``; ``zero``: ``v = v_reset``).
The output rate is the number of spikes in ``[0, T]`` divided by ``T``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import MappingDomainError, ValidationError
from lif_bridge.mapping import lif_to_relu

__all__ = ["TransferCurve", "lif_rate", "transfer_curve"]


def _event_times(
    rates: np.ndarray, weights: np.ndarray, duration: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct input event times in (0, T] and the summed weight arriving at each."""
    times, amps = [], []
    for f, w in zip(rates, weights, strict=False):
        if f <= 0 or w == 0:
            continue
        k = np.arange(1, math.floor(duration * f + 1e-9) + 1, dtype=np.float64)
        times.append(k / f)
        amps.append(np.full(k.size, w))
    if not times:
        return np.empty(0), np.empty(0)
    t = np.concatenate(times)
    a = np.concatenate(amps)
    # Group coincident events (equal up to rounding of k/f) so their jumps add at once.
    t_round = np.round(t, 12)
    uniq, inv = np.unique(t_round, return_inverse=True)
    return uniq, np.bincount(inv, weights=a)


def _check_events(rates: np.ndarray, weights: np.ndarray, duration: float) -> None:
    """Refuse a point whose input events exceed the ``events`` limit (:mod:`lif_bridge.limits`)."""
    from lif_bridge.limits import current

    events = float(np.sum(rates[weights != 0]) * duration)
    limit = current().events
    if events > limit:
        raise ValidationError(
            f"rates up to {rates.max():g} Hz for duration {duration:g} s give {events:.3g} input "
            f"events (≈ {events * 16 / 2**30:.3g} GiB and ≈ {events * 2e-7:.3g} s), over the "
            f"limit events = {limit:,}; lower the rates or the duration, or raise "
            "LIF_BRIDGE_LIMIT_EVENTS"
        )


def lif_rate(
    weights: ArrayLike,
    rates: ArrayLike,
    *,
    g_l: float,
    c_m: float = 1.0,
    v_th: float = 1.0,
    reset: str = "subtract",
    i_bias: float = 0.0,
    v_rest: float = 0.0,
    v_reset: float = 0.0,
    duration: float = 200.0,
) -> float:
    """Exact output rate [Hz] of one neuron driven by regular trains.

    Parameters
    ----------
    weights
        Synaptic weights ``w_i`` [C].
    rates
        Input rates ``f_i`` [Hz], one per weight (or one for all).
    g_l, c_m, v_th, v_reset, v_rest, i_bias
        Leak [S], capacitance [F], threshold [V], reset and resting potentials [V], bias [A].
    reset
        ``"subtract"`` (Linear LIF) or ``"zero"``.
    duration
        Observation time ``T`` [s]; the rate resolution is ``1/T``.
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    f = np.broadcast_to(np.asarray(rates, dtype=np.float64).ravel(), w.shape)
    _check_parameters(
        w, f, g_l=g_l, c_m=c_m, v_th=v_th, v_reset=v_reset, i_bias=i_bias, duration=duration
    )
    if reset not in ("subtract", "zero"):
        raise ValidationError(f"reset must be 'subtract' or 'zero', got {reset!r}")
    _check_events(f, w, duration)
    times, jumps = _event_times(f, w, duration)
    jumps = jumps / c_m
    m = _Membrane(
        g_l=g_l, c_m=c_m, v_th=v_th, reset=reset, i_bias=i_bias, v_rest=v_rest, v_reset=v_reset
    )
    for t, a in zip(times.tolist(), jumps.tolist(), strict=False):
        m.drift(t)
        m.kick(a)
    m.drift(duration)
    return m.n / duration


def _check_parameters(
    w: np.ndarray,
    f: np.ndarray,
    *,
    g_l: float,
    c_m: float,
    v_th: float,
    v_reset: float,
    i_bias: float,
    duration: float,
) -> None:
    """Refuse non-finite values, then out-of-domain ones, with one line naming the parameter."""
    for name, val in (
        ("g_l", g_l),
        ("c_m", c_m),
        ("v_th", v_th),
        ("i_bias", i_bias),
        ("duration", duration),
    ):
        if not math.isfinite(val):
            raise MappingDomainError(f"{name} must be finite, got {val!r}")
    if not (np.all(np.isfinite(w)) and np.all(np.isfinite(f))):
        raise MappingDomainError("weights and rates must be finite")
    for bad, message in (
        (c_m <= 0, f"c_m must be > 0 F, got {c_m!r}"),
        (v_th <= v_reset, f"v_th must be > v_reset, got v_th = {v_th!r}, v_reset = {v_reset!r}"),
        (g_l < 0, f"g_l must be >= 0 S, got {g_l!r}"),
        (duration <= 0, f"duration must be > 0 s, got {duration!r}"),
        (bool(np.any(f < 0)), f"rates must be >= 0 Hz, got {f[f < 0][:3].tolist()}"),
    ):
        if bad:
            raise ValidationError(message)


class _Membrane:
    """Event-driven state of one neuron: potential ``v`` [V] at time ``t0`` [s], spikes ``n``.

    Between input events ``C_m dv/dt = −g_l (v − v_rest) + i_bias``: with a leak,
    ``v(t) = v_∞ + (v − v_∞) e^{−(t − t0)/τ}``, ``v_∞ = v_rest + i_bias/g_l``, ``τ = C_m/g_l``;
    without, ``v(t) = v + (i_bias/C_m)(t − t0)``. Crossing ``v_th`` emits a spike and resets.
    """

    def __init__(
        self,
        *,
        g_l: float,
        c_m: float,
        v_th: float,
        reset: str,
        i_bias: float,
        v_rest: float,
        v_reset: float,
    ) -> None:
        self.v, self.t0, self.n = v_rest, 0.0, 0
        self.v_th, self.reset, self.v_reset = v_th, reset, v_reset
        self.leaky = g_l > 0
        self.v_inf = v_rest + i_bias / g_l if self.leaky else math.nan
        self.tau = c_m / g_l if self.leaky else math.inf
        self.slope = i_bias / c_m

    def fire(self) -> None:
        """Emit the spikes of ``v >= v_th``: subtract ``v_th`` per spike, or reset once."""
        while self.v >= self.v_th:
            self.n += 1
            if self.reset == "subtract":
                self.v -= self.v_th
            else:
                self.v = self.v_reset
                break

    def kick(self, jump: float) -> None:
        """An input spike: ``v += w_i / C_m`` [V], then fire."""
        self.v += jump
        self.fire()

    def _crossing(self) -> float:
        """Time [s] the drift alone takes ``v`` up to ``v_th`` (``inf`` if never)."""
        v, v_th, v_inf = self.v, self.v_th, self.v_inf
        if self.leaky:
            if v_inf >= v_th and v < v_th:
                return self.t0 + self.tau * math.log((v - v_inf) / (v_th - v_inf))
            return math.inf
        return self.t0 + (v_th - v) / self.slope if self.slope > 0 and v < v_th else math.inf

    def drift(self, t1: float) -> None:
        """Advance from ``t0`` to ``t1``, emitting the spikes of crossings in between."""
        while True:
            t_cross = self._crossing()
            if t_cross > t1:
                break
            self.t0, self.v = t_cross, self.v_th
            self.fire()
        if self.leaky:
            self.v = self.v_inf + (self.v - self.v_inf) * math.exp(-(t1 - self.t0) / self.tau)
        else:
            self.v = self.v + self.slope * (t1 - self.t0)
        self.t0 = t1


@dataclass(frozen=True)
class TransferCurve:
    """Output rates of a neuron over a sweep of input rates, next to the ReLU it maps.

    Attributes
    ----------
    rates_in
        Common input rate [Hz] of each point (or ``(points, inputs)`` for per-input rates).
    rates_out
        Exact output rate [Hz] of the LIF neuron.
    relu
        ``k · max(0, sum_i w_i f_i + b)`` [Hz] with ``b`` the ReLU bias the leak maps to
        (:func:`lif_bridge.mapping.lif_to_relu`) plus ``i_bias``.
    bias
        That ReLU bias ``b`` [A].
    """

    rates_in: np.ndarray
    rates_out: np.ndarray
    relu: np.ndarray
    bias: float

    @property
    def error(self) -> np.ndarray:
        """``rates_out - relu`` [Hz]."""
        return self.rates_out - self.relu


def transfer_curve(
    weights: ArrayLike,
    rates: ArrayLike,
    *,
    g_l: float,
    c_m: float = 1.0,
    v_th: float = 1.0,
    reset: str = "subtract",
    i_bias: float = 0.0,
    duration: float = 200.0,
) -> TransferCurve:
    """Exact transfer over input rates ``rates`` (1-D: common rate; 2-D: per input).

    The ReLU reference uses the leak-mapped bias when ``0 < sum(w) < V_th C_m`` (else only the
    leak-free part, ``b = i_bias``).
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    r = np.asarray(rates, dtype=np.float64)
    per_input = r.ndim == 2
    if per_input and r.shape[1] != w.size:
        raise ValidationError(f"rates has {r.shape[1]} columns but there are {w.size} weights")
    try:
        b = lif_to_relu(w, g_l, v_th=v_th, c_m=c_m).bias if g_l > 0 else 0.0
    except MappingDomainError:
        b = 0.0
    b += i_bias
    out, relu = [], []
    for point in r:
        f = np.broadcast_to(point, w.shape)
        out.append(
            lif_rate(
                w, f, g_l=g_l, c_m=c_m, v_th=v_th, reset=reset, i_bias=i_bias, duration=duration
            )
        )
        relu.append(max(0.0, float(w @ f) + b) / (v_th * c_m))
    return TransferCurve(rates_in=r, rates_out=np.array(out), relu=np.array(relu), bias=b)
