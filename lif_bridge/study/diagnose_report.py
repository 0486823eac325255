"""``report.md``, figures and ``diagnosis.json`` of :func:`lif_bridge.study.diagnose.diagnose`."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.plots import new_figure, save_figure
from lif_bridge.study.store import atomic_write, jsonable

__all__ = ["write_diagnosis"]


def _plot_curve(d: Mapping[str, Any], path: Path) -> Path:
    fig, ax = new_figure(figsize=(6.6, 4.6))
    t = np.array([c["steps"] for c in d["curve"]])
    ax.plot(t, [100 * c["agreement"] for c in d["curve"]], "o-", label="agreement (measured)")
    if d["curve"][0]["snn_accuracy"] is not None:
        ax.plot(t, [100 * c["snn_accuracy"] for c in d["curve"]], "s-", label="SNN accuracy")
        ax.axhline(
            100 * d["curve"][0]["ann_accuracy"], color="k", ls="--", lw=0.8, label="ANN accuracy"
        )
    grid = np.geomspace(max(1, t.min()), max(t.max(), *(c["steps"] for c in d["checks"]), 2), 60)
    ax.plot(grid, 100 * (1 - 1 / grid), "k:", lw=0.9, label="1 − 1/T (one-spike resolution)")
    ax.axhline(100 * d["target_agreement"], color="tab:red", lw=0.8, label="target")
    if d["checks"]:
        ax.plot(
            [c["steps"] for c in d["checks"]],
            [100 * c["agreement"] for c in d["checks"]],
            "r*",
            ms=11,
            label="suggested T, run",
        )
        ax.plot(
            [c["steps"] for c in d["checks"]],
            [100 * c["predicted"] for c in d["checks"]],
            "rx",
            ms=8,
            label="margin model prediction",
        )
    ax.set_xscale("log")
    ax.set_xlabel(f"window T [steps of {d['dt']:g} s]")
    ax.set_ylabel("[%]")
    ax.set_title(
        f"agreement and accuracy vs T ({d['samples']} samples, {d['encoder']} coding)", fontsize=10
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, path)


def _plot_layers(d: Mapping[str, Any], path: Path) -> Path:
    layers = d["layers"]
    names = [lay["layer"] for lay in layers]
    fig, axes = new_figure(2, 3, figsize=(12, 6.4))
    panels = [
        ("correlation_mean", "mean correlation ρ (Eq. 16)", 1.0),
        ("rate_error_mean_hz", "mean |r_SNN − r_ANN| [Hz]", 1.0),
        ("saturated", "saturated entries [%]", 100.0),
        ("silent_neurons", "silent neurons [count]", 1.0),
        ("spikes_per_neuron", "spikes per neuron and sample", 1.0),
        ("synops_per_sample", "SynOps into layer per sample", 1.0),
    ]
    for ax, (key, label, scale) in zip(np.ravel(axes), panels, strict=True):
        vals = [scale * (lay[key] or 0.0) for lay in layers]
        ax.bar(names, vals, color="tab:blue", label=label)
        if key == "rate_error_mean_hz":
            ax.axhline(layers[0]["bound_hz"], color="k", ls=":", label="1/T bound")
        ax.set_ylabel(label, fontsize=8)
        ax.set_xlabel("layer")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=7)
    fig.suptitle(f"per-layer figures at T = {d['detail_steps']} steps", fontsize=10)
    return save_figure(fig, path)


def write_diagnosis(d: Mapping[str, Any], folder: str | os.PathLike[str], title: str) -> Path:
    """Write ``report.md``, ``agreement_vs_T.png``, ``layers.png`` and ``diagnosis.json``."""
    folder = Path(folder)
    atomic_write(folder / "diagnosis.json", json.dumps(jsonable(d), indent=1) + "\n")
    figs = [_plot_curve(d, folder / "agreement_vs_T.png"), _plot_layers(d, folder / "layers.png")]
    pct = lambda v: "—" if v is None else f"{100 * v:.2f}"  # noqa: E731
    lines = [
        f"# Diagnosis: {title}",
        "",
        f"{d['samples']} samples, {d['encoder']} coding, input rate {d['max_rate_hz']:g} Hz, "
        f"dt = {d['dt']:g} s.",
        "",
        "## Agreement and accuracy vs T",
        "",
        "| T [steps] | agreement % | ties | ANN acc % | SNN acc % | spikes/neuron | 1/T % |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in d["curve"]:
        lines.append(
            f"| {c['steps']} | {pct(c['agreement'])} | {c['ties']} | {pct(c['ann_accuracy'])} | "
            f"{pct(c['snn_accuracy'])} | {c['spikes_per_neuron']:.3f} | {100 / c['steps']:.2f} |"
        )
    lines += [
        "",
        f"## Layers at T = {d['detail_steps']} steps",
        "",
        "| layer | neurons | ρ mean | ρ min | rate err [Hz] (bound) | ANN > 1/dt % | "
        "saturated % | silent (ANN-active) | spikes/neuron | SynOps/sample |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lay in d["layers"]:
        rho = "—" if lay["correlation_mean"] is None else f"{lay['correlation_mean']:.4f}"
        rmin = "—" if lay["correlation_min"] is None else f"{lay['correlation_min']:.4f}"
        lines.append(
            f"| {lay['layer']} | {lay['neurons']} | {rho} | {rmin} | "
            f"{lay['rate_error_mean_hz']:.3f} ({lay['bound_hz']:.3f}) | "
            f"{pct(lay['ann_above_max_rate'])} | {pct(lay['saturated'])} | "
            f"{lay['silent_neurons']} ({lay['silent_but_ann_active']}) | "
            f"{lay['spikes_per_neuron']:.3f} | {lay['synops_per_sample']:.4g} |"
        )
    lines += [
        "",
        "## Disagreements",
        "",
        f"{d['disagreements']} disagreements at T = {d['detail_steps']}; {d['near_ties']} of them "
        "are near ties (the ANN's two largest outputs differ by less than one spike over the "
        f"window); {d['snn_ties']} samples have tied top SNN counts.",
        "",
        "## Suggestions (measured on these data)",
        "",
    ]
    target = 100 * d["target_agreement"]
    tried = [c["steps"] for c in d["checks"]] + [c["steps"] for c in d["curve"]]
    if d["suggested_steps"] is not None:
        last = d["checks"][-1]
        lines.append(
            f"- **T = {d['suggested_steps']} steps** reaches {target:.0f} % agreement: run, it "
            f"gave {pct(last['agreement'])} % (margin model predicted {pct(last['predicted'])} %, "
            f"κ = {d['margin_kappa_spikes']:.3g} spikes)."
        )
    else:
        lines.append(
            f"- No window tried (up to T = {max(tried)} steps; checks "
            f"stop at {d['check_cap_steps']}) reached {target:.0f} % (model T = "
            f"{d['model_steps']}); the disagreements are not resolution-limited: see saturation "
            "and correlation above."
        )
    for c in d["checks"][:-1] if d["suggested_steps"] is not None else d["checks"]:
        lines.append(
            f"  - tried T = {c['steps']}: {pct(c['agreement'])} % "
            f"(predicted {pct(c['predicted'])} %)"
        )
    lines += [f"- {a}" for a in d["saturation_advice"]] or ["- No layer saturates on these data."]
    lines += ["", "## Figures", ""] + [f"![{f.stem}]({f.name})" for f in figs] + [""]
    return atomic_write(folder / "report.md", "\n".join(lines))
