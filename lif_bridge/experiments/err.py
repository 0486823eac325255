"""ERR — rate error against coding time, below the 1/T bound (Lu & Xu §5.5, Eq. 19–21, Fig. 18).

A window of ``T`` seconds counts whole spikes, so a regular train of rate ``f`` is read as
``N/T`` with ``|f − N/T| < 1/T``. Measured two ways, for ``T`` from 0.1 s to 10 s at
``dt = 0.01 s``:

* regular trains (the paper's coding, :class:`lif_bridge.RegularRate`) of random rates in
  [0, 100) Hz: absolute error against ``1/T`` and relative L2 error;
* a one-layer IF network (Linear LIF, ``g_l = 0``): the hidden layer of ``paper_mlp`` (784 →
  600), max-normalised on training images, on MNIST test images: the 600 output rates against
  the ANN's, absolute error against ``1/T`` and the per-image relative L2 error (the paper's
  "< 1 % at T = 10 s").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lif_bridge.analysis import rate_error
from lif_bridge.ann import ann_activations
from lif_bridge.backend import simulate
from lif_bridge.data import load_mnist
from lif_bridge.experiments import plots
from lif_bridge.experiments._common import Context, Stopwatch, row
from lif_bridge.network import Network, RegularRate, Simulation
from lif_bridge.zoo import normalized_factors, paper_network

__all__ = ["PAPER", "run"]

#: The paper's number (§5.5): relative error below 1 % at T = 10 s.
PAPER: dict[str, float] = {"relative_at_10s": 0.01}

DT = 0.01
MAX_RATE = 100.0


def _rel_l2(measured: np.ndarray, expected: np.ndarray) -> float:
    """Mean over rows of ``‖measured − expected‖₂ / ‖expected‖₂`` (rows with zero norm skipped)."""
    num = np.linalg.norm(measured - expected, axis=-1)
    den = np.linalg.norm(expected, axis=-1)
    ok = den > 0
    return float(np.mean(num[ok] / den[ok]))


@dataclass(frozen=True)
class Settings:
    """What ERR sweeps (full run or ``--quick``)."""

    durations: list[float]  # coding windows T [s]
    n_rates: int  # random rates of the regular trains
    n_images: int  # MNIST test images through the one-layer net
    n_calib: int  # training images for the normalisation

    @staticmethod
    def of(ctx: Context) -> Settings:
        return Settings(
            durations=ctx.pick([0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0], [0.1, 1.0, 10.0]),
            n_rates=ctx.pick(1_000, 200),
            n_images=ctx.pick(200, 10),
            n_calib=ctx.pick(10_000, 500),
        )


def run(ctx: Context) -> dict[str, Any]:
    """Run ERR; returns the result dict."""
    clock = Stopwatch()
    rng = np.random.default_rng(ctx.seed)
    s = Settings.of(ctx)
    train = _train_errors(s, rng)
    layer, lam = _layer_errors(s, ctx)
    figs = _figures(ctx, s.durations, train, layer)
    return {
        "id": "ERR",
        "title": "Rate error vs coding time (Fig. 18, Eq. 19–21)",
        "settings": _settings_text(s, ctx, lam),
        "table": _table(train, layer),
        "figures": figs,
        "data": {"train": train, "layer": layer},
        "notes": [
            "The network's error bound is not exactly 1/T: its inputs are quantised too and "
            "the layer adds one step of latency; the table shows where it stays below.",
        ],
        "seconds": clock.seconds,
    }


def _train_errors(s: Settings, rng: np.random.Generator) -> list[dict[str, float]]:
    """Rate errors of regular trains at ``n_rates`` random rates, one dict per window ``T``."""
    rates = rng.uniform(0.0, MAX_RATE, size=s.n_rates)
    p = rates[None, :] * DT
    train: list[dict[str, float]] = []
    for T in s.durations:
        steps = round(T / DT)
        counts = RegularRate().encode(p, steps).sum(axis=1)[0]
        e = rate_error(counts, rates, steps * DT)
        e["T"] = T
        e["relative_l2"] = _rel_l2(counts / (steps * DT), rates)
        train.append(e)
    return train


def _layer_errors(s: Settings, ctx: Context) -> tuple[list[dict[str, float]], list[float]]:
    """Rate errors of the one-layer IF net against the ANN, per window ``T``; and its ``λ``."""
    test = load_mnist("test", ctx.data_dir, limit=s.n_images)
    calib = load_mnist("train", ctx.data_dir, limit=s.n_calib)
    lam = normalized_factors("paper_mlp", calib.x, "max")
    full = paper_network("paper_mlp", factors=lam, max_rate=MAX_RATE)
    net = Network(input_shape=full.input_shape, layers=full.layers[:2], max_rate=MAX_RATE)
    expected = ann_activations(net, test.x, max_rate=MAX_RATE)["fc1"]
    layer: list[dict[str, float]] = []
    for T in s.durations:
        steps = round(T / DT)
        sim = Simulation(steps=steps, dt=DT, encoder=RegularRate(), max_rate=MAX_RATE)
        res = simulate(net, test.x, sim, ctx.backend, progress=ctx.progress)
        e = rate_error(res.output_counts, expected, steps * DT)
        e["T"] = T
        e["relative_l2"] = _rel_l2(res.rates(), expected)
        layer.append(e)
    return layer, lam


def _table(train: list[dict[str, float]], layer: list[dict[str, float]]) -> list[dict[str, Any]]:
    """The comparison table: the 1/T bound and the relative error, trains then the net."""
    table = [
        row(
            "regular trains: max |f − N/T| < 1/T for every T",
            all(e["max"] < e["bound"] for e in train),
            paper="Eq. 21",
        ),
        row(
            "regular trains: fraction of rates within 1/T (all T)",
            min(e["within_bound"] for e in train),
        ),
    ]
    table += [_error_row("regular trains", e) for e in train]
    table.append(
        row(
            "regular trains, T = 10 s: relative L2 error",
            train[-1]["relative_l2"],
            paper=PAPER["relative_at_10s"],
            note="paper: < 1 %",
        )
    )
    table += [_error_row("one-layer IF net", e) for e in layer]
    table.append(
        row(
            "one-layer IF net: mean error below 1/T at every T",
            all(e["mean"] < e["bound"] for e in layer),
        )
    )
    table.append(
        row(
            "one-layer IF net, T = 10 s: relative L2 error per image (mean)",
            layer[-1]["relative_l2"],
            paper=PAPER["relative_at_10s"],
            note="paper: < 1 % (MNIST)",
        )
    )
    return table


def _error_row(label: str, e: dict[str, float]) -> dict[str, Any]:
    """One table row: mean / max ``|f − N/T|`` at one window, against ``1/T``."""
    return row(
        f"{label}, T = {e['T']:g} s: mean / max |f − N/T| [Hz] (1/T = {e['bound']:g})",
        f"{e['mean']:.4f} / {e['max']:.4f}",
    )


def _settings_text(s: Settings, ctx: Context, lam: list[float]) -> dict[str, Any]:
    """The settings block of the report."""
    return {
        "dt [s]": DT,
        "windows T [s]": s.durations,
        "regular trains": f"{s.n_rates} rates uniform in [0, {MAX_RATE:g}) Hz, numpy "
        f"default_rng({ctx.seed})",
        "one-layer IF network": "paper_mlp fc1 (784→600), Linear LIF C_m = V_th = 1, "
        f"g_l = 0, weights / λ with λ = {lam[0]:.4f} (max over the first {s.n_calib:,} "
        f"training images), regular coding f_max = {MAX_RATE:g} Hz, first {s.n_images} test "
        "images; expected rates = the ANN view",
        "errors": "absolute |f − N/T| [Hz] against 1/T; relative L2 = ‖f' − f‖₂/‖f‖₂",
        "backend": ctx.backend,
    }


def _figures(ctx: Context, durations: list, train: list, layer: list) -> list[str]:
    """Fig. 18: absolute error against 1/T; the relative L2 error against the paper's 1 %."""
    out = ctx.out_dir
    T = np.asarray(durations, dtype=float)
    plots.plot_curves(
        out / "err_vs_T.png",
        [
            {"x": T, "y": 1.0 / T, "label": "bound 1/T (Eq. 21)", "fmt": "k--"},
            {
                "x": T,
                "y": [e["max"] for e in train],
                "label": "regular trains: max",
                "fmt": "^-",
                "kw": {"color": "C0"},
            },
            {
                "x": T,
                "y": [e["mean"] for e in train],
                "label": "regular trains: mean",
                "fmt": "o-",
                "kw": {"color": "C0", "mfc": "none"},
            },
            {
                "x": T,
                "y": [e["max"] for e in layer],
                "label": "one-layer IF net: max",
                "fmt": "^-",
                "kw": {"color": "C2"},
            },
            {
                "x": T,
                "y": [e["mean"] for e in layer],
                "label": "one-layer IF net: mean",
                "fmt": "o-",
                "kw": {"color": "C2", "mfc": "none"},
            },
        ],
        xlabel="coding time T [s]",
        ylabel="|f − N/T| [Hz]",
        title="ERR (cf. Fig. 18): rate error vs coding time",
        logx=True,
        logy=True,
    )
    plots.plot_curves(
        out / "err_relative.png",
        [
            {
                "x": T,
                "y": [100 * e["relative_l2"] for e in train],
                "label": "regular trains",
                "fmt": "o-",
                "kw": {"color": "C0"},
            },
            {
                "x": T,
                "y": [100 * e["relative_l2"] for e in layer],
                "label": "one-layer IF net (MNIST)",
                "fmt": "s-",
                "kw": {"color": "C2"},
            },
            {"x": T, "y": np.ones_like(T), "label": "1 % (paper, T = 10 s)", "fmt": "k:"},
        ],
        xlabel="coding time T [s]",
        ylabel="relative L2 error [%]",
        title="ERR: relative rate error vs coding time",
        logx=True,
        logy=True,
    )
    return ["err_vs_T.png", "err_relative.png"]
