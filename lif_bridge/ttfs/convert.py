r"""Conversion of a raw network (trained weights and biases) into a TTFS network.

The weights and biases are used as trained (BatchNorm folded by the tracer); what conversion
adds are the windows (:mod:`lif_bridge.ttfs.semantics`): for every population ``n`` but the
output, ``T_n = tau_c · B · max a_n`` with ``max a_n`` the largest ReLU activation of layer ``n``
over the calibration inputs (training data) and the safety factor ``B``. The input window is
``T_0 = tau_c`` (inputs in [0, 1]). A layer whose activations are all 0 on the calibration set
gets ``T_n = tau_c · B`` (any positive window codes its zeros).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lif_bridge.ann import iter_ann
from lif_bridge.convert.normalize import as_calibration_array
from lif_bridge.errors import ConversionError
from lif_bridge.network import Network
from lif_bridge.ttfs.coding import (
    TtfsCoding,
    check_no_delays,
    level_windows,
    population_depths,
)

__all__ = ["DEFAULT_SAFETY", "DEFAULT_TAU_C", "convert_ttfs"]

#: Safety factor ``B`` of the windows (the authors' code uses 1.5).
DEFAULT_SAFETY = 1.5
#: Time [s] per unit of activation.
DEFAULT_TAU_C = 1e-3


def _check_positive(value: float, what: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ConversionError(f"{what} must be a finite number > 0, got {value!r}")
    return v


def _max_activations(raw: Network, calib: np.ndarray, batch: int = 256) -> list[float]:
    peaks = np.zeros(len(raw.populations))
    for start in range(0, len(calib), batch):
        for k, step in enumerate(iter_ann(raw, calib[start : start + batch], max_rate=1.0)):
            peaks[k] = max(peaks[k], float(step.rates.max(initial=0.0)))
    return [float(p) for p in peaks]


def _check_budget(
    raw: Network,
    windows: dict[str, float],
    peaks: dict[str, float],
    scale: tuple[float, float],
    budget: float | None,
) -> None:
    """Refuse windows whose readout latency ``T_0 + T_1 + ... + T_{d-1}`` exceeds ``budget``.

    Levels by depth (a chain: one layer each); the overflowing level is named by its longest
    window's population.
    """
    if budget is None:
        return
    tau_c, safety = scale
    depths = population_depths(raw)
    levels = level_windows(raw, windows, tau_c)
    latency = tau_c
    for k in range(1, depths[-1]):
        latency += levels[k]
        if latency > budget * (1 + 1e-12):
            name = max(
                (p.name for p, d in zip(raw.populations[:-1], depths, strict=False) if d == k),
                key=lambda n: windows[n],
            )
            raise ConversionError(
                f"layer {name!r}: its window of {windows[name]:.4g} s (largest activation "
                f"{peaks[name]:.4g} x safety {safety:g} x tau_c {tau_c:g} s) brings the readout "
                f"latency to {latency:.4g} s, over the time budget of {budget:.4g} s; raise the "
                "budget or lower tau_c"
            )


def convert_ttfs(
    raw: Network,
    *,
    calibration: Any,
    safety: float = DEFAULT_SAFETY,
    tau_c: float = DEFAULT_TAU_C,
    time_budget: float | None = None,
    metadata: dict[str, Any] | None = None,
) -> Network:
    """A TTFS network from a raw network and calibration inputs.

    Parameters
    ----------
    raw
        Trained weights ``W_l`` and biases ``ann_bias = b_l`` (default neurons, ``rate_scale``
        1), as :func:`lif_bridge.from_torch` traces them or :func:`lif_bridge.zoo.raw`
        builds them.
    calibration
        Representative inputs in [0, 1] (training data): an array ``(samples, *input_shape)``
        or an iterable of arrays or ``(x, y)`` pairs. Required: the windows come from it.
    safety
        Safety factor ``B >= 1`` of the windows.
    tau_c
        Time [s] per unit of activation.
    time_budget
        Longest readout latency [s] allowed (``t_min`` of the output layer); ``None``: any.
    metadata
        Merged into the result's metadata.

    Raises
    ------
    ConversionError
        No calibration data, a hidden layer without ReLU, a projection with a delay, a bad
        option, or windows that do not fit in ``time_budget`` (the layer that overflows it
        named).
    """
    if calibration is None:
        raise ConversionError(
            "TTFS coding needs calibration data to size its time windows: give calibration= "
            "(CLI: --calibrate-on mnist|digits|FILE.npz)"
        )
    safety = _check_positive(safety, "safety")
    if safety < 1:
        raise ConversionError(
            f"safety must be >= 1 (windows at least as long as the largest calibration "
            f"activation), got {safety!r}"
        )
    tau_c = _check_positive(tau_c, "tau_c (s)")
    budget = None if time_budget is None else _check_positive(time_budget, "time_budget (s)")
    check_no_delays(raw, ConversionError)
    pops = raw.populations
    for pop in pops[:-1]:
        if pop.ann_activation != "relu":
            raise ConversionError(
                f"layer {pop.name!r} is a hidden layer without ReLU ({pop.ann_activation}); "
                "TTFS codes only non-negative values, so every layer but the output must end in "
                "a ReLU"
            )
    calib = as_calibration_array(calibration, raw.input_shape)
    peaks = _max_activations(raw, calib)
    windows = {
        pop.name: tau_c * safety * (peak if peak > 0 else 1.0)
        for pop, peak in zip(pops[:-1], peaks, strict=False)
    }
    named_peaks = {p.name: a for p, a in zip(pops, peaks, strict=True)}
    _check_budget(raw, windows, named_peaks, (tau_c, safety), budget)
    coding = TtfsCoding(
        tau_c=tau_c,
        input_window=tau_c,
        windows=windows,
        safety=safety,
        max_activation=named_peaks,
        calibration_samples=len(calib),
    )
    meta = dict(raw.metadata)
    meta.update(metadata or {})
    meta["coding"] = "ttfs"
    meta["ttfs"] = coding.to_dict()
    meta.setdefault("conversion", {})
    meta["conversion"] = {**dict(meta["conversion"]), "coding": "ttfs", "time_budget": budget}
    return Network(
        input_shape=raw.input_shape,
        layers=raw.layers,
        nodes=raw.nodes,
        max_rate=None,
        metadata=meta,
    )
