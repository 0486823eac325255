"""The figures of FC (Fig. 12A/B, 13A–C) from the results of :mod:`lif_bridge.experiments.fc`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.experiments import plots

__all__ = ["figures"]

#: A sweep: reset ("subtract", "zero") -> one summary dict per point.
Sweep = dict[str, list[dict[str, float]]]


def figures(
    out: Path,
    main: dict[str, Any],
    direct: dict[str, Any],
    sweep_rate: Sweep,
    sweep_leak: Sweep,
    rates: list[float],
    leaks: list[float],
    leak_rate: float,
) -> list[str]:
    """Write Fig. 12A/B (correlations), 13A (confusion), 13B/C (the sweeps); their file names.

    ``main`` and ``direct`` are the runs of :func:`lif_bridge.experiments.fc.run` (normalised
    net, weights as trained); the sweeps map reset -> one summary per point of ``rates`` /
    ``leaks``.
    """
    _figure_correlations(out, main, direct)
    plots.plot_confusion(
        out / "fc_confusion.png",
        main["confusion"],
        title=f"FC (cf. Fig. 13A): SNN vs ANN labels, agreement {main['agreement']:.4f}",
        xlabel="SNN label",
        ylabel="ANN label",
    )
    _figure_sweep(
        out / "fc_coding_range.png",
        rates,
        sweep_rate,
        xlabel="coding range f_max [Hz] (input x ∈ [0, 1] → x·f_max)",
        title="FC (cf. Fig. 13B): accuracy vs coding range, weights as trained, g_l = 0",
        logx=True,
    )
    _figure_sweep(
        out / "fc_leak.png",
        leaks,
        sweep_leak,
        xlabel="leak conductance g_l [S]",
        title=f"FC (cf. Fig. 13C): accuracy vs g_l, weights as trained, f_max = {leak_rate:g} Hz",
    )
    return [
        "fc_hidden_correlation.png",
        "fc_correlation_matrix.png",
        "fc_confusion.png",
        "fc_coding_range.png",
        "fc_leak.png",
    ]


def _figure_correlations(out: Path, main: dict[str, Any], direct: dict[str, Any]) -> None:
    c20 = main["corr20"].values
    d20 = direct["corr20"].values
    idx = np.arange(1, len(c20) + 1)
    plots.plot_curves(
        out / "fc_hidden_correlation.png",
        [
            {
                "x": idx,
                "y": c20,
                "label": f"normalised (mean {np.nanmean(c20):.3f})",
                "fmt": "o-",
                "kw": {"color": "C2"},
            },
            {
                "x": idx,
                "y": d20,
                "label": f"direct weights (mean {np.nanmean(d20):.3f})",
                "fmt": "s-",
                "kw": {"color": "C1"},
            },
            {"x": idx, "y": np.full(len(idx), 0.94), "label": "paper mean 0.94", "fmt": "k:"},
        ],
        xlabel="test sample",
        ylabel="Pearson ρ (600 hidden neurons)",
        title="FC (cf. Fig. 12A): hidden layer, SNN rates vs ANN, per sample",
    )
    ann20, snn20 = main["ann"]["fc1"][:20], main["result"].rates("fc1")[:20]
    k = len(ann20)
    plots.plot_matrix(
        out / "fc_correlation_matrix.png",
        np.corrcoef(np.vstack([ann20, snn20])),
        title=f"FC (cf. Fig. 12B): ρ between {k} samples, ANN (first {k}) then SNN",
        label="Pearson ρ",
        split=k,
    )


def _figure_sweep(
    path: Path,
    xs: list[float],
    sweep: Sweep,
    *,
    xlabel: str,
    title: str,
    logx: bool = False,
) -> None:
    """Accuracy of both resets and of the ANN along one sweep."""
    lines = [
        ("Linear LIF", "subtract", "acc_snn", "o-"),
        ("reset-to-zero LIF", "zero", "acc_snn", "s-"),
    ]
    curves: list[dict[str, Any]] = [
        {"x": xs, "y": [p[key] for p in sweep[reset]], "label": label, "fmt": fmt}
        for label, reset, key, fmt in lines
    ]
    for curve, color in zip(curves, ("C2", "C3"), strict=True):
        curve["kw"] = {"color": color}
    curves.append(
        {"x": xs, "y": [p["acc_ann"] for p in sweep["subtract"]], "label": "ANN", "fmt": "k--"}
    )
    plots.plot_curves(
        path,
        curves,
        xlabel=xlabel,
        ylabel="accuracy",
        title=title,
        logx=logx,
    )
