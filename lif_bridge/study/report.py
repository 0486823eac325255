"""``report.md`` and figures of a sweep, from its rows (matplotlib, Agg; atomic writes).

Figures:

* ``agreement_vs_T.png``: agreement and SNN accuracy [%] against the window ``T`` [steps], one
  line per setting (every varying parameter but ``steps``), with the ``1/T`` resolution bound
  of a rate read out in ``T`` steps drawn for scale;
* ``cost_vs_agreement.png``: spikes per neuron and SynOps per sample against agreement;
* ``leak_vs_current.png`` (when the grid has both bias modes): agreement with the bias as a
  leak against agreement with the bias as a current, point by point (same other parameters).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.plots import new_figure, save_figure
from lif_bridge.study.points import PARAMETERS
from lif_bridge.study.store import atomic_write

__all__ = ["leak_vs_current", "setting_label", "varying", "write_sweep_report"]


def varying(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Parameters that take more than one value over ``rows``, in parameter order."""
    return [k for k in PARAMETERS if len({repr(r.get(k)) for r in rows}) > 1]


def setting_label(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    """``"bias_mode=leak, percentile=99"`` for the given keys (``"all"`` if none)."""
    return ", ".join(f"{k}={row.get(k)}" for k in keys) or "all"


def _settings(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> dict[str, list[Any]]:
    groups: dict[str, list[Any]] = {}
    for r in rows:
        groups.setdefault(setting_label(r, keys), []).append(r)
    return {k: sorted(v, key=lambda r: r.get("steps", 0)) for k, v in groups.items()}


def leak_vs_current(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Pairs of rows equal but for ``bias_mode`` (leak, current) with their figures."""
    ok = [r for r in rows if r.get("status") == "ok"]
    keys = [k for k in PARAMETERS if k != "bias_mode"]
    index = {(r.get("bias_mode"), tuple(repr(r.get(k)) for k in keys)): r for r in ok}
    pairs = []
    for (mode, rest), leak in index.items():
        cur = index.get(("current", rest))
        if mode != "leak" or cur is None:
            continue
        pairs.append(
            {
                **{k: leak.get(k) for k in keys if k in leak},
                "agreement_leak": leak["agreement"],
                "agreement_current": cur["agreement"],
                "snn_accuracy_leak": leak.get("snn_accuracy"),
                "snn_accuracy_current": cur.get("snn_accuracy"),
                "spikes_per_neuron_leak": leak["spikes_per_neuron"],
                "spikes_per_neuron_current": cur["spikes_per_neuron"],
            }
        )
    return pairs


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _pct(v: Any) -> str:
    return "—" if v is None else f"{100 * v:.2f}"


def _plot_vs_t(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], path: Path) -> Path:
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.4))
    steps = sorted({int(r["steps"]) for r in rows})
    for label, group in _settings(rows, keys).items():
        t = [r["steps"] for r in group]
        ax1.plot(t, [100 * r["agreement"] for r in group], "o-", label=label)
        if all(r.get("snn_accuracy") is not None for r in group):
            ax2.plot(t, [100 * r["snn_accuracy"] for r in group], "o-", label=label)
    if steps:
        grid = np.geomspace(min(steps), max(steps), 50)
        ax1.plot(grid, 100 * (1 - 1 / grid), "k:", lw=0.9, label="1 − 1/T (one-spike resolution)")
    anns = {r.get("ann_accuracy") for r in rows if r.get("ann_accuracy") is not None}
    for a in sorted(anns):
        ax2.axhline(100 * a, color="k", ls="--", lw=0.8, label=f"ANN {100 * a:.2f} %")
    for ax, name in ((ax1, "SNN/ANN label agreement [%]"), (ax2, "SNN accuracy [%]")):
        ax.set_xscale("log")
        ax.set_xlabel("window T [steps]")
        ax.set_ylabel(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("agreement and accuracy vs window length, per setting", fontsize=10)
    return save_figure(fig, path)


def _plot_cost(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], path: Path) -> Path:
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.4))
    for label, group in _settings(rows, keys).items():
        agree = [100 * r["agreement"] for r in group]
        ax1.plot([r["spikes_per_neuron"] for r in group], agree, "o-", label=label)
        ax2.plot([r["synops"] for r in group], agree, "o-", label=label)
    ax1.set_xlabel("spikes per neuron and sample")
    ax2.set_xlabel("synaptic operations per sample")
    ax2.set_xscale("log")
    for ax in (ax1, ax2):
        ax.set_ylabel("agreement [%]")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("cost against agreement (lines join windows T of one setting)", fontsize=10)
    return save_figure(fig, path)


def _plot_leak(pairs: Sequence[Mapping[str, Any]], path: Path) -> Path:
    fig, ax = new_figure(figsize=(5.4, 5.0))
    a = np.array([100 * p["agreement_current"] for p in pairs])
    b = np.array([100 * p["agreement_leak"] for p in pairs])
    lo = float(min(a.min(), b.min(), 100) - 1)
    ax.plot([lo, 100], [lo, 100], "k--", lw=0.8, label="equal")
    steps = sorted({p.get("steps") for p in pairs})
    for s in steps:
        sel = [i for i, p in enumerate(pairs) if p.get("steps") == s]
        ax.plot(a[sel], b[sel], "o", label=f"T = {s} steps")
    ax.set_xlabel("agreement, bias as current [%]")
    ax.set_ylabel("agreement, bias as leak g_l [%]")
    ax.set_title("leak vs current: same network, same other parameters", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def write_sweep_report(
    rows: Sequence[Mapping[str, Any]],
    folder: str | os.PathLike[str],
    *,
    title: str = "Sweep",
    notes: str = "",
) -> Path:
    """Write ``report.md`` and the figures into ``folder``; returns the report's path."""
    folder = Path(folder)
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    keys = [k for k in varying(ok) if k != "steps"]
    lines = [f"# {title}", ""]
    if notes:
        lines += [notes, ""]
    lines += [f"{len(ok)} points finished, {len(failed)} failed.", ""]
    figures: list[Path] = []
    if ok:
        figures.append(_plot_vs_t(ok, keys, folder / "agreement_vs_T.png"))
        figures.append(_plot_cost(ok, keys, folder / "cost_vs_agreement.png"))
        lines += _points_section(ok, keys)
    pairs = leak_vs_current(ok)
    if pairs:
        figures.append(_plot_leak(pairs, folder / "leak_vs_current.png"))
        lines += _leak_section(pairs, keys)
    if failed:
        lines += _failed_section(failed)
    lines += ["## Figures", ""] + [f"![{f.stem}]({f.name})" for f in figures] + [""]
    return atomic_write(folder / "report.md", "\n".join(lines))


def _md_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table: the header line, the rule, one line per body row."""
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cells) + " |" for cells in body),
    ]


def _points_section(ok: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """The table of finished points: settings, agreement, accuracies, cost."""
    cols = [*keys, *(["steps"] if "steps" in varying(ok) else [])]
    header = [
        *cols,
        "agreement %",
        "ANN acc %",
        "SNN acc %",
        "ties",
        "spikes/neuron",
        "SynOps/sample",
        "wall s",
    ]
    body = [
        [_fmt(r.get(k)) for k in cols]
        + [
            _pct(r["agreement"]),
            _pct(r.get("ann_accuracy")),
            _pct(r.get("snn_accuracy")),
            str(r["ties"]),
            f"{r['spikes_per_neuron']:.3f}",
            f"{r['synops']:.4g}",
            f"{r['wall_s']:.2f}",
        ]
        for r in ok
    ]
    return [*_md_table(header, body), ""]


def _leak_section(pairs: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """Leak against current bias at the same other parameters, and the mean difference."""
    cols = [*(k for k in keys if k != "bias_mode"), "steps"]
    header = [
        *cols,
        "agreement leak %",
        "agreement current %",
        "SNN acc leak %",
        "SNN acc current %",
    ]
    body = [
        [_fmt(p.get(k)) for k in cols]
        + [
            _pct(p["agreement_leak"]),
            _pct(p["agreement_current"]),
            _pct(p["snn_accuracy_leak"]),
            _pct(p["snn_accuracy_current"]),
        ]
        for p in pairs
    ]
    diff = [p["agreement_leak"] - p["agreement_current"] for p in pairs]
    return [
        "## Leak vs current (same other parameters)",
        "",
        *_md_table(header, body),
        "",
        f"Mean agreement difference leak − current: {100 * np.mean(diff):+.2f} "
        f"points (min {100 * min(diff):+.2f}, max {100 * max(diff):+.2f}).",
        "",
    ]


def _failed_section(failed: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per failed point: its settings and its error."""
    return [
        "## Failed points",
        "",
        *(
            f"- {setting_label(r, [k for k in PARAMETERS if k in r])}: {r.get('error')}"
            for r in failed
        ),
        "",
    ]
