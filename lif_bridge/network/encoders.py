"""Input encoders: how an input ``x`` in [0, 1] becomes the values fed to the first layer.

All encoders share ``p = clip(x · max_rate · dt, 0, 1)``, the expected number of spikes per
step. The exact per-step values are defined in :mod:`lif_bridge.semantics`; the trains are
computed here, once, and handed to every backend so that they all see the same input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lif_bridge.errors import ValidationError

__all__ = [
    "ConstantCurrent",
    "Encoder",
    "Poisson",
    "RegularRate",
    "check_input_range",
    "scale_to_unit",
    "spike_probability",
]

#: Rounding slack allowed around [0, 1] (float32 images divided by 255 stay inside exactly).
_RANGE_SLACK = 1e-6


def check_input_range(x: np.ndarray) -> None:
    """Refuse inputs outside [0, 1]: a rate code cannot carry them (they would be clipped).

    Raises
    ------
    ValidationError
        Naming the range found and the fix (uint8 images: divide by 255; on the command
        line ``--scale-inputs``; in Python :func:`scale_to_unit`).
    """
    if x.size == 0:
        return
    lo, hi = float(np.min(x)), float(np.max(x))
    if lo < -_RANGE_SLACK or hi > 1 + _RANGE_SLACK:
        hint = " (uint8 images? divide by 255)" if hi > 1 and float(hi).is_integer() else ""
        raise ValidationError(
            f"inputs must lie in [0, 1] (the fraction of max_rate), found values in "
            f"[{lo:g}, {hi:g}]{hint}; scale them first, e.g. lif_bridge.network.scale_to_unit, "
            "or pass --scale-inputs on the command line"
        )


def scale_to_unit(x: np.ndarray) -> np.ndarray:
    """``(x - min) / (max - min)`` over the whole array, as float64 in [0, 1].

    For data outside [0, 1] (uint8 images, standardised inputs). The same scaling must be
    applied to the ANN's inputs for a comparison; a constant array becomes zeros.
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValidationError("inputs contain NaN or infinite values")
    lo, hi = (float(np.min(x)), float(np.max(x))) if x.size else (0.0, 1.0)
    if hi == lo:
        return np.zeros_like(x)
    return (x - lo) / (hi - lo)


def spike_probability(x: np.ndarray, max_rate: float, dt: float) -> np.ndarray:
    """``p = clip(x · max_rate · dt, 0, 1)`` as float64, the expected spikes per step.

    ``x`` must lie in [0, 1] (:func:`check_input_range`); the clip acts only when
    ``max_rate · dt > 1``.
    """
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise ValidationError("inputs contain NaN or infinite values")
    check_input_range(x)
    return np.clip(x * (max_rate * dt), 0.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class RegularRate:
    """Regular spike trains of rate ``x · max_rate`` (Lu & Xu Eq. 8; deterministic).

    ``e[n] = floor((n+1)·p) - floor(n·p)``: the accumulator ``acc += p`` that spikes and
    subtracts 1 whenever ``acc >= 1``, in closed form.
    """

    kind = "regular"

    @property
    def is_spiking(self) -> bool:
        """Whether the encoder emits 0/1 spikes (else real amounts)."""
        return True

    def encode(self, p: np.ndarray, steps: int, start_index: int = 0) -> np.ndarray:
        """Trains of shape ``(batch, steps, n)`` (uint8) for ``p`` of shape ``(batch, n)``."""
        out = np.empty((p.shape[0], steps, p.shape[1]), dtype=np.uint8)
        prev = np.zeros_like(p)
        for n in range(steps):  # one step at a time: memory stays at the size of the output
            cur = np.floor((n + 1) * p)
            out[:, n, :] = cur - prev
            prev = cur
        return out


@dataclass(frozen=True, kw_only=True)
class Poisson:
    """Bernoulli-per-step ("Poisson") trains: ``e[n] = u[n] < p``.

    ``u`` is drawn for each sample from ``numpy.random.default_rng([seed, sample_index])`` as
    one ``(steps, n)`` array, so a sample's train depends only on the seed and its index.

    Parameters
    ----------
    seed
        Non-negative integer seed.
    """

    seed: int = 0
    kind = "poisson"

    def __post_init__(self) -> None:
        if not isinstance(self.seed, (int, np.integer)) or self.seed < 0:
            raise ValidationError(f"Poisson: seed must be a non-negative int, got {self.seed!r}")

    @property
    def is_spiking(self) -> bool:
        """Whether the encoder emits 0/1 spikes (else real amounts)."""
        return True

    def encode(self, p: np.ndarray, steps: int, start_index: int = 0) -> np.ndarray:
        """Trains of shape ``(batch, steps, n)`` (uint8); sample ``k`` is ``start_index + k``."""
        out = np.empty((p.shape[0], steps, p.shape[1]), dtype=np.uint8)
        for k in range(p.shape[0]):
            rng = np.random.default_rng([int(self.seed), start_index + k])
            out[k] = rng.random((steps, p.shape[1])) < p[k][None, :]
        return out


@dataclass(frozen=True, kw_only=True)
class ConstantCurrent:
    """Analog input: every step delivers ``p`` (the mean of a spike train) to the first layer."""

    kind = "current"

    @property
    def is_spiking(self) -> bool:
        """Whether the encoder emits 0/1 spikes (else real amounts)."""
        return False

    def encode(self, p: np.ndarray, steps: int, start_index: int = 0) -> np.ndarray:
        """Values of shape ``(batch, steps, n)`` (float64), ``p`` repeated every step."""
        return np.repeat(p[:, None, :], steps, axis=1)


Encoder = RegularRate | Poisson | ConstantCurrent
