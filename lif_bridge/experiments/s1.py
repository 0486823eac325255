"""S1 — one neuron, two inputs at the same rate (Lu & Xu §5.1, Fig. 7A–C, Table 2).

The Table 2 neuron (w = [0.3, 0.2], g_l = 3, C_m = V_th = 1) driven by two regular trains of
the same rate f ∈ [1, 30] Hz: Linear LIF, reset-to-zero LIF, IF (g_l = 0) and the ReLU the
mapping promises, all from the exact event-driven transfer; a clock-driven run of the same
neuron on a backend (dt = 1e-4 s) as a cross-check; the leak g_l against the bias (onset) and
the capacitance C_m against the slope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.experiments import plots
from lif_bridge.experiments._common import Context, Stopwatch, row
from lif_bridge.experiments.single import TABLE2, clock_rates, measure_onset, measure_slope
from lif_bridge.mapping import lif_to_relu, onset_rate
from lif_bridge.transfer import lif_rate, transfer_curve

__all__ = ["PAPER", "SPEC_TABLE", "run"]

#: The paper's numbers (Table 2, Eq. 15), typed in as references only.
PAPER: dict[str, float] = {"bias": -2.16, "slope": 1.0}

#: The spec's exact-transfer table (mapping.md §3): f -> (ReLU, Linear LIF, reset-to-zero, IF).
SPEC_TABLE: dict[float, tuple[float, float, float, float]] = {
    4.4: (0.036, 0.62, 0.62, 2.2),
    10.0: (2.84, 3.57, 3.33, 5.0),
    30.0: (12.84, 13.63, 10.0, 15.0),
    60.0: (27.84, 28.63, 20.0, 30.0),
}
#: The spec's onset and bias for the Table 2 neuron.
SPEC_ONSET = 4.3281
SPEC_BIAS = -2.1640
#: The spec's effective offset of the Linear LIF at high rates.
SPEC_OFFSET = -1.37


RESETS = ("subtract", "zero")


@dataclass(frozen=True)
class _Settings:
    """What S1 sweeps (full run or ``--quick``)."""

    w: np.ndarray
    g_l: float
    c_m: float
    v_th: float
    duration: float  # window of the exact transfer [s]
    f: np.ndarray  # input rates of the transfer curves [Hz]
    clock_f: np.ndarray  # input rates of the clock-driven check [Hz]
    clock_window: float  # window of the clock-driven check [s]
    g_sweep: np.ndarray
    c_sweep: np.ndarray
    slope_f: np.ndarray  # rates of the slope fit [Hz]

    @property
    def neuron(self) -> dict[str, float]:
        """Keyword arguments of the Table 2 neuron for the transfer functions."""
        return {"g_l": self.g_l, "c_m": self.c_m, "v_th": self.v_th, "duration": self.duration}


@dataclass
class _Measured:
    """Everything S1 measures; filled step by step."""

    curves: dict[str, Any] = field(default_factory=dict)  # reset -> exact transfer curve
    if_curve: Any = None
    onset: float = 0.0
    onset_zero: float = 0.0
    k_lin: float = 0.0
    k_zero: float = 0.0
    spec_table: dict[float, tuple[float, float, float, float]] = field(default_factory=dict)
    offset: float = 0.0
    onset_g: np.ndarray = field(default_factory=lambda: np.zeros(0))
    onset_theory: np.ndarray = field(default_factory=lambda: np.zeros(0))
    k_c: dict[str, np.ndarray] = field(default_factory=dict)
    k_theory: np.ndarray = field(default_factory=lambda: np.zeros(0))
    clock_out: dict[str, np.ndarray] = field(default_factory=dict)
    clock_diff: float = 0.0

    @property
    def relu(self) -> np.ndarray:
        """The ReLU the mapping promises, on the transfer rates."""
        return self.curves["subtract"].relu

    @property
    def bias(self) -> Any:
        """The ReLU bias the leak maps to [A]."""
        return self.curves["subtract"].bias


def run(ctx: Context) -> dict[str, Any]:
    """Run S1; returns the result dict (settings, comparison table, figures, data)."""
    clock = Stopwatch()
    s = _settings(ctx)
    m = _Measured()
    _measure_transfer(s, m)
    _measure_spec_table(s, m)
    _measure_leak_and_capacitance(s, m)
    _measure_clock_driven(s, m, ctx.backend)
    figs = _figures(ctx, s, m)
    return {
        "id": "S1",
        "title": "Single neuron, two inputs at the same rate (Fig. 7, Table 2)",
        "settings": _settings_text(s, m, ctx.backend),
        "table": _table(s, m, ctx.backend),
        "figures": figs,
        "data": _data(s, m),
        "notes": [
            "Rates are exact (event-driven, continuous time) over the window T; the clock-driven "
            "run puts the input spikes on a 0.1 ms grid, so it differs by grid effects and 1/T.",
            "The ReLU curve uses the bias the leak maps to (lif_to_relu), b = −Σw·f_min.",
        ],
        "seconds": clock.seconds,
    }


def _settings(ctx: Context) -> _Settings:
    return _Settings(
        w=np.asarray(TABLE2["weights"], dtype=np.float64),
        g_l=float(TABLE2["g_l"]),  # type: ignore[arg-type]
        c_m=float(TABLE2["c_m"]),  # type: ignore[arg-type]
        v_th=float(TABLE2["v_th"]),  # type: ignore[arg-type]
        duration=ctx.pick(200.0, 50.0),
        f=np.arange(1.0, 30.0 + 1e-9, ctx.pick(0.25, 1.0)),
        clock_f=np.arange(1.0, 30.0 + 1e-9, ctx.pick(1.0, 5.0)),
        clock_window=ctx.pick(5.0, 0.5),
        g_sweep=np.array(ctx.pick([0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [1.0, 3.0])),
        c_sweep=np.array(ctx.pick([0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 4.0], [1.0, 2.0])),
        slope_f=np.arange(15.0, 30.0 + 1e-9, ctx.pick(1.0, 5.0)),
    )


def _measure_transfer(s: _Settings, m: _Measured) -> None:
    """Exact transfer curves (Linear LIF, reset-to-zero, IF), onsets and slopes."""
    w, n = s.w, s.neuron
    m.curves = {reset: transfer_curve(w, s.f, reset=reset, **n) for reset in RESETS}
    m.if_curve = transfer_curve(w, s.f, **{**n, "g_l": 0.0})
    m.onset = measure_onset(w, [1.0, 1.0], **n)
    m.onset_zero = measure_onset(w, [1.0, 1.0], reset="zero", **n)
    m.k_lin = measure_slope(w, [1, 1], s.slope_f, **n)
    m.k_zero = measure_slope(w, [1, 1], s.slope_f, reset="zero", **n)


def _measure_spec_table(s: _Settings, m: _Measured) -> None:
    """The rates of the spec's table (ReLU, Linear LIF, reset-to-zero, IF) and the offset."""
    w, n = s.w, s.neuron
    for fi in sorted(SPEC_TABLE):
        m.spec_table[fi] = (
            max(0.0, float(w.sum()) * fi + m.bias) / (s.v_th * s.c_m),
            lif_rate(w, fi, **n),
            lif_rate(w, fi, reset="zero", **n),
            lif_rate(w, fi, **{**n, "g_l": 0.0}),
        )
    hi_f = max(SPEC_TABLE)
    m.offset = m.spec_table[hi_f][1] * s.v_th * s.c_m - float(w.sum()) * hi_f


def _measure_leak_and_capacitance(s: _Settings, m: _Measured) -> None:
    """g_l ↔ bias: measured onset against Eq. (12); C_m ↔ slope against Eq. (15)."""
    w, n = s.w, s.neuron
    m.onset_g = np.array([measure_onset(w, [1, 1], **{**n, "g_l": g}) for g in s.g_sweep])
    m.onset_theory = np.array([onset_rate(float(w.sum()), g, s.v_th, s.c_m) for g in s.g_sweep])
    m.k_c = {
        reset: np.array(
            [measure_slope(w, [1, 1], s.slope_f, reset=reset, **{**n, "c_m": c}) for c in s.c_sweep]
        )
        for reset in RESETS
    }
    m.k_theory = 1.0 / (s.v_th * s.c_sweep)


def _measure_clock_driven(s: _Settings, m: _Measured, backend: str) -> None:
    """Clock-driven runs on a backend (dt = 1e-4 s) against the exact rates over the same T."""
    pts = np.repeat(s.clock_f[:, None], 2, axis=1)
    neuron = {"g_l": s.g_l, "c_m": s.c_m, "v_th": s.v_th}
    m.clock_out = {
        reset: clock_rates(
            s.w, pts, **neuron, reset=reset, dt=1e-4, duration=s.clock_window, backend=backend
        )
        for reset in RESETS
    }
    exact_T = {
        reset: np.array(
            [lif_rate(s.w, fi, **neuron, reset=reset, duration=s.clock_window) for fi in s.clock_f]
        )
        for reset in RESETS
    }
    m.clock_diff = max(float(np.max(np.abs(m.clock_out[r] - exact_T[r]))) for r in m.clock_out)


def _table(s: _Settings, m: _Measured, backend: str) -> list[dict[str, Any]]:
    """The comparison table: onsets, bias, slopes, the spec's rates, worst errors."""
    w = s.w
    table = [
        row(
            "firing onset f_min [Hz], Linear LIF",
            m.onset,
            paper=round(-PAPER["bias"] / 0.5, 2),
            spec=SPEC_ONSET,
            note="paper: implied by b = −2.16 and Σw = 0.5",
        ),
        row(
            "firing onset f_min [Hz], reset-to-zero",
            m.onset_zero,
            spec=SPEC_ONSET,
            note="same sub-threshold dynamics",
        ),
        row(
            "ReLU bias b = −Σw·f_min [A] (measured onset)",
            -float(w.sum()) * m.onset,
            paper=PAPER["bias"],
            spec=SPEC_BIAS,
        ),
        row(
            "slope k, Linear LIF (fit 15–30 Hz)",
            m.k_lin,
            paper=PAPER["slope"],
            spec=1.0,
            note="k = 1/(V_th·C_m), Eq. 15",
        ),
        row(
            "slope k, reset-to-zero (fit 15–30 Hz)",
            m.k_zero,
            paper="< 1 (Fig. 7C)",
            spec=round((20.0 - 10.0) / 30.0 / 0.5, 3),
        ),
    ]
    names = ("ReLU", "Linear LIF", "reset-to-zero", "IF (g_l = 0)")
    for fi in sorted(SPEC_TABLE):
        for j, name in enumerate(names):
            table.append(
                row(
                    f"rate at f = {fi:g} Hz, {name} [Hz]",
                    m.spec_table[fi][j],
                    spec=SPEC_TABLE[fi][j],
                )
            )
    err_lin = m.curves["subtract"].rates_out - m.relu
    err_zero = m.curves["zero"].rates_out - m.relu
    table += [
        row(
            f"effective offset of the Linear LIF at {max(SPEC_TABLE):g} Hz [A]",
            m.offset,
            spec=SPEC_OFFSET,
            note="vs mapped b = −2.164: the Linear LIF sits above the ReLU at high rates",
        ),
        row("max |Linear LIF − ReLU| over 1–30 Hz [Hz]", float(np.max(np.abs(err_lin)))),
        row("max |reset-to-zero − ReLU| over 1–30 Hz [Hz]", float(np.max(np.abs(err_zero)))),
        row(
            "max |onset − Eq. 12| over the g_l sweep [Hz]",
            float(np.max(np.abs(m.onset_g - m.onset_theory))),
        ),
        row(
            "max |k/(1/C_m) − 1| over the C_m sweep, Linear LIF",
            float(np.max(np.abs(m.k_c["subtract"] / m.k_theory - 1))),
        ),
        row(
            "max |k/(1/C_m) − 1| over the C_m sweep, reset-to-zero",
            float(np.max(np.abs(m.k_c["zero"] / m.k_theory - 1))),
        ),
        row(
            f"max |clock-driven − exact| (dt = 1e-4 s, T = {s.clock_window:g} s) [Hz]",
            m.clock_diff,
            note=f"{backend} backend; 1/T = {1 / s.clock_window:g} Hz",
        ),
    ]
    return table


def _settings_text(s: _Settings, m: _Measured, backend: str) -> dict[str, Any]:
    return {
        "weights": s.w.tolist(),
        "g_l [S]": s.g_l,
        "C_m [F]": s.c_m,
        "V_th [V]": s.v_th,
        "input rates [Hz]": f"{s.f[0]:g}–{s.f[-1]:g}, step {s.f[1] - s.f[0]:g}",
        "exact transfer window T [s]": s.duration,
        "mapped ReLU bias b [A]": m.bias,
        "g_l sweep [S]": s.g_sweep.tolist(),
        "C_m sweep [F]": s.c_sweep.tolist(),
        "slope fit range [Hz]": f"{s.slope_f[0]:g}–{s.slope_f[-1]:g}",
        "clock-driven check": f"{backend} backend, dt = 1e-4 s, T = {s.clock_window:g} s, "
        f"{len(s.clock_f)} rates",
        "mapping check": f"lif_to_relu -> b = {lif_to_relu(s.w, s.g_l).bias:.4f}",
    }


def _data(s: _Settings, m: _Measured) -> dict[str, Any]:
    return {
        "f": s.f,
        "relu": m.relu,
        "linear": m.curves["subtract"].rates_out,
        "reset_to_zero": m.curves["zero"].rates_out,
        "if": m.if_curve.rates_out,
        "onset": m.onset,
        "slope_linear": m.k_lin,
        "slope_zero": m.k_zero,
        "spec_table_measured": {str(k): v for k, v in m.spec_table.items()},
        "g_sweep": s.g_sweep,
        "onset_g": m.onset_g,
        "onset_theory": m.onset_theory,
        "c_sweep": s.c_sweep,
        "slope_c_linear": m.k_c["subtract"],
        "slope_c_zero": m.k_c["zero"],
        "clock_f": s.clock_f,
        "clock_linear": m.clock_out["subtract"],
        "clock_zero": m.clock_out["zero"],
        "clock_max_diff": m.clock_diff,
    }


def _figures(ctx: Context, s: _Settings, m: _Measured) -> list[str]:
    """The three figures of Fig. 7 (A: transfer, B: leak ↔ bias, C: capacitance ↔ slope)."""
    _figure_transfer(ctx, s, m)
    _figure_leak_bias(ctx, s, m)
    plots.plot_slopes(
        ctx.out_dir / "s1_capacitance_slope.png",
        s.c_sweep,
        m.k_theory,
        m.k_c,
        theory_label="k = 1/(V_th·C_m), Eq. 15",
        measured=" (measured)",
        ylabel="slope k",
        title="S1 (cf. Fig. 7C): capacitance C_m ↔ slope k",
    )
    return ["s1_transfer.png", "s1_leak_bias.png", "s1_capacitance_slope.png"]


def _figure_transfer(ctx: Context, s: _Settings, m: _Measured) -> None:
    f, relu = s.f, m.relu
    lin, zero = m.curves["subtract"].rates_out, m.curves["zero"].rates_out
    exact = [
        ("Linear LIF (exact)", lin, "-", "C2"),
        ("reset-to-zero LIF (exact)", zero, "-", "C3"),
        ("IF, g_l = 0 (exact)", m.if_curve.rates_out, ":", "C7"),
    ]
    clocked = [
        ("Linear LIF, clock dt = 0.1 ms", m.clock_out["subtract"], "o", "C2"),
        ("reset-to-zero, clock dt = 0.1 ms", m.clock_out["zero"], "s", "C3"),
    ]
    plots.plot_curves(
        ctx.out_dir / "s1_transfer.png",
        [
            {"x": f, "y": relu, "label": f"ReLU 0.5·f {m.bias:+.3f}", "fmt": "k--"},
            *(
                {"x": f, "y": y, "label": lab, "fmt": fmt, "kw": {"color": c}}
                for lab, y, fmt, c in exact
            ),
            *(
                {
                    "x": s.clock_f,
                    "y": y,
                    "label": lab,
                    "fmt": fmt,
                    "kw": {"color": c, "ms": 4, "mfc": "none"},
                }
                for lab, y, fmt, c in clocked
            ),
        ],
        lower=[
            {"x": f, "y": lin - relu, "label": "Linear LIF − ReLU", "kw": {"color": "C2"}},
            {"x": f, "y": zero - relu, "label": "reset-to-zero − ReLU", "kw": {"color": "C3"}},
        ],
        xlabel="input rate f of both inputs [Hz]",
        ylabel="output rate [Hz]",
        lower_ylabel="error [Hz]",
        title="S1 (cf. Fig. 7A): w = [0.3, 0.2], g_l = 3, C_m = V_th = 1",
    )


def _figure_leak_bias(ctx: Context, s: _Settings, m: _Measured) -> None:
    total = s.w.sum()
    plots.plot_curves(
        ctx.out_dir / "s1_leak_bias.png",
        [
            {
                "x": s.g_sweep,
                "y": -total * m.onset_theory,
                "label": "b = −Σw·f_min, Eq. 12",
                "fmt": "k--",
            },
            {
                "x": s.g_sweep,
                "y": -total * m.onset_g,
                "label": "b from the measured onset",
                "fmt": "o",
                "kw": {"color": "C2"},
            },
        ],
        xlabel="leak conductance g_l [S]",
        ylabel="ReLU bias b [A]",
        title="S1 (cf. Fig. 7B): leak g_l ↔ bias b (onset measured on the exact transfer)",
    )
