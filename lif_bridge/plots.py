"""Plots of what people look at (matplotlib, Agg backend; files written atomically)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lif_bridge.transfer import TransferCurve

__all__ = ["new_figure", "plot_transfer", "save_figure"]


def new_figure(*args: Any, **kwargs: Any) -> tuple[Figure, Any]:
    """A figure and axes on the Agg backend (no screen needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def save_figure(fig: Figure, path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` atomically, umask honoured (:mod:`lif_bridge.fileio`); close it."""
    import matplotlib.pyplot as plt

    from lif_bridge.fileio import atomic_path

    path = Path(path)
    fmt = path.suffix.lstrip(".") or None
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=fmt)
    finally:
        plt.close(fig)
    return path


def plot_transfer(curve: TransferCurve, path: str | os.PathLike[str], *, reset: str) -> Path:
    """Output rate vs input rate of the LIF neuron next to its ReLU, with the error."""
    fig, (ax, ax_err) = new_figure(2, 1, figsize=(6, 6), sharex=True, height_ratios=(3, 1))
    x = curve.rates_in if curve.rates_in.ndim == 1 else curve.rates_in.mean(axis=1)
    label = "Linear LIF (reset by subtraction)" if reset == "subtract" else "reset-to-zero LIF"
    ax.plot(x, curve.rates_out, "o-", ms=3, label=label)
    ax.plot(x, curve.relu, "k--", label=f"ReLU, b = {curve.bias:.4g}")
    ax.set_ylabel("output rate [Hz]")
    ax.legend()
    ax.grid(alpha=0.3)
    ax_err.plot(x, curve.error, "o-", ms=3, color="tab:red")
    ax_err.axhline(0, color="k", lw=0.5)
    ax_err.set_xlabel("input rate [Hz]")
    ax_err.set_ylabel("LIF - ReLU [Hz]")
    ax_err.grid(alpha=0.3)
    return save_figure(fig, path)
