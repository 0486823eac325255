"""Sweep grids: parameter names, parsing, and the points of a grid (numpy only).

A *grid* maps parameter names to lists of values; its points are the Cartesian product in the
order the names were given. Parameters fall into three groups:

* conversion (need a *raw* description, re-scaled by
  :func:`lif_bridge.convert.scale.convert_network` on the worker, so no torch is needed):
  ``bias_mode`` (``current``/``leak``/``none``), ``normalize`` (``none``/``max``/
  ``percentile``/``l4``), ``percentile`` (in (0, 100], used only with ``normalize=percentile``),
  ``max_rate`` (input rate [Hz] for ``x = 1``), ``layer_rate`` (rate [Hz] of a normalised
  activation 1 in hidden layers), ``reset`` (``subtract``/``zero``), ``g_l`` (leak [S] of the
  neuron template in bias modes ``current``/``none``);
* simulation: ``steps`` (int), ``dt`` [s], ``encoder`` (``regular``, ``current`` or
  ``poisson:SEED``);
* run: ``backend`` (a registered backend name).

A point is canonical: ``percentile`` is dropped where ``normalize`` is not ``percentile``
(duplicates are merged), and its identity (:func:`point_id`) is a hash of its sorted parameters.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from lif_bridge.errors import ValidationError
from lif_bridge.mapping import BIAS_MODES
from lif_bridge.network import ConstantCurrent, Poisson, RegularRate

__all__ = [
    "CONVERSION_KEYS",
    "PARAMETERS",
    "RAW_DEFAULTS",
    "encoder_from_name",
    "grid_points",
    "parse_grid",
    "point_id",
]

_NORMALIZE = ("none", "max", "percentile", "l4")
_RESETS = ("subtract", "zero")

#: Parameters that re-scale a raw description (conversion time).
CONVERSION_KEYS = ("bias_mode", "normalize", "percentile", "max_rate", "layer_rate", "reset", "g_l")

#: Conversion defaults for a raw description (those of :func:`lif_bridge.from_torch`).
RAW_DEFAULTS: dict[str, Any] = {
    "bias_mode": "current",
    "normalize": "percentile",
    "percentile": 99.9,
}


def _positive_float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"grid: {name}={text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise ValidationError(f"grid: {name}={text!r} must be a finite number > 0")
    return value


def _steps(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValidationError(f"grid: steps={text!r} is not an integer") from None
    if value < 1:
        raise ValidationError(f"grid: steps={text!r} must be >= 1")
    return value


def _percentile(text: str) -> float:
    value = _positive_float("percentile", text)
    if value > 100:
        raise ValidationError(f"grid: percentile={text!r} must lie in (0, 100]")
    return value


def _choice(name: str, choices: Sequence[str]) -> Any:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValidationError(f"grid: {name}={text!r}; choose one of {', '.join(choices)}")
        return text

    return parse


def _encoder(text: str) -> str:
    encoder_from_name(text)
    return text


def _g_l(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValidationError(f"grid: g_l={text!r} is not a number") from None
    if not 0 <= value < float("inf"):
        raise ValidationError(f"grid: g_l={text!r} must be a finite leak >= 0 S")
    return value


def _backend(text: str) -> str:
    if not text or not text.replace("_", "").replace("-", "").isalnum():
        raise ValidationError(f"grid: backend={text!r} is not a backend name")
    return text


#: Parameter name -> parser of one value given as text.
PARAMETERS: dict[str, Any] = {
    "steps": _steps,
    "dt": lambda t: _positive_float("dt", t),
    "encoder": _encoder,
    "backend": _backend,
    "bias_mode": _choice("bias_mode", BIAS_MODES),
    "normalize": _choice("normalize", _NORMALIZE),
    "percentile": _percentile,
    "max_rate": lambda t: _positive_float("max_rate", t),
    "layer_rate": lambda t: _positive_float("layer_rate", t),
    "reset": _choice("reset", _RESETS),
    "g_l": _g_l,
}


def encoder_from_name(name: str) -> RegularRate | Poisson | ConstantCurrent:
    """``regular`` -> :class:`RegularRate`, ``current`` -> :class:`ConstantCurrent`,
    ``poisson:SEED`` (``poisson`` = seed 0) -> :class:`Poisson`."""
    if name == "regular":
        return RegularRate()
    if name == "current":
        return ConstantCurrent()
    kind, _, seed = name.partition(":")
    if kind == "poisson" and (seed == "" or seed.isdigit()):
        return Poisson(seed=int(seed or 0))
    raise ValidationError(
        f"grid: encoder={name!r}; choose regular, current or poisson:SEED (e.g. poisson:0)"
    )


def parse_grid(items: Sequence[str]) -> dict[str, list[Any]]:
    """``["steps=32,100", "bias_mode=leak,current"]`` -> ``{"steps": [32, 100], ...}``."""
    grid: dict[str, list[Any]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip()
        if not sep or not values.strip():
            raise ValidationError(f"grid: {item!r} is not NAME=V1,V2,...")
        if name not in PARAMETERS:
            raise ValidationError(
                f"grid: unknown parameter {name!r}; known: {', '.join(sorted(PARAMETERS))}"
            )
        if name in grid:
            raise ValidationError(f"grid: parameter {name!r} given twice")
        grid[name] = [PARAMETERS[name](v.strip()) for v in values.split(",") if v.strip()]
    return grid


def _check_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, values in grid.items():
        if name not in PARAMETERS:
            raise ValidationError(
                f"grid: unknown parameter {name!r}; known: {', '.join(sorted(PARAMETERS))}"
            )
        vals = [values] if isinstance(values, (str, int, float)) else list(values)
        if not vals:
            raise ValidationError(f"grid: parameter {name!r} has no values")
        out[name] = [PARAMETERS[name](str(v)) for v in vals]
    return out


def grid_points(
    grid: Mapping[str, Sequence[Any]], *, raw: bool, defaults: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The canonical points of ``grid``, in grid order, duplicates merged.

    Parameters
    ----------
    grid
        Parameter name -> values (text or typed).
    raw
        Whether the description is raw (conversion parameters allowed and defaulted).
    defaults
        Values of parameters not in the grid (e.g. the file's steps); ``backend`` defaults to
        ``reference``.

    Raises
    ------
    ValidationError
        Unknown parameters or values, or conversion parameters for a converted network.
    """
    checked = _check_grid(grid)
    conv = [k for k in checked if k in CONVERSION_KEYS]
    if conv and not raw:
        raise ValidationError(
            f"grid: {', '.join(conv)} re-scale a raw description, but the network is already "
            "converted; give the raw description (e.g. zoo:NAME, or a file saved before "
            "convert_network)"
        )
    base: dict[str, Any] = {"backend": "reference", **dict(defaults or {})}
    if raw:
        base = {**RAW_DEFAULTS, **base}
    names = list(checked)
    points: list[dict[str, Any]] = []
    seen: set[str] = set()
    for combo in itertools.product(*(checked[n] for n in names)):
        point = {**base, **dict(zip(names, combo, strict=True))}
        if raw and point.get("normalize") != "percentile":
            point.pop("percentile", None)
        pid = point_id(point)
        if pid not in seen:
            seen.add(pid)
            points.append(point)
    return points


def point_id(point: Mapping[str, Any]) -> str:
    """A stable 16-hex-digit identity of a point (hash of its sorted parameters)."""
    text = json.dumps({k: point[k] for k in sorted(point)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
