"""Small validation helpers shared by the description's dataclasses (internal)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import ValidationError


def _refuse_complex(value: ArrayLike, what: str, where: str) -> None:
    """Complex numbers would be cast to their real part silently (numpy warns only)."""
    if np.iscomplexobj(value) or isinstance(value, complex):
        raise ValidationError(
            f"{where}: {what} holds complex numbers; give real values (a spiking network has "
            "real weights and parameters)"
        )


def as_param(value: ArrayLike, *, what: str, where: str) -> np.ndarray:
    """A finite float64 scalar or 1-D array, made read-only."""
    _refuse_complex(value, what, where)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"{where}: {what} must be a number or a 1-D array of numbers"
        ) from exc
    if arr.ndim > 1:
        raise ValidationError(
            f"{where}: {what} must be a scalar (per layer) or a 1-D array (per neuron), "
            f"got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValidationError(
            f"{where}: {what} contains NaN or infinite values; give finite values"
        )
    arr.setflags(write=False)
    return arr


def as_weight(value: ArrayLike, *, ndim: int, what: str, where: str) -> np.ndarray:
    """A finite float64 array of exactly ``ndim`` dimensions, made read-only."""
    _refuse_complex(value, what, where)
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{where}: {what} must be a numeric array") from exc
    if arr.ndim != ndim:
        raise ValidationError(f"{where}: {what} must have {ndim} dimensions, got shape {arr.shape}")
    if arr.size == 0:
        raise ValidationError(f"{where}: {what} is empty")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValidationError(
            f"{where}: {what} contains {bad} NaN or infinite values; "
            "check the trained model (a diverged training run?)"
        )
    arr.setflags(write=False)
    return arr


def as_pair(value: Any, *, what: str, where: str, minimum: int) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum``, as a pair."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair: tuple[Any, ...] = (value, value)
    elif isinstance(value, (tuple, list)):
        pair = tuple(value)
    else:
        pair = ()
    if len(pair) != 2 or not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair
    ):
        raise ValidationError(f"{where}: {what} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValidationError(f"{where}: {what} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def fields_equal(a: Any, b: Any) -> bool:
    """Field-by-field equality of two dataclasses, comparing arrays exactly."""
    if type(a) is not type(b):
        return False
    for name in a.__dataclass_fields__:
        x, y = getattr(a, name), getattr(b, name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            if x is None or y is None:
                return False
            if np.shape(x) != np.shape(y) or not np.array_equal(x, y):
                return False
        elif isinstance(x, tuple) and isinstance(y, tuple):
            if len(x) != len(y) or not all(
                fields_equal(p, q) if hasattr(p, "__dataclass_fields__") else p == q
                for p, q in zip(x, y, strict=False)
            ):
                return False
        elif hasattr(x, "__dataclass_fields__"):
            if not fields_equal(x, y):
                return False
        elif x != y:
            return False
    return True
