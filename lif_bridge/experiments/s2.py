"""S2 — one neuron, inputs at different rates (Lu & Xu §5.2, Fig. 8A–C and 9, Table 3).

The Table 3 neuron (as Table 2, inputs up to 60 Hz) with its two inputs at different rates:
along the ray ``(f, ρ·f)``, f ∈ [1, 60] Hz, and at random rate pairs; the leak against the onset
and the capacitance against the slope along the ray; and a three-input neuron at random rate
triples (Fig. 9). The mapping is exact only for equal input rates (§5.5), so this is where its
error shows: every figure puts the ReLU next to the exact Linear LIF and reset-to-zero rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lif_bridge.experiments import s2_figures
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


RESETS = ("subtract", "zero")


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


@dataclass(frozen=True)
class Settings:
    """What S2 sweeps (full run or ``--quick``)."""

    w: np.ndarray
    g_l: float
    duration: float  # window of the exact transfer [s]
    f: np.ndarray  # rates of input 1 along the ray [Hz]
    n_random: int  # random pairs and triples
    clock_f: np.ndarray
    clock_window: float  # window of the clock-driven check [s]
    g_sweep: np.ndarray
    c_sweep: np.ndarray
    slope_f: np.ndarray

    @property
    def direction(self) -> np.ndarray:
        """Input rates per unit rate of input 1 along the ray: ``(1, RATIO)``."""
        return np.array([1.0, RATIO])

    @staticmethod
    def of(ctx: Context) -> Settings:
        return Settings(
            w=np.asarray(TABLE2["weights"], dtype=np.float64),
            g_l=float(TABLE2["g_l"]),  # type: ignore[arg-type]
            duration=ctx.pick(100.0, 20.0),
            f=np.arange(1.0, 60.0 + 1e-9, ctx.pick(0.5, 2.0)),
            n_random=ctx.pick(200, 30),
            clock_f=np.arange(2.0, 60.0 + 1e-9, ctx.pick(4.0, 14.5)),
            clock_window=ctx.pick(5.0, 0.5),
            g_sweep=np.array(ctx.pick([0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 3.0])),
            c_sweep=np.array(ctx.pick([0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0], [1.0, 2.0])),
            slope_f=np.arange(30.0, 60.0 + 1e-9, ctx.pick(2.0, 10.0)),
        )


@dataclass(frozen=True)
class Case:
    """One input mix: the ReLU the mapping promises and the exact LIF rates (reset -> rates)."""

    relu: np.ndarray
    out: dict[str, np.ndarray]

    @property
    def stats(self) -> dict[str, dict[str, float]]:
        return {r: _stats(self.out[r], self.relu) for r in self.out}


def _case(w: np.ndarray, pts: np.ndarray, s: Settings) -> Case:
    """Exact rates at the input-rate points ``pts`` against ``max(0, pts·w + b)``."""
    b = lif_to_relu(w, s.g_l).bias  # the equal-rate mapping, used for every input mix
    relu = np.maximum(0.0, pts @ w + b)
    return Case(relu, {r: _rates(w, pts, r, s.g_l, s.duration) for r in RESETS})


def run(ctx: Context) -> dict[str, Any]:
    """Run S2; returns the result dict."""
    clock = Stopwatch()
    rng = np.random.default_rng(ctx.seed)
    s = Settings.of(ctx)
    w3 = np.asarray(THREE_INPUT_WEIGHTS, dtype=np.float64)
    ray = _case(s.w, s.f[:, None] * s.direction[None, :], s)
    pairs = _case(s.w, rng.uniform(1.0, 60.0, size=(s.n_random, 2)), s)
    three = _case(w3, rng.uniform(1.0, 60.0, size=(s.n_random, 3)), s)
    sweeps = _leak_and_capacitance(s)
    clock_out, clock_diff = _clock_driven(s, ctx.backend)
    b = lif_to_relu(s.w, s.g_l).bias
    figs = _figures(ctx, s, b, ray, pairs, three, sweeps, clock_out)
    return {
        "id": "S2",
        "title": "Single neuron, inputs at different rates (Fig. 8, Fig. 9, Table 3)",
        "settings": _settings_text(s, ctx),
        "table": _table(s, b, ray, pairs, three, sweeps, clock_diff, ctx.backend),
        "figures": figs,
        "data": {
            "f": s.f,
            "relu_ray": ray.relu,
            "linear_ray": ray.out["subtract"],
            "zero_ray": ray.out["zero"],
            "stats_ray": ray.stats,
            "stats_pairs": pairs.stats,
            "stats_three": three.stats,
            "g_sweep": s.g_sweep,
            "onset_ray": sweeps["onset_g"],
            "relu_onset_ray": sweeps["relu_onset"],
            "c_sweep": s.c_sweep,
            "slope_c_linear": sweeps["k_c"]["subtract"],
            "slope_c_zero": sweeps["k_c"]["zero"],
            "clock_max_diff": clock_diff,
        },
        "notes": [
            f"The paper does not state the rates of its different-rate inputs nor the weights of "
            f"the three-input case; the ray ratio {RATIO} and weights {list(THREE_INPUT_WEIGHTS)} "
            "are this reproduction's choice.",
        ],
        "seconds": clock.seconds,
    }


def _leak_and_capacitance(s: Settings) -> dict[str, Any]:
    """Onset along the ray vs the ReLU's zero crossing over g_l; slope along the ray over C_m."""
    w, d = s.w, s.direction
    k_c = {
        r: np.array(
            [
                measure_slope(w, d, s.slope_f, g_l=s.g_l, c_m=c, reset=r, duration=s.duration)
                for c in s.c_sweep
            ]
        )
        for r in RESETS
    }
    return {
        "onset_g": np.array(
            [measure_onset(w, d, g_l=g, duration=s.duration, hi=120.0) for g in s.g_sweep]
        ),
        "relu_onset": np.array([-lif_to_relu(w, g).bias / float(w @ d) for g in s.g_sweep]),
        "k_c": k_c,
        "k_theory": 1.0 / s.c_sweep,
    }


def _clock_driven(s: Settings, backend: str) -> tuple[dict[str, np.ndarray], float]:
    """Clock-driven rates along the ray (dt = 1e-4 s) and their worst gap to the exact ones."""
    pts = s.clock_f[:, None] * s.direction[None, :]
    T = s.clock_window
    clock_out = {
        r: clock_rates(s.w, pts, g_l=s.g_l, reset=r, dt=1e-4, duration=T, backend=backend)
        for r in RESETS
    }
    exact = {r: _rates(s.w, pts, r, s.g_l, T) for r in RESETS}
    return clock_out, max(float(np.max(np.abs(clock_out[r] - exact[r]))) for r in clock_out)


def _table(
    s: Settings,
    b: float,
    ray: Case,
    pairs: Case,
    three: Case,
    sweeps: dict[str, Any],
    clock_diff: float,
    backend: str,
) -> list[dict[str, Any]]:
    """The comparison table: the mapped bias, errors per input mix, onset, slope, clock."""
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
        (f"ray (f, {RATIO}·f), f = 1–60 Hz", ray.stats),
        (f"{s.n_random} random pairs in [1, 60]² Hz", pairs.stats),
        (f"3 inputs w = {list(THREE_INPUT_WEIGHTS)}, {s.n_random} random triples", three.stats),
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
    k_c, k_theory = sweeps["k_c"], sweeps["k_theory"]
    table += [
        row(
            "max |onset along the ray − ReLU zero crossing| over g_l [Hz]",
            float(np.nanmax(np.abs(sweeps["onset_g"] - sweeps["relu_onset"]))),
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
            f"max |clock-driven − exact| (dt = 1e-4 s, T = {s.clock_window:g} s) [Hz]",
            clock_diff,
            note=f"{backend} backend; 1/T = {1 / s.clock_window:g} Hz",
        ),
    ]
    return table


def _settings_text(s: Settings, ctx: Context) -> dict[str, Any]:
    f = s.f
    return {
        "weights (2 inputs)": s.w.tolist(),
        "weights (3 inputs)": list(THREE_INPUT_WEIGHTS),
        "g_l [S]": s.g_l,
        "C_m [F], V_th [V]": "1, 1",
        "ray": f"input rates (f, {RATIO}·f), f = {f[0]:g}–{f[-1]:g} Hz step {f[1] - f[0]:g}",
        "random points": f"{s.n_random} pairs and {s.n_random} triples, uniform in [1, 60] Hz, "
        f"numpy default_rng({ctx.seed})",
        "exact transfer window T [s]": s.duration,
        "g_l sweep [S]": s.g_sweep.tolist(),
        "C_m sweep [F]": s.c_sweep.tolist(),
        "slope fit range (f of input 1) [Hz]": f"{s.slope_f[0]:g}–{s.slope_f[-1]:g}",
        "clock-driven check": f"{ctx.backend} backend, dt = 1e-4 s, T = {s.clock_window:g} s",
        "ReLU reference": "k·max(0, Σ w_i f_i + b), b from the equal-rate leak mapping",
    }


def _figures(
    ctx: Context,
    s: Settings,
    b: float,
    ray: Case,
    pairs: Case,
    three: Case,
    sweeps: dict[str, Any],
    clock_out: dict[str, np.ndarray],
) -> list[str]:
    """Fig. 8A–C along the ray, the random pairs, Fig. 9 (three inputs)."""
    out = ctx.out_dir
    s2_figures.plot_transfer(out, s, b, ray, clock_out)
    s2_figures.plot_parameter_sweeps(out, s, sweeps)
    s2_figures.plot_scatters(out, pairs, three)
    return [
        "s2_transfer.png",
        "s2_leak_onset.png",
        "s2_capacitance_slope.png",
        "s2_random_pairs.png",
        "s2_three_inputs.png",
    ]
