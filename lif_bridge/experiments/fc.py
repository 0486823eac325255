"""FC — the 784-600-10 bias-free MLP on MNIST (Lu & Xu §5.3.2, Fig. 11–13).

Main run (the paper's settings): the zoo's ``paper_mlp`` as Linear LIF neurons (``C_m = V_th =
1``, ``g_l = 0``: the bias-free mapping), regular rate coding with ``f_max = 1/dt = 100 Hz``,
``dt = 0.01 s``, ``T = 3 s`` (300 steps), the whole MNIST test set: label agreement with the ANN,
accuracies, hidden-layer correlation (Eq. 16) per sample over the 600 neurons (first 20
samples, as Fig. 12A, and all), the data-dimension correlation matrix (Fig. 12B) and the
confusion matrix (Fig. 13A). Weights are scaled per layer by data-based normalisation (99.9th
percentile of the positive hidden activations, maximum of the output layer, on training
images).

Sweeps (Fig. 13B/C) on the first test images, with the weights as trained (the paper's direct
weight mapping, no normalisation): accuracy against the coding range ``f_max`` and against the
leak ``g_l``, Linear LIF against reset-to-zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement, correlation
from lif_bridge.ann import ann_activations
from lif_bridge.backend import simulate
from lif_bridge.data import load_mnist
from lif_bridge.experiments import fc_figures
from lif_bridge.experiments._common import Context, Stopwatch, confusion_matrix, row
from lif_bridge.network import Neurons, Readout, RegularRate, Simulation
from lif_bridge.zoo import normalized_factors, paper_network

__all__ = ["PAPER", "run"]

#: The paper's numbers (§5.3.2), typed in as references only.
PAPER: dict[str, float] = {
    "corr_mean": 0.94,
    "corr_min": 0.90,
    "corr_max": 0.97,
    "agreement": 0.9938,
    "linear_minus_zero": 0.07,
}

DT = 0.01
STEPS = 300


def _evaluate(
    ctx: Context, net: Any, x: np.ndarray, y: np.ndarray, max_rate: float, steps: int = STEPS
) -> dict[str, Any]:
    sim = Simulation(
        steps=steps,
        dt=DT,
        encoder=RegularRate(),
        max_rate=max_rate,
        readout=Readout(counts="all"),
    )
    res = simulate(net, x, sim, ctx.backend, progress=ctx.progress)
    ann = ann_activations(net, x, max_rate=max_rate)
    agr = agreement(res.output_counts, ann["fc2"])
    corr20 = correlation(res.rates("fc1")[:20], ann["fc1"][:20])
    return {
        "result": res,
        "ann": ann,
        "agreement": agr.fraction,
        "ties": agr.ties,
        "silent": agr.silent,
        "acc_snn": accuracy(res.output_counts, y),
        "acc_ann": accuracy(ann["fc2"], y),
        "corr20": corr20,
        "seconds": res.seconds,
    }


RESETS = ("subtract", "zero")


@dataclass(frozen=True)
class _Plan:
    """Sizes and sweeps of FC (full run or ``--quick``)."""

    n_test: int
    n_calib: int
    n_sweep: int
    rates: list[float]  # coding ranges f_max of the sweep [Hz]
    leaks: list[float]  # g_l of the leak sweep [S]
    leak_rate: float = 20.0  # f_max of the leak sweep [Hz]

    @staticmethod
    def of(ctx: Context) -> _Plan:
        return _Plan(
            n_test=ctx.pick(10_000, 200),
            n_calib=ctx.pick(10_000, 1_000),
            n_sweep=ctx.pick(500, 50),
            rates=ctx.pick([5.0, 10.0, 20.0, 50.0, 100.0], [10.0, 100.0]),
            leaks=ctx.pick([0.0, 1.0, 3.0, 10.0, 30.0], [0.0, 10.0]),
        )


def run(ctx: Context) -> dict[str, Any]:
    """Run FC; returns the result dict."""
    clock = Stopwatch()
    plan = _Plan.of(ctx)
    test = load_mnist("test", ctx.data_dir, limit=plan.n_test)
    calib = load_mnist("train", ctx.data_dir, limit=plan.n_calib)
    x, y = test.x, np.asarray(test.y)
    factors = _factors(calib.x)
    main = _main_run(ctx, factors, x, y)
    xs, ys = x[: plan.n_sweep], y[: plan.n_sweep]
    zero_net = paper_network(
        "paper_mlp", factors=factors, max_rate=1.0 / DT, neurons=Neurons(reset="zero")
    )
    main_zero = _evaluate(ctx, zero_net, xs, ys, 1.0 / DT)
    sweep_rate, sweep_leak, direct = _sweeps(ctx, plan, xs, ys)
    figs = fc_figures.figures(
        ctx.out_dir, main, direct, sweep_rate, sweep_leak, plan.rates, plan.leaks, plan.leak_rate
    )
    return {
        "id": "FC",
        "title": "784-600-10 MLP on MNIST (Fig. 11–13)",
        "settings": _settings_text(ctx, plan, factors),
        "table": _table(plan, main, main_zero, sweep_rate, sweep_leak, direct),
        "figures": figs,
        "data": {
            "factors": factors,
            "agreement": main["agreement"],
            "acc_ann": main["acc_ann"],
            "acc_snn": main["acc_snn"],
            "corr20": main["corr20"].values,
            "corr20_mean": main["corr20"].mean,
            "corr_all_mean": main["corr_all"].mean,
            "corr_all_min": main["corr_all"].min,
            "corr_neurons_mean": main["corr_neurons"].mean,
            "confusion": main["confusion"],
            "sweep_rate": sweep_rate,
            "sweep_leak": sweep_leak,
            "zero_agreement": main_zero["agreement"],
            "direct_agreement": direct["agreement"],
            "direct_corr20_mean": direct["corr20"].mean,
            "n_test": plan.n_test,
            "simulation_seconds": main["seconds"],
        },
        "notes": [
            "The paper maps the trained weights directly and scales the inputs to [0, k] "
            "(its 'coding range'); it does not give k for its main result. The main run here "
            "normalises the weights per layer instead (a bias-free ReLU net keeps its arg-max "
            "under positive per-layer scaling), so hidden rates use the 0–100 Hz range of the "
            "grid; the sweeps use the weights as trained, as the paper does.",
        ],
        "seconds": clock.seconds,
    }


def _factors(calibration: np.ndarray) -> list[float]:
    """λ: the 99.9th percentile of the positive fc1 activations, the maximum of fc2."""
    pct = normalized_factors("paper_mlp", calibration, "percentile", 99.9)
    top = normalized_factors("paper_mlp", calibration, "max")
    return [*pct[:-1], top[-1]]


def _main_run(ctx: Context, factors: list[float], x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The normalised net on every test image: agreement, correlations, confusion."""
    net = paper_network("paper_mlp", factors=factors, max_rate=1.0 / DT)
    main = _evaluate(ctx, net, x, y, 1.0 / DT)
    res, ann = main["result"], main["ann"]
    main["corr_all"] = correlation(res.rates("fc1"), ann["fc1"])
    main["corr_neurons"] = correlation(res.rates("fc1"), ann["fc1"], axis="samples")
    main["confusion"] = confusion_matrix(res.output_counts, ann["fc2"])
    return main


def _sweeps(
    ctx: Context, plan: _Plan, xs: np.ndarray, ys: np.ndarray
) -> tuple[dict[str, list[dict[str, float]]], dict[str, list[dict[str, float]]], dict[str, Any]]:
    """Weights as trained: accuracy vs coding range (g_l = 0) and vs g_l, for both resets.

    Both sweeps run through :func:`lif_bridge.study.run_sweep` (in-process, resumable, one row
    per point under ``OUT/study/fc_coding_range`` and ``OUT/study/fc_leak``). Returns the two
    sweeps (reset -> one summary per point) and the direct mapping's run at the largest coding
    range (re-run here for its hidden-layer correlations).
    """
    from lif_bridge.study import run_sweep
    from lif_bridge.zoo import raw_network

    raw = raw_network("paper_mlp")
    fixed: dict[str, list[Any]] = {
        "normalize": ["none"],
        "steps": [STEPS],
        "dt": [DT],
        "encoder": ["regular"],
    }
    grids: dict[str, dict[str, list[Any]]] = {
        "fc_coding_range": {**fixed, "reset": list(RESETS), "max_rate": plan.rates, "g_l": [0.0]},
        "fc_leak": {
            **fixed,
            "reset": list(RESETS),
            "max_rate": [plan.leak_rate],
            "g_l": plan.leaks,
        },
    }
    sweeps: dict[str, dict[str, list[dict[str, float]]]] = {}
    for name, grid in grids.items():
        outcome = run_sweep(
            raw,
            xs,
            grid,
            ctx.out_dir / "study" / name,
            labels=ys,
            workers=0,
            data_name=f"mnist:test[:{len(xs)}]",
            progress=ctx.progress,
        )
        if outcome.failed:
            raise RuntimeError(f"FC sweep {name}: {outcome.failed[0].get('error')}")
        sweeps[name] = {
            reset: [_summary(r) for r in outcome.rows if r["reset"] == reset] for reset in RESETS
        }
    top = max(plan.rates)
    direct = _evaluate(ctx, paper_network("paper_mlp", max_rate=top), xs, ys, top)
    return sweeps["fc_coding_range"], sweeps["fc_leak"], direct


def _differences(sweep: dict[str, list[dict[str, float]]]) -> list[float]:
    """Accuracy Linear LIF − reset-to-zero at every point of a sweep."""
    return [
        a["acc_snn"] - b["acc_snn"] for a, b in zip(sweep["subtract"], sweep["zero"], strict=True)
    ]


def _table(
    plan: _Plan,
    main: dict[str, Any],
    main_zero: dict[str, Any],
    sweep_rate: dict[str, list[dict[str, float]]],
    sweep_leak: dict[str, list[dict[str, float]]],
    direct: dict[str, Any],
) -> list[dict[str, Any]]:
    """The comparison table: agreement, accuracies, correlations, direct mapping, sweeps."""
    c20, corr_all, corr_neurons = main["corr20"], main["corr_all"], main["corr_neurons"]
    n_test, n_sweep, top = plan.n_test, plan.n_sweep, max(plan.rates)
    diffs_rate, diffs_leak = _differences(sweep_rate), _differences(sweep_leak)
    return [
        row(
            f"label agreement SNN vs ANN ({n_test:,} test images)",
            main["agreement"],
            paper=PAPER["agreement"],
            note="acceptance: ≥ 0.9938",
        ),
        row("ties in the SNN's top count / silent outputs", f"{main['ties']} / {main['silent']}"),
        row("ANN accuracy (labels)", main["acc_ann"]),
        row("SNN accuracy (labels)", main["acc_snn"]),
        row("hidden correlation ρ, 20 samples: mean", c20.mean, paper=PAPER["corr_mean"]),
        row("hidden correlation ρ, 20 samples: min", c20.min, paper=PAPER["corr_min"]),
        row("hidden correlation ρ, 20 samples: max", c20.max, paper=PAPER["corr_max"]),
        row(
            f"hidden correlation ρ, all {n_test:,} samples: mean / min",
            f"{corr_all.mean:.4f} / {corr_all.min:.4f}",
        ),
        row(
            "hidden correlation per neuron over samples (Fig. 12B right): mean",
            corr_neurons.mean,
            note=f"{corr_neurons.defined} of 600 neurons not constant",
        ),
        row("simulation wall time, main run [s]", main["seconds"]),
        row(
            f"direct weight mapping (no normalisation), f_max = {top:g} Hz, "
            f"{n_sweep} images: agreement",
            direct["agreement"],
        ),
        row(
            "direct weight mapping: hidden ρ over 20 samples, mean / min / max",
            f"{direct['corr20'].mean:.3f} / {direct['corr20'].min:.3f} / "
            f"{direct['corr20'].max:.3f}",
            paper="0.94 / 0.90 / 0.97",
        ),
        row(f"normalised net, reset-to-zero, {n_sweep} images: agreement", main_zero["agreement"]),
        row(
            "accuracy Linear − reset-to-zero over the coding-range sweep: mean",
            float(np.mean(diffs_rate)),
            paper=PAPER["linear_minus_zero"],
            note="paper: Linear LIF ≈ 7 % better",
        ),
        row(
            "accuracy Linear − reset-to-zero over the coding-range sweep: min / max",
            f"{min(diffs_rate):+.3f} / {max(diffs_rate):+.3f}",
        ),
        row(
            "accuracy Linear − reset-to-zero over the g_l sweep: mean",
            float(np.mean(diffs_leak)),
            paper=PAPER["linear_minus_zero"],
        ),
        row(
            "accuracy Linear − reset-to-zero over the g_l sweep: min / max",
            f"{min(diffs_leak):+.3f} / {max(diffs_leak):+.3f}",
        ),
    ]


def _settings_text(ctx: Context, plan: _Plan, factors: list[float]) -> dict[str, Any]:
    return {
        "network": "zoo paper_mlp (784-600-10, ReLU, no bias), built from the shipped "
        "weights without torch",
        "neurons": "Linear LIF, C_m = 1 F, V_th = 1 V, g_l = 0 (bias-free mapping)",
        "coding": f"regular (RegularRate), dt = {DT} s, T = {STEPS * DT:g} s ({STEPS} steps), "
        f"f_max = {1 / DT:g} Hz",
        "test images": f"first {plan.n_test:,} of the MNIST test set",
        "normalisation": f"λ = {[round(f, 4) for f in factors]}: 99.9th percentile of the "
        f"positive fc1 activations, maximum of fc2, on the first {plan.n_calib:,} training "
        "images; weights × λ_(l−1)/λ_l",
        "readout": "spike counts over the window, label = most active output (lowest index "
        "on ties)",
        "correlation": "Pearson (Eq. 16) per sample over the 600 hidden neurons, SNN rate "
        "vs ANN rate",
        "sweeps": f"first {plan.n_sweep} test images, weights as trained (direct mapping); "
        f"coding range f_max ∈ {plan.rates} Hz at g_l = 0; g_l ∈ {plan.leaks} S at f_max = "
        f"{plan.leak_rate:g} Hz; T = {STEPS * DT:g} s",
        "backend": ctx.backend,
    }


def _summary(r: dict[str, Any]) -> dict[str, float]:
    """A sweep row as the figures and the table read it."""
    return {
        "max_rate": float(r["max_rate"]),
        "g_l": float(r["g_l"]),
        "acc_snn": float(r["snn_accuracy"]),
        "acc_ann": float(r["ann_accuracy"]),
        "agreement": float(r["agreement"]),
        "spikes_per_neuron": float(r["spikes_per_neuron"]),
    }
