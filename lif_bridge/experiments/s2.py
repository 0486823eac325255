"""S2 — one neuron, inputs at different rates (Lu & Xu §5.2, Fig. 8A–C and 9, Table 3).

The Table 3 neuron (as Table 2, inputs up to 60 Hz) with its two inputs at different rates:
along the ray ``(f, ρ·f)``, f ∈ [1, 60] Hz, and at random rate pairs; the leak against the onset
and the capacitance against the slope along the ray; and a three-input neuron at random rate
triples (Fig. 9). The mapping is exact only for equal input rates (§5.5), so this is where its
error shows: every figure puts the ReLU next to the exact Linear LIF and reset-to-zero rates.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lif_bridge.experiments import plots
from lif_bridge.experiments._common import Context, Stopwatch, row
from lif_bridge.experiments.single import TABLE2, clock_rates, measure_onset, measure_slope
from lif_bridge.mapping import lif_to_relu
from lif_bridge.transfer import lif_rate

__all__ = ["RATIO", "THREE_INPUT_WEIGHTS", "run"]

#: Rate of input 2 relative to input 1 along the ray (the paper does not give its rates).
RATIO = 0.7
#: Weights of the three-input case (the paper's Fig. 9 does not give them).
THREE_INPUT_WEIGHTS = (0.3, 0.2, 0.1)
#: The paper's Table 3 bias (typed in).
PAPER_BIAS = -2.16


def _rates(w: np.ndarray, pts: np.ndarray, reset: str, g_l: float, duration: float) -> np.ndarray:
    return np.array([lif_rate(w, p, g_l=g_l, reset=reset, duration=duration) for p in pts])


def _stats(out: np.ndarray, relu: np.ndarray) -> dict[str, float]:
    err = out - relu
    return {
        "mean_abs": float(np.mean(np.abs(err))),
        "max_abs": float(np.max(np.abs(err))),
        "mean_signed": float(np.mean(err)),
        "corr": float(np.corrcoef(out, relu)[0, 1]),
    }


def run(ctx: Context) -> dict[str, Any]:
    """Run S2; returns the result dict."""
    clock = Stopwatch()
    rng = np.random.default_rng(ctx.seed)
    w = np.asarray(TABLE2["weights"], dtype=np.float64)
    g_l = float(TABLE2["g_l"])  # type: ignore[arg-type]
    duration = ctx.pick(100.0, 20.0)
    direction = np.array([1.0, RATIO])
    f = np.arange(1.0, 60.0 + 1e-9, ctx.pick(0.5, 2.0))
    n_random = ctx.pick(200, 30)
    clock_f = np.arange(2.0, 60.0 + 1e-9, ctx.pick(4.0, 14.5))
    clock_T = ctx.pick(5.0, 0.5)
    g_sweep = np.array(ctx.pick([0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 3.0]))
    c_sweep = np.array(ctx.pick([0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0], [1.0, 2.0]))
    slope_f = np.arange(30.0, 60.0 + 1e-9, ctx.pick(2.0, 10.0))

    b = lif_to_relu(w, g_l).bias  # the equal-rate mapping, used for every input mix
    ray = f[:, None] * direction[None, :]
    relu_ray = np.maximum(0.0, ray @ w + b)
    ray_out = {r: _rates(w, ray, r, g_l, duration) for r in ("subtract", "zero")}

    pairs = rng.uniform(1.0, 60.0, size=(n_random, 2))
    relu_pairs = np.maximum(0.0, pairs @ w + b)
    pair_out = {r: _rates(w, pairs, r, g_l, duration) for r in ("subtract", "zero")}

    w3 = np.asarray(THREE_INPUT_WEIGHTS, dtype=np.float64)
    b3 = lif_to_relu(w3, g_l).bias
    triples = rng.uniform(1.0, 60.0, size=(n_random, 3))
    relu3 = np.maximum(0.0, triples @ w3 + b3)
    out3 = {r: _rates(w3, triples, r, g_l, duration) for r in ("subtract", "zero")}

    # Onset along the ray vs the ReLU's zero crossing, over g_l.
    onset_g = np.array(
        [measure_onset(w, direction, g_l=g, duration=duration, hi=120.0) for g in g_sweep]
    )
    relu_onset = np.array([-lif_to_relu(w, g).bias / float(w @ direction) for g in g_sweep])
    # Slope along the ray over C_m.
    k_c = {
        r: np.array(
            [
                measure_slope(w, direction, slope_f, g_l=g_l, c_m=c, reset=r, duration=duration)
                for c in c_sweep
            ]
        )
        for r in ("subtract", "zero")
    }
    k_theory = 1.0 / c_sweep

    pts = clock_f[:, None] * direction[None, :]
    clock_out = {
        r: clock_rates(w, pts, g_l=g_l, reset=r, dt=1e-4, duration=clock_T, backend=ctx.backend)
        for r in ("subtract", "zero")
    }
    exact_T = {r: _rates(w, pts, r, g_l, clock_T) for r in ("subtract", "zero")}
    clock_diff = max(float(np.max(np.abs(clock_out[r] - exact_T[r]))) for r in clock_out)

    s_ray = {r: _stats(ray_out[r], relu_ray) for r in ray_out}
    s_pairs = {r: _stats(pair_out[r], relu_pairs) for r in pair_out}
    s3 = {r: _stats(out3[r], relu3) for r in out3}
    figs = _figures(
        ctx,
        f,
        relu_ray,
        ray_out,
        clock_f,
        clock_out,
        relu_pairs,
        pair_out,
        relu3,
        out3,
        g_sweep,
        onset_g,
        relu_onset,
        c_sweep,
        k_c,
        k_theory,
        b,
    )

    table = [
        row(
            "ReLU bias b of the leak mapping [A]",
            b,
            paper=PAPER_BIAS,
            spec=-2.1640,
            note="lif_to_relu (computed, not measured)",
        )
    ]
    for label, stats in (
        (f"ray (f, {RATIO}·f), f = 1–60 Hz", s_ray),
        (f"{n_random} random pairs in [1, 60]² Hz", s_pairs),
        (f"3 inputs w = {list(THREE_INPUT_WEIGHTS)}, {n_random} random triples", s3),
    ):
        for r, name in (("subtract", "Linear LIF"), ("zero", "reset-to-zero")):
            table.append(
                row(
                    f"{label}: mean |{name} − ReLU| [Hz]",
                    stats[r]["mean_abs"],
                    paper="“fits well”" if r == "subtract" else "“error”",
                )
            )
            table.append(row(f"{label}: max |{name} − ReLU| [Hz]", stats[r]["max_abs"]))
            table.append(row(f"{label}: Pearson ρ({name}, ReLU)", stats[r]["corr"]))
    table += [
        row(
            "max |onset along the ray − ReLU zero crossing| over g_l [Hz]",
            float(np.nanmax(np.abs(onset_g - relu_onset))),
            note="exact only for equal rates (§5.5)",
        ),
        row(
            "max |k/(1/C_m) − 1| along the ray, Linear LIF",
            float(np.max(np.abs(k_c["subtract"] / k_theory - 1))),
        ),
        row(
            "max |k/(1/C_m) − 1| along the ray, reset-to-zero",
            float(np.max(np.abs(k_c["zero"] / k_theory - 1))),
        ),
        row(
            f"max |clock-driven − exact| (dt = 1e-4 s, T = {clock_T:g} s) [Hz]",
            clock_diff,
            note=f"{ctx.backend} backend; 1/T = {1 / clock_T:g} Hz",
        ),
    ]
    return {
        "id": "S2",
        "title": "Single neuron, inputs at different rates (Fig. 8, Fig. 9, Table 3)",
        "settings": {
            "weights (2 inputs)": w.tolist(),
            "weights (3 inputs)": list(THREE_INPUT_WEIGHTS),
            "g_l [S]": g_l,
            "C_m [F], V_th [V]": "1, 1",
            "ray": f"input rates (f, {RATIO}·f), f = {f[0]:g}–{f[-1]:g} Hz step {f[1] - f[0]:g}",
            "random points": f"{n_random} pairs and {n_random} triples, uniform in [1, 60] Hz, "
            f"numpy default_rng({ctx.seed})",
            "exact transfer window T [s]": duration,
            "g_l sweep [S]": g_sweep.tolist(),
            "C_m sweep [F]": c_sweep.tolist(),
            "slope fit range (f of input 1) [Hz]": f"{slope_f[0]:g}–{slope_f[-1]:g}",
            "clock-driven check": f"{ctx.backend} backend, dt = 1e-4 s, T = {clock_T:g} s",
            "ReLU reference": "k·max(0, Σ w_i f_i + b), b from the equal-rate leak mapping",
        },
        "table": table,
        "figures": figs,
        "data": {
            "f": f,
            "relu_ray": relu_ray,
            "linear_ray": ray_out["subtract"],
            "zero_ray": ray_out["zero"],
            "stats_ray": s_ray,
            "stats_pairs": s_pairs,
            "stats_three": s3,
            "g_sweep": g_sweep,
            "onset_ray": onset_g,
            "relu_onset_ray": relu_onset,
            "c_sweep": c_sweep,
            "slope_c_linear": k_c["subtract"],
            "slope_c_zero": k_c["zero"],
            "clock_max_diff": clock_diff,
        },
        "notes": [
            f"The paper does not state the rates of its different-rate inputs nor the weights of "
            f"the three-input case; the ray ratio {RATIO} and weights {list(THREE_INPUT_WEIGHTS)} "
            "are this reproduction's choice.",
        ],
        "seconds": clock.seconds,
    }


def _figures(
    ctx: Context,
    f: np.ndarray,
    relu_ray: np.ndarray,
    ray_out: dict,
    clock_f: np.ndarray,
    clock_out: dict,
    relu_pairs: np.ndarray,
    pair_out: dict,
    relu3: np.ndarray,
    out3: dict,
    g_sweep: np.ndarray,
    onset_g: np.ndarray,
    relu_onset: np.ndarray,
    c_sweep: np.ndarray,
    k_c: dict,
    k_theory: np.ndarray,
    b: float,
) -> list[str]:
    out = ctx.out_dir
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
    plots.plot_curves(
        out / "s2_leak_onset.png",
        [
            {"x": g_sweep, "y": relu_onset, "label": "ReLU zero crossing (mapped b)", "fmt": "k--"},
            {
                "x": g_sweep,
                "y": onset_g,
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
        c_sweep,
        k_theory,
        k_c,
        theory_label="k = 1/(V_th·C_m)",
        measured="",
        ylabel="slope k (measured along the ray)",
        title="S2 (cf. Fig. 8C): capacitance ↔ slope with different input rates",
    )
    plots.plot_scatter(
        out / "s2_random_pairs.png",
        relu_pairs,
        [
            {"y": pair_out["subtract"], "label": "Linear LIF", "fmt": "o"},
            {"y": pair_out["zero"], "label": "reset-to-zero LIF", "fmt": "s"},
        ],
        xlabel="ReLU output [Hz]",
        ylabel="LIF output rate [Hz] (exact)",
        title="S2: random pairs of input rates in [1, 60] Hz",
    )
    plots.plot_scatter(
        out / "s2_three_inputs.png",
        relu3,
        [
            {"y": out3["subtract"], "label": "Linear LIF", "fmt": "o"},
            {"y": out3["zero"], "label": "reset-to-zero LIF", "fmt": "s"},
        ],
        xlabel="ReLU output [Hz]",
        ylabel="LIF output rate [Hz] (exact)",
        title=f"S2 (cf. Fig. 9): three inputs, w = {list(THREE_INPUT_WEIGHTS)}",
    )
    return [
        "s2_transfer.png",
        "s2_leak_onset.png",
        "s2_capacitance_slope.png",
        "s2_random_pairs.png",
        "s2_three_inputs.png",
    ]
