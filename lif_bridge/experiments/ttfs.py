"""TTFS — time-to-first-spike coding (Stanojevic et al. 2023) against rate coding, equal latency.

The zoo's ``paper_mlp`` (784-600-10, no bias) two ways on the same MNIST test images:

* **rate**: the FC experiment's network (Linear LIF, 99.9th-percentile normalisation on training
  images, regular trains of up to 100 Hz, ``dt = 0.01 s``), run for ``L`` steps;
* **TTFS**: the trained weights as they are, windows from the largest activation on the same
  training images times 1.5, ``tau_c = 1 ms``; exact (continuous time) and on a grid whose
  step is chosen so that the readout comes after ``L`` steps (windows rounded up to whole
  steps, so the latency is ``L`` plus at most one step per window).

Both on the reference backend. Equal latency means the same number of time steps before the
output is read (the clock-driven cost); SynOps count every spike that reaches a layer times its
fan-out (TTFS: at most one spike per neuron; a zero costs nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement, synaptic_operations
from lif_bridge.ann import ann_forward
from lif_bridge.backend import simulate
from lif_bridge.data import load_mnist
from lif_bridge.experiments import plots
from lif_bridge.experiments._common import Context, Stopwatch, row
from lif_bridge.network import Readout, RegularRate, Simulation
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs
from lif_bridge.ttfs import synaptic_operations as ttfs_synops
from lif_bridge.zoo import paper_network
from lif_bridge.zoo.raw import raw_network

__all__ = ["PAPER", "run"]

#: The paper's claim (Stanojevic et al. 2023): the mapping is exact, 0 % accuracy drop.
PAPER: dict[str, float] = {"agreement": 1.0}

DT_RATE = 0.01


def _rate_run(net: Any, x: np.ndarray, steps: int, ann: np.ndarray) -> dict[str, float]:
    """The rate net for ``steps`` steps: agreement, SynOps, spikes per hidden neuron."""
    sim = Simulation(steps=steps, dt=DT_RATE, encoder=RegularRate(), readout=Readout(counts="all"))
    res = simulate(net, x, sim, "reference")
    inputs = sim.encode(net, x).sum(axis=1)
    hidden = [res.counts[p.name] for p in net.populations[:-1]]
    per_neuron = np.concatenate(hidden, axis=1)
    return {
        "agreement": agreement(res.output_counts, ann).fraction,
        "synops": float(synaptic_operations(net, res, inputs).mean()),
        "spikes_mean": float(per_neuron.mean()),
        "spikes_max": float(per_neuron.max(initial=0)),
    }


def _ttfs_run(net: Any, x: np.ndarray, dt: float | None, ann: np.ndarray) -> dict[str, Any]:
    """The TTFS net, exact (``dt=None``) or on a grid: agreement, SynOps, spikes, latency."""
    res = simulate_ttfs(net, x, dt=dt)
    spikes = res.spikes_per_neuron()
    return {
        "agreement": agreement(res.output, ann).fraction,
        "synops": ttfs_synops(net, res)["total"],
        "spikes_mean": spikes["mean"],
        "spikes_max": spikes["max"],
        "latency_s": res.readout_time,
        "latency_steps": res.latency_steps,
        "max_error": float(np.abs(res.output - ann).max()),
        "predictions": res.predictions(),
    }


@dataclass(frozen=True)
class Settings:
    """What TTFS runs (full run or ``--quick``)."""

    n_test: int  # MNIST test images
    n_calib: int  # training images for the calibration
    latencies: list[int]  # equal latencies L [steps]

    @staticmethod
    def of(ctx: Context) -> Settings:
        return Settings(
            n_test=ctx.pick(1_000, 60),
            n_calib=ctx.pick(1_000, 200),
            latencies=ctx.pick([25, 50, 100, 200, 300, 600], [25, 100]),
        )


def run(ctx: Context) -> dict[str, Any]:
    """Run TTFS vs rate; returns the result dict."""
    clock = Stopwatch()
    s = Settings.of(ctx)
    test = load_mnist("test", ctx.data_dir, limit=s.n_test)
    calib = load_mnist("train", ctx.data_dir, limit=s.n_calib)
    x, y = test.x, np.asarray(test.y)
    rate_net = paper_network("paper_mlp", calibration=calib.x)
    ttfs_net = convert_ttfs(raw_network("paper_mlp"), calibration=calib.x)
    ann = ann_forward(ttfs_net, x, max_rate=1.0)
    exact = _ttfs_run(ttfs_net, x, None, ann)
    rate, grid = _equal_latency_runs(s, rate_net, ttfs_net, x, ann, exact["latency_s"])
    figs = _figures(ctx, s.latencies, rate, grid, exact)
    return {
        "id": "TTFS",
        "title": "Time-to-first-spike coding vs rate coding at equal latency (paper MLP)",
        "settings": _settings_text(s),
        "table": _table(s, ann, y, exact, rate, grid),
        "figures": figs,
        "data": {
            "exact": {k: v for k, v in exact.items() if k != "predictions"},
            "rate": {str(k): v for k, v in rate.items()},
            "ttfs_grid": {
                str(k): {kk: vv for kk, vv in v.items() if kk != "predictions"}
                for k, v in grid.items()
            },
        },
        "notes": [
            "TTFS on a grid rounds every coded value down to a multiple of dt / tau_c; the "
            "error propagates through the layers, which is what costs agreement at small L.",
            "Equal latency is counted in time steps (the cost of a clock-driven simulator); in "
            f"seconds the rate network's L steps last L × {DT_RATE} s, the TTFS grid's L steps "
            "the TTFS latency in the table (tau_c sets it).",
        ],
        "seconds": clock.seconds,
    }


def _equal_latency_runs(
    s: Settings,
    rate_net: Any,
    ttfs_net: Any,
    x: np.ndarray,
    ann: np.ndarray,
    latency_s: float,
) -> tuple[dict[int, dict[str, float]], dict[int, dict[str, Any]]]:
    """Per latency ``L``: the rate net run for ``L`` steps; TTFS on a grid ``dt = latency / L``."""
    rate: dict[int, dict[str, float]] = {}
    grid: dict[int, dict[str, Any]] = {}
    for steps in s.latencies:
        rate[steps] = _rate_run(rate_net, x, steps, ann)
        grid[steps] = _ttfs_run(ttfs_net, x, latency_s / steps, ann)
    return rate, grid


def _table(
    s: Settings,
    ann: np.ndarray,
    y: np.ndarray,
    exact: dict[str, Any],
    rate: dict[int, dict[str, float]],
    grid: dict[int, dict[str, Any]],
) -> list[dict[str, Any]]:
    """The comparison table: exact TTFS against the ANN, then TTFS vs rate per latency."""
    table = [
        row(
            f"TTFS exact: agreement with the ANN ({s.n_test:,} images)",
            exact["agreement"],
            paper=PAPER["agreement"],
        ),
        row("TTFS exact: max |readout − ANN output|", exact["max_error"]),
        row(
            "TTFS exact: ANN / SNN accuracy",
            f"{accuracy(ann, y):.4f} / {accuracy(exact['predictions'], y):.4f}",
        ),
        row(
            "TTFS: spikes per hidden neuron, mean / max",
            f"{exact['spikes_mean']:.3f} / {exact['spikes_max']:g}",
        ),
        row("TTFS: readout latency [ms]", 1e3 * exact["latency_s"]),
        row("TTFS: SynOps per sample", exact["synops"]),
    ]
    for steps in s.latencies:
        g, r = grid[steps], rate[steps]
        table.append(
            row(
                f"L = {steps} steps: agreement TTFS (grid, {g['latency_steps']} steps) / rate",
                f"{g['agreement']:.4f} / {r['agreement']:.4f}",
            )
        )
        table.append(
            row(
                f"L = {steps} steps: SynOps per sample TTFS / rate",
                f"{g['synops']:.4g} / {r['synops']:.4g}",
                note=f"spikes per hidden neuron: TTFS {g['spikes_mean']:.3f}, rate "
                f"{r['spikes_mean']:.3f} (max {r['spikes_max']:g})",
            )
        )
    return table


def _settings_text(s: Settings) -> dict[str, Any]:
    """The settings block of the report."""
    return {
        "network": "zoo paper_mlp (784-600-10, no bias), first "
        f"{s.n_test:,} MNIST test images; calibration: first {s.n_calib:,} training images",
        "TTFS": "Stanojevic et al. (2023): B1 neurons, windows = 1.5 × largest calibration "
        "activation × tau_c, tau_c = 1 ms; grid runs with dt = exact latency / L",
        "rate": f"Linear LIF, 99.9th-percentile normalisation, regular trains ≤ 100 Hz, "
        f"dt = {DT_RATE} s, L steps",
        "latencies L [steps]": s.latencies,
        "backend": "reference",
    }


def _figures(
    ctx: Context,
    latencies: list[int],
    rate: dict[int, dict[str, float]],
    grid: dict[int, dict[str, Any]],
    exact: dict[str, Any],
) -> list[str]:
    """Agreement and SynOps of TTFS (grid, exact) and rate coding against the latency."""
    xs = [grid[s]["latency_steps"] for s in latencies]
    plots.plot_curves(
        ctx.out_dir / "ttfs_vs_rate.png",
        [
            {
                "x": xs,
                "y": [grid[s]["agreement"] for s in latencies],
                "label": "TTFS (grid)",
                "fmt": "o-",
            },
            {
                "x": latencies,
                "y": [rate[s]["agreement"] for s in latencies],
                "label": "rate (Linear LIF)",
                "fmt": "s-",
            },
            {
                "x": [min(latencies), max(xs)],
                "y": [exact["agreement"]] * 2,
                "label": "TTFS exact (continuous time)",
                "fmt": "k--",
            },
        ],
        lower=[
            {
                "x": xs,
                "y": [grid[s]["synops"] / 1e3 for s in latencies],
                "label": "TTFS",
                "fmt": "o-",
            },
            {
                "x": latencies,
                "y": [rate[s]["synops"] / 1e3 for s in latencies],
                "label": "rate",
                "fmt": "s-",
            },
        ],
        lower_ylabel="kSynOps / sample",
        xlabel="latency [time steps before the readout]",
        ylabel="agreement with the ANN",
        title="paper MLP on MNIST: TTFS vs rate coding at equal latency",
        logx=True,
    )
    return ["ttfs_vs_rate.png"]
