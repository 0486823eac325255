"""Figures of the experiments (matplotlib on the Agg backend; files written atomically)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.plots import new_figure, save_figure

__all__ = [
    "Series",
    "plot_confusion",
    "plot_curves",
    "plot_feature_maps",
    "plot_matrix",
    "plot_scatter",
    "plot_slopes",
    "save",
]

_figure = new_figure
save = save_figure

Series = dict[str, Any]
"""A line: ``x``, ``y``, ``label`` and optional matplotlib ``fmt`` and keyword ``kw``."""


def _draw(ax: Any, series: Sequence[Series]) -> None:
    for s in series:
        ax.plot(s["x"], s["y"], s.get("fmt", "-"), label=s["label"], **s.get("kw", {}))


def plot_curves(
    path: str | os.PathLike[str],
    series: Sequence[Series],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
    lower: Sequence[Series] = (),
    lower_ylabel: str = "",
    logx: bool = False,
    logy: bool = False,
) -> Path:
    """Lines on one axis, optionally with a second (error) panel below sharing x."""
    if lower:
        fig, (ax, ax2) = _figure(2, 1, figsize=(6.4, 6.2), sharex=True, height_ratios=(3, 1.3))
    else:
        fig, ax = _figure(figsize=(6.4, 4.4))
        ax2 = None
    _draw(ax, series)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if ax2 is not None:
        _draw(ax2, lower)
        ax2.axhline(0, color="k", lw=0.6)
        ax2.set_ylabel(lower_ylabel)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=7)
        ax2.set_xlabel(xlabel)
    else:
        ax.set_xlabel(xlabel)
    return save(fig, path)


def plot_scatter(
    path: str | os.PathLike[str],
    reference: np.ndarray,
    series: Sequence[Series],
    *,
    xlabel: str,
    ylabel: str,
    title: str,
) -> Path:
    """Measured values against a reference (``y = x`` drawn), one colour per series."""
    fig, ax = _figure(figsize=(5.4, 5.0))
    top = float(max(np.max(reference), *(np.max(s["y"]) for s in series), 1e-9))
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="y = x (ReLU)")
    for s in series:
        ax.plot(reference, s["y"], s.get("fmt", "o"), ms=3, alpha=0.7, label=s["label"])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def plot_confusion(
    path: str | os.PathLike[str], matrix: np.ndarray, *, title: str, xlabel: str, ylabel: str
) -> Path:
    """A 10×10 (or any) confusion matrix with counts written in the cells."""
    m = np.asarray(matrix)
    fig, ax = _figure(figsize=(5.6, 5.0))
    im = ax.imshow(np.log1p(m), cmap="Blues")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(
                    j,
                    i,
                    str(int(m[i, j])),
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="white" if m[i, j] > m.max() / 3 else "black",
                )
    ax.set_xticks(range(m.shape[1]))
    ax.set_yticks(range(m.shape[0]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label="log(1 + count)", shrink=0.8)
    return save(fig, path)


def plot_feature_maps(
    path: str | os.PathLike[str],
    rows: Sequence[tuple[str, Sequence[tuple[str, np.ndarray]]]],
    *,
    title: str,
) -> Path:
    """A grid of 2-D maps: one row per model (ANN, SNN), one column per layer."""
    n_cols = max(len(maps) for _, maps in rows)
    fig, axes = _figure(len(rows), n_cols, figsize=(2.2 * n_cols, 2.3 * len(rows)), squeeze=False)
    for r, (row_label, maps) in enumerate(rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(maps):
                ax.axis("off")
                continue
            label, image = maps[c]
            ax.imshow(image, cmap="viridis")
            ax.set_title(label, fontsize=8)
            if c == 0:
                ax.set_ylabel(row_label, fontsize=9)
    fig.suptitle(title, fontsize=10)
    return save(fig, path)


def plot_matrix(
    path: str | os.PathLike[str],
    matrix: np.ndarray,
    *,
    title: str,
    label: str,
    split: int | None = None,
) -> Path:
    """A square matrix as an image (e.g. correlation), with optional quadrant lines."""
    fig, ax = _figure(figsize=(5.6, 5.0))
    im = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    if split is not None:
        ax.axhline(split - 0.5, color="k", lw=0.8)
        ax.axvline(split - 0.5, color="k", lw=0.8)
    ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=ax, label=label, shrink=0.8)
    return save(fig, path)


def plot_slopes(
    path: str | os.PathLike[str],
    c_sweep: np.ndarray,
    k_theory: np.ndarray,
    k_by_reset: dict[str, np.ndarray],
    *,
    theory_label: str,
    measured: str,
    ylabel: str,
    title: str,
) -> Path:
    """Slope vs capacitance: the theory ``1/(V_th C_m)`` and both reset modes' measurements."""
    return plot_curves(
        path,
        [
            {"x": c_sweep, "y": k_theory, "label": theory_label, "fmt": "k--"},
            {
                "x": c_sweep,
                "y": k_by_reset["subtract"],
                "label": f"Linear LIF{measured}",
                "fmt": "o-",
                "kw": {"color": "C2"},
            },
            {
                "x": c_sweep,
                "y": k_by_reset["zero"],
                "label": f"reset-to-zero LIF{measured}",
                "fmt": "s-",
                "kw": {"color": "C3"},
            },
        ],
        xlabel="membrane capacitance C_m [F]",
        ylabel=ylabel,
        title=title,
    )
