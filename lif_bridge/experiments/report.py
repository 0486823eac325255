"""The Markdown report: the paper's numbers and ours side by side, settings, figures."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lif_bridge.experiments._common import write_text

__all__ = ["fmt", "render_report", "write_report"]

_DEEP = (
    "DEEP (AlexNet / VGG-16 on CIFAR-10; paper: agreement 99.46 % / 99.88 %, accuracy "
    "80.23 → 80.12 % and 88.58 → 88.46 %) is **not reproduced**: CIFAR-10 and the trained "
    "AlexNet / VGG-16 weights cannot be fetched in this environment, and no shipped model "
    "stands in for them. The face/motorbike (Caltech-101) FC result (99.75 %) is not "
    "reproduced for the same reason."
)


def fmt(value: Any) -> str:
    """A table cell: floats to 4 significant digits, ``None`` as an em dash."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if abs(value) >= 1e4 or abs(value) < 1e-3:
            return f"{value:.3e}"
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    return str(value).replace("|", "\\|")


def _table(rows: list[Mapping[str, Any]]) -> list[str]:
    has_spec = any(r.get("spec") is not None for r in rows)
    head = ["quantity", "paper"] + (["spec"] if has_spec else []) + ["ours (measured)", "note"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [fmt(r["quantity"]), fmt(r.get("paper"))]
        if has_spec:
            cells.append(fmt(r.get("spec")))
        cells += [f"**{fmt(r['ours'])}**", fmt(r.get("note", ""))]
        out.append("| " + " | ".join(cells) + " |")
    return out


def render_report(payload: Mapping[str, Any]) -> str:
    """The report text of a :func:`lif_bridge.experiments.run_experiments` payload."""
    meta = payload["meta"]
    exps = payload["experiments"]
    lines = [
        "# Lu & Xu (2022), reproduced with lif-bridge",
        "",
        f"Experiments: {', '.join(meta['experiments'])}"
        + (" — **quick mode (reduced sizes, not the paper's)**" if meta["quick"] else ""),
        "",
        f"- finished: {meta['finished']}; total wall time: {meta['wall_seconds']:.1f} s",
        f"- seed: {meta['seed']} (numpy `default_rng`); backend: `{meta['backend']}`",
        f"- lif-bridge {meta['lif_bridge']}, Python {meta['python']}, numpy {meta['numpy']}, "
        f"{meta['platform']}; {meta['threads']}",
        f"- MNIST folder: `{meta.get('data_dir') or 'not needed'}`",
        "",
        "Columns: **paper** = the number printed in the paper (typed in, for reference); "
        "**spec** = the value measured and recorded in `shared/spec/mapping.md` §3 where the "
        "paper's own figure is only approximate; **ours** = measured in this run (nothing in "
        "this column is typed in).",
        "",
    ]
    for key, res in exps.items():
        lines += [f"## {key} — {res['title']}", "", "### Settings", ""]
        lines += ["| setting | value |", "|---|---|"]
        for k, v in res["settings"].items():
            lines.append(f"| {fmt(k)} | {fmt(v)} |")
        lines += ["", "### Paper vs ours", ""]
        lines += _table(res["table"])
        lines += ["", "### Figures", ""]
        for fig in res["figures"]:
            lines += [f"![{fig}]({fig})", ""]
        if res.get("notes"):
            lines += ["### Notes", ""]
            lines += [f"- {n}" for n in res["notes"]]
            lines.append("")
        lines += [f"Wall time of {key}: {res['seconds']:.1f} s", ""]
    lines += ["## Not reproduced", "", _DEEP, ""]
    return "\n".join(lines)


def write_report(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> Path:
    """Write :func:`render_report` to ``path`` atomically."""
    return write_text(path, render_report(payload))
