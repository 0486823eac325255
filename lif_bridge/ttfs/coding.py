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
from lif_bridge.network import Identity, Network, Population
from lif_bridge.ttfs.semantics import thresholds, window_bounds

__all__ = [
    "TtfsCoding",
    "TtfsLayer",
    "check_no_delays",
    "graph_plan",
    "is_ttfs",
    "layer_plan",
    "level_windows",
    "population_depths",
    "ttfs_coding",
]


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


def check_no_delays(network: Network, error: type[Exception] = ValidationError) -> None:
    """Refuse a projection with a ``delay``: TTFS re-times shortcuts by depth instead.

    A delay counts steps of the rate-coding clock (e.g. ``random_graph(..., align_delays=True)``
    aligning a shortcut's latency); TTFS has no such clock and would silently ignore it.

    Raises
    ------
    ValidationError (or ``error``)
        Naming the first delayed projection and the fix.
    """
    for pop in network.populations:
        for k, edge in enumerate(pop.projections):
            if edge.delay:
                raise error(
                    f"population {pop.name!r}, projection {k} (from {edge.source_name!r}) has "
                    f"delay {edge.delay} steps; TTFS coding times shortcuts by depth and takes no "
                    "projection delays: set delay=0 (random_graph(..., align_delays=False))"
                )


def population_depths(network: Network) -> list[int]:
    """Depth ``d(n)`` of every population: one more than its deepest source (the input: 0).

    A chain's population ``n`` (0-based) has depth ``n + 1``; see the "Graph networks" section
    of :mod:`lif_bridge.ttfs.semantics`.
    """
    depths: list[int] = []
    for pop in network.populations:
        depths.append(1 + max(0 if s < 0 else depths[s] for s in pop.sources))
    return depths


def level_windows(
    network: Network, windows: Mapping[str, float], input_window: float
) -> list[float]:
    """Window length ``T_k`` [s] of every level ``k`` a population codes in or reads from.

    ``T_0`` is the input window, ``T_k = max_{d(n)=k} T_n`` over the hidden populations of depth
    ``k`` (a chain: its windows in order); the output (depth ``d``) reads levels ``< d``.
    """
    depths = population_depths(network)
    hidden = network.populations[:-1]
    n_levels = max([depths[-1], *(1 + d for d in depths[:-1])])
    levels = [float(input_window)] + [0.0] * (n_levels - 1)
    for pop, d in zip(hidden, depths, strict=False):
        levels[d] = max(levels[d], float(windows[pop.name]))
    return levels


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
        Thresholds ``T_k / tau_c - D_i`` [V] (the output layer: ``nan``, it is not thresholded).
    is_output
        Whether this is the readout population.
    depth
        Its depth ``k`` (it codes in the window of level ``k``).
    source_ends
        ``t_max`` [s] of each projection's source window, in projection order; a projection's
        spikes are re-timed by ``t_min - source_end`` (0 unless it is a shortcut).
    """

    population: Population
    t_min: float
    t_max: float
    bias: np.ndarray
    theta: np.ndarray
    is_output: bool
    depth: int = 0
    source_ends: tuple[float, ...] = ()


def graph_plan(network: Network, dt: float | None = None) -> tuple[float, list[TtfsLayer]]:
    """Windows by depth and thresholds of every population (rounded to ``dt``), chain or graph.

    Level ``k`` has length ``T_k`` (:func:`level_windows`, rounded up to ``dt``) and the levels are
    laid end to end; a population of depth ``k`` codes in ``[t_max(k-1), t_max(k)]`` with
    thresholds ``T_k / tau_c - D``. Returns ``(t_max(0), layers)``. A projection with a delay
    (steps of the rate-coding clock) is refused (:func:`check_no_delays`): TTFS re-times
    shortcuts by depth instead.
    """
    coding = ttfs_coding(network)
    check_no_delays(network)
    pops = network.populations
    depths = population_depths(network)
    starts, lens = window_bounds(
        np.array(level_windows(network, coding.windows, coding.input_window)), dt
    )
    ends = [float(starts[k] + lens[k]) for k in range(len(lens))]
    plan = []
    for k, (pop, depth) in enumerate(zip(pops, depths, strict=True)):
        t_min = ends[depth - 1]  # the previous level's end
        source_ends = tuple(ends[0 if s < 0 else depths[s]] for s in pop.sources)
        bias = np.asarray(ann_bias(pop), dtype=np.float64)
        if k == len(pops) - 1:
            theta = np.full(pop.size, np.nan)
            plan.append(TtfsLayer(pop, t_min, t_min, bias, theta, True, depth, source_ends))
        else:
            t_len = float(lens[depth])
            theta = thresholds(t_len, coding.tau_c, bias)
            plan.append(
                TtfsLayer(pop, t_min, t_min + t_len, bias, theta, False, depth, source_ends)
            )
    return ends[0], plan


def layer_plan(
    network: Network,
    dt: float | None = None,
    *,
    backend: str = "this TTFS backend",
    fix: str = "run graphs on a TTFS backend whose lowering takes graphs",
) -> tuple[float, list[TtfsLayer]]:
    """:func:`graph_plan` of a chain, for backends that run chains only (each population's
    single source is the previous one); returns ``(t_max(0), layers)``.

    Raises
    ------
    ValidationError
        The network is a graph (``backend`` names who refuses it, ``fix`` what to do: the
        core names no backend, a backend may name another).
    """
    pops = network.populations
    joins = [p.name for p in pops if len(p.projections) > 1]
    skips = [
        p.name
        for k, p in enumerate(pops)
        if len(p.projections) == 1
        and (p.sources[0] != k - 1 or isinstance(p.projections[0].map, Identity))
    ]
    if joins or skips:
        raise ValidationError(
            f"{backend} runs TTFS chains only; this network is a graph (populations with "
            f"several projections: {', '.join(joins) or 'none'}; not fed by the previous "
            f"population alone: {', '.join(skips) or 'none'}); {fix}"
        )
    return graph_plan(network, dt)
