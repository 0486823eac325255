"""Neuron populations: Linear LIF, reset-to-zero LIF and IF neurons with their parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import ValidationError
from lif_bridge.network._validate import as_param, fields_equal

__all__ = ["Neurons", "ResetMode"]

ResetMode = Literal["subtract", "zero"]

_ARRAY_FIELDS = ("c_m", "g_l", "v_th", "v_reset", "v_rest", "i_bias")


@dataclass(frozen=True, kw_only=True, eq=False)
class Neurons:
    r"""Parameters of one population of leaky integrate-and-fire neurons.

    The membrane obeys (Lu & Xu 2022, Eq. 1)

    .. math::

        C_m \frac{dv}{dt} = -g_l (v - v_{rest}) + I_{bias} + \sum_i w_i \sum_k \delta(t - t_i^k)

    so an input spike through weight :math:`w_i` makes ``v`` jump by :math:`w_i / C_m`. When
    ``v >= v_th`` the neuron emits a spike and is reset:

    * ``reset="subtract"``: ``v <- v - v_th`` (the paper's *Linear LIF*, reset by subtraction);
    * ``reset="zero"``: ``v <- v_reset`` (the usual reset-to-zero LIF, Diehl & Cook).

    ``g_l = 0`` gives the non-leaky integrate-and-fire (IF) neuron. The discrete-time rule every
    backend follows is in :mod:`lif_bridge.semantics`.

    Every array field is a scalar (one value for the population) or a 1-D array with one value
    per neuron. Values are SI numbers; the paper's dimensionless parameters read as SI
    (``C_m = 1`` means 1 F).

    Parameters
    ----------
    c_m
        Membrane capacitance :math:`C_m` [F], > 0.
    g_l
        Leak conductance :math:`g_l` [S], >= 0 (:math:`\tau_m = C_m / g_l`).
    v_th
        Firing threshold :math:`V_{th}` [V], > ``v_reset`` and > 0.
    v_reset
        Reset potential [V] of ``reset="zero"``.
    v_rest
        Resting (leak reversal) potential [V]; also the initial potential.
    reset
        ``"subtract"`` or ``"zero"``.
    i_bias
        Constant bias current :math:`I_{bias}` [A], any sign.
    refractory
        Refractory period [s], >= 0 (rounded to whole steps, see :mod:`lif_bridge.semantics`).
    """

    c_m: ArrayLike = 1.0
    g_l: ArrayLike = 0.0
    v_th: ArrayLike = 1.0
    v_reset: ArrayLike = 0.0
    v_rest: ArrayLike = 0.0
    reset: ResetMode = "subtract"
    i_bias: ArrayLike = 0.0
    refractory: float = 0.0

    def __post_init__(self) -> None:
        where = "Neurons"
        for name in _ARRAY_FIELDS:
            object.__setattr__(self, name, as_param(getattr(self, name), what=name, where=where))
        arrays = {name: getattr(self, name) for name in _ARRAY_FIELDS}
        sizes = {a.size for a in arrays.values() if a.ndim == 1}
        if len(sizes) > 1:
            raise ValidationError(
                f"{where}: per-neuron parameters have different lengths {sorted(sizes)}; "
                "give every per-neuron array one value per neuron"
            )
        if self.reset not in ("subtract", "zero"):
            raise ValidationError(
                f"{where}: reset must be 'subtract' (Linear LIF) or 'zero', got {self.reset!r}"
            )
        if np.any(arrays["c_m"] <= 0):
            raise ValidationError(f"{where}: c_m (membrane capacitance, F) must be > 0")
        if np.any(arrays["g_l"] < 0):
            raise ValidationError(f"{where}: g_l (leak conductance, S) must be >= 0")
        if np.any(arrays["v_th"] <= 0):
            raise ValidationError(f"{where}: v_th (threshold, V) must be > 0")
        if np.any(arrays["v_th"] <= arrays["v_reset"]):
            raise ValidationError(f"{where}: v_th must be above v_reset")
        refractory = float(self.refractory)
        if not np.isfinite(refractory) or refractory < 0:
            raise ValidationError(f"{where}: refractory (s) must be finite and >= 0")
        object.__setattr__(self, "refractory", refractory)

    def __eq__(self, other: object) -> bool:
        return fields_equal(self, other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def size(self) -> int | None:
        """Number of neurons fixed by per-neuron arrays, or ``None`` if all are scalars."""
        for name in _ARRAY_FIELDS:
            arr = getattr(self, name)
            if arr.ndim == 1:
                return int(arr.size)
        return None

    @property
    def kind(self) -> str:
        """``"linear_lif"``, ``"lif"`` (reset to zero) or ``"if"`` (no leak anywhere)."""
        if np.all(np.asarray(self.g_l) == 0):
            return "if"
        return "linear_lif" if self.reset == "subtract" else "lif"

    def broadcast(self, n: int) -> dict[str, np.ndarray]:
        """Every array field as a float64 array of length ``n`` (a fresh, writable copy)."""
        return {name: np.broadcast_to(getattr(self, name), (n,)).copy() for name in _ARRAY_FIELDS}

    def replace(self, **changes: object) -> Neurons:
        """A copy with some fields changed (validated again)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values.update(changes)
        return Neurons(**values)  # type: ignore[arg-type]
