"""The TTFS parameters of a network: time unit and windows, kept in the network's metadata.

A TTFS network is an ordinary :class:`~lif_bridge.Network` (the same description, file format
and ANN view as rate coding) holding the trained (BatchNorm-folded) weights and biases, with
``metadata["coding"] = "ttfs"`` and ``metadata["ttfs"]`` = :meth:`TtfsCoding.to_dict`. The
thresholds follow from the biases and the windows (:mod:`lif_bridge.ttfs.semantics`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.ann import ann_bias
from lif_bridge.errors import ValidationError
from lif_bridge.network import Network, Population
from lif_bridge.ttfs.semantics import thresholds, window_bounds

__all__ = ["TtfsCoding", "TtfsLayer", "is_ttfs", "layer_plan", "ttfs_coding"]


def _positive(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = math.nan
    if not math.isfinite(v) or v <= 0:
        raise ValidationError(f"TtfsCoding: {what} must be a finite number > 0, got {value!r}")
    return v


@dataclass(frozen=True, kw_only=True)
class TtfsCoding:
    """Time unit and windows of a TTFS network.

    Parameters
    ----------
    tau_c
        Time [s] that codes one unit of activation (``x = (t_max - t) / tau_c``).
    input_window
        Length ``T_0`` [s] of the input window (``tau_c``: inputs in [0, 1]).
    windows
        Layer name -> window length ``T_n`` [s], for every population but the output.
    safety
        Safety factor ``B`` the windows were computed with (``T_n = tau_c · B · max a_n``).
    max_activation
        Layer name -> largest activation seen on the calibration data.
    calibration_samples
        Number of calibration inputs.
    """

    tau_c: float
    input_window: float
    windows: Mapping[str, float]
    safety: float = 1.5
    max_activation: Mapping[str, float] = field(default_factory=dict)
    calibration_samples: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "tau_c", _positive(self.tau_c, "tau_c (s)"))
        object.__setattr__(self, "input_window", _positive(self.input_window, "input_window"))
        object.__setattr__(self, "safety", _positive(self.safety, "safety"))
        windows = {
            str(k): _positive(v, f"window of layer {k!r} (s)")
            for k, v in dict(self.windows).items()
        }
        object.__setattr__(self, "windows", windows)
        object.__setattr__(
            self, "max_activation", {str(k): float(v) for k, v in dict(self.max_activation).items()}
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``metadata["ttfs"]``)."""
        return {
            "tau_c": self.tau_c,
            "input_window": self.input_window,
            "windows": dict(self.windows),
            "safety": self.safety,
            "max_activation": dict(self.max_activation),
            "calibration_samples": self.calibration_samples,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> TtfsCoding:
        """Inverse of :meth:`to_dict`."""
        try:
            return cls(
                tau_c=doc["tau_c"],
                input_window=doc["input_window"],
                windows=doc["windows"],
                safety=doc.get("safety", 1.5),
                max_activation=doc.get("max_activation", {}),
                calibration_samples=int(doc.get("calibration_samples", 0)),
            )
        except KeyError as exc:
            raise ValidationError(
                f"TTFS metadata lacks {exc.args[0]!r}; convert the network again with coding ttfs"
            ) from exc


def is_ttfs(network: Network) -> bool:
    """Whether ``network`` was converted for TTFS coding."""
    return network.metadata.get("coding") == "ttfs"


def ttfs_coding(network: Network) -> TtfsCoding:
    """The :class:`TtfsCoding` of a TTFS network, checked against its populations."""
    if not is_ttfs(network):
        raise ValidationError(
            "the network is not TTFS-coded (metadata coding != 'ttfs'); convert it with "
            "--coding ttfs (from_torch(..., coding='ttfs'))"
        )
    coding = TtfsCoding.from_dict(network.metadata.get("ttfs", {}))
    hidden = [p.name for p in network.populations[:-1]]
    missing = [n for n in hidden if n not in coding.windows]
    if missing:
        raise ValidationError(f"TTFS metadata has no window for layers {missing}")
    return coding


@dataclass(frozen=True)
class TtfsLayer:
    """One population with its window and thresholds (what a backend lowers).

    Attributes
    ----------
    population
        The population (weights, stages, shapes).
    t_min, t_max
        Its window [s] (for the output: ``t_min`` is the readout time, ``t_max = t_min``).
    bias
        ``D_i``, one per neuron.
    theta
        Thresholds ``T_n / tau_c - D_i`` [V] (the output layer: ``nan``, it is not thresholded).
    is_output
        Whether this is the readout population.
    """

    population: Population
    t_min: float
    t_max: float
    bias: np.ndarray
    theta: np.ndarray
    is_output: bool


def layer_plan(network: Network, dt: float | None = None) -> tuple[float, list[TtfsLayer]]:
    """The input window end and each population's window and thresholds (rounded to ``dt``).

    Windows are laid end to end along the chain (each population's source is the previous
    one); returns ``(t_max(0), layers)``.
    """
    coding = ttfs_coding(network)
    pops = network.populations
    joins = [p.name for p in pops if len(p.projections) > 1]
    if joins:
        raise ValidationError(
            f"TTFS runs chains only; this network is a graph (populations with several "
            f"projections: {', '.join(joins) or 'none'}): residual adds and concatenation are "
            "specified (lif_bridge.ttfs.semantics, 'Graph networks') but not implemented on "
            "any TTFS backend yet; use coding='rate' for graphs"
        )
    for k, pop in enumerate(pops):
        if pop.source != k - 1:
            raise ValidationError(
                f"layer {pop.name!r}: TTFS windows are defined for chains only (its source is "
                f"population {pop.source}, not the previous one)"
            )
    lengths = [coding.input_window, *(coding.windows[p.name] for p in pops[:-1])]
    starts, lens = window_bounds(np.array(lengths), dt)
    plan = []
    for k, pop in enumerate(pops):
        t_min = float(starts[k] + lens[k])  # the source window's end
        out = k == len(pops) - 1
        bias = np.asarray(ann_bias(pop), dtype=np.float64)
        if out:
            plan.append(TtfsLayer(pop, t_min, t_min, bias, np.full(pop.size, np.nan), True))
        else:
            t_len = float(lens[k + 1])
            plan.append(
                TtfsLayer(
                    pop, t_min, t_min + t_len, bias, thresholds(t_len, coding.tau_c, bias), False
                )
            )
    return float(starts[0] + lens[0]), plan
