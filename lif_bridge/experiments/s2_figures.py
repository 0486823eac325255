"""The figures of S2 (Fig. 8A–C, Fig. 9) from the results of :mod:`lif_bridge.experiments.s2`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lif_bridge.experiments import plots

if TYPE_CHECKING:
    from lif_bridge.experiments.s2 import Case, Settings

__all__ = ["plot_parameter_sweeps", "plot_scatters", "plot_transfer"]


def plot_transfer(
    out: Path, s: Settings, b: float, ray: Case, clock_out: dict[str, np.ndarray]
) -> None:
    """Fig. 8A: output rate along the ray, exact and clock-driven, and the error to ReLU."""
    from lif_bridge.experiments.s2 import RATIO

    f, clock_f, relu_ray, ray_out = s.f, s.clock_f, ray.relu, ray.out
    plots.plot_curves(
        out / "s2_transfer.png",
        [
            {"x": f, "y": relu_ray, "label": f"ReLU, b = {b:.3f}", "fmt": "k--"},
            {
                "x": f,
                "y": ray_out["subtract"],
                "label": "Linear LIF (exact)",
                "kw": {"color": "C2"},
            },
            {
                "x": f,
                "y": ray_out["zero"],
                "label": "reset-to-zero LIF (exact)",
                "kw": {"color": "C3"},
            },
            {
                "x": clock_f,
                "y": clock_out["subtract"],
                "label": "Linear LIF, clock dt = 0.1 ms",
                "fmt": "o",
                "kw": {"color": "C2", "ms": 4, "mfc": "none"},
            },
            {
                "x": clock_f,
                "y": clock_out["zero"],
                "label": "reset-to-zero, clock dt = 0.1 ms",
                "fmt": "s",
                "kw": {"color": "C3", "ms": 4, "mfc": "none"},
            },
        ],
        lower=[
            {
                "x": f,
                "y": ray_out["subtract"] - relu_ray,
                "label": "Linear LIF − ReLU",
                "kw": {"color": "C2"},
            },
            {
                "x": f,
                "y": ray_out["zero"] - relu_ray,
                "label": "reset-to-zero − ReLU",
                "kw": {"color": "C3"},
            },
        ],
        xlabel=f"rate f of input 1 [Hz] (input 2 at {RATIO}·f)",
        ylabel="output rate [Hz]",
        lower_ylabel="error [Hz]",
        title="S2 (cf. Fig. 8A): two inputs at different rates",
    )


def plot_parameter_sweeps(out: Path, s: Settings, sweeps: dict[str, Any]) -> None:
    """Fig. 8B (leak ↔ bias: the onset) and Fig. 8C (capacitance ↔ slope)."""
    from lif_bridge.experiments.s2 import RATIO

    plots.plot_curves(
        out / "s2_leak_onset.png",
        [
            {
                "x": s.g_sweep,
                "y": sweeps["relu_onset"],
                "label": "ReLU zero crossing (mapped b)",
                "fmt": "k--",
            },
            {
                "x": s.g_sweep,
                "y": sweeps["onset_g"],
                "label": "Linear LIF onset (measured)",
                "fmt": "o",
                "kw": {"color": "C2"},
            },
        ],
        xlabel="leak conductance g_l [S]",
        ylabel=f"onset: rate of input 1 [Hz] (input 2 at {RATIO}·f)",
        title="S2 (cf. Fig. 8B): leak ↔ bias with different input rates",
    )
    plots.plot_slopes(
        out / "s2_capacitance_slope.png",
        s.c_sweep,
        sweeps["k_theory"],
        sweeps["k_c"],
        theory_label="k = 1/(V_th·C_m)",
        measured="",
        ylabel="slope k (measured along the ray)",
        title="S2 (cf. Fig. 8C): capacitance ↔ slope with different input rates",
    )


def plot_scatters(out: Path, pairs: Case, three: Case) -> None:
    """Random input pairs and Fig. 9's three inputs: LIF output against ReLU."""
    from lif_bridge.experiments.s2 import THREE_INPUT_WEIGHTS

    plots.plot_scatter(
        out / "s2_random_pairs.png",
        pairs.relu,
        [
            {"y": pairs.out["subtract"], "label": "Linear LIF", "fmt": "o"},
            {"y": pairs.out["zero"], "label": "reset-to-zero LIF", "fmt": "s"},
        ],
        xlabel="ReLU output [Hz]",
        ylabel="LIF output rate [Hz] (exact)",
        title="S2: random pairs of input rates in [1, 60] Hz",
    )
    plots.plot_scatter(
        out / "s2_three_inputs.png",
        three.relu,
        [
            {"y": three.out["subtract"], "label": "Linear LIF", "fmt": "o"},
            {"y": three.out["zero"], "label": "reset-to-zero LIF", "fmt": "s"},
        ],
        xlabel="ReLU output [Hz]",
        ylabel="LIF output rate [Hz] (exact)",
        title=f"S2 (cf. Fig. 9): three inputs, w = {list(THREE_INPUT_WEIGHTS)}",
    )
