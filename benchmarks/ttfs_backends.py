"""TTFS on Brian2 and Lava against the exact reference (prints, writes JSON and figures; no test).

``brian2``: for each network, device and ``dt``, both Brian2 modes — ``interpolate`` (exact
in-step spike times) and ``grid`` (spikes on the grid) — on the first N MNIST test images:
agreement with the ANN, the largest readout error, and the spike-time error against the exact
continuous-time solution, measured on the decoded time ``t_max - t`` of every spike (window
rounding does not change it): max and mean over the spikes both fired, and the fraction of
neurons whose fired/silent status differs.

``lava``: agreement vs the number of time steps per unit of activation (``tau_c / dt``; the
steps per window are listed too), float and fixed-point models (``--fixed-bins``: the
resolutions the fixed-point model runs at; default all), and the spike-time error against the
exact solution (as for Brian2); ``--reference-bins``: resolutions measured on the reference's
grid run only (which the Lava float model equals spike for spike; cheap); ``--merge``: plot the
rows several runs printed::

    python benchmarks/ttfs_backends.py brian2 --nets paper_mlp --samples 100 --dt 1e-4 2e-5
    python benchmarks/ttfs_backends.py lava --nets paper_mlp --samples 100 --bins 2 5 10 20
    python benchmarks/ttfs_backends.py lava --merge run1.log run2.log --plot curve.png

(run the ``lava`` part with the Lava environment's Python).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

import lif_bridge as lb
from lif_bridge.data import load_mnist
from lif_bridge.ttfs import TtfsResult, convert_ttfs, graph_plan, simulate_ttfs, ttfs_coding
from lif_bridge.ttfs.semantics import decode
from lif_bridge.zoo.raw import raw_network

sys.path.insert(0, str(Path(__file__).resolve().parent))


def build(name: str, calib: np.ndarray) -> lb.Network:
    """A TTFS network by name (``bn_cnn`` needs torch)."""
    if name == "bn_cnn":
        from ttfs_acceptance import bn_cnn_raw

        return bn_cnn_raw(calib)
    return convert_ttfs(raw_network(name), calibration=calib)


def _decoded(net: lb.Network, res: TtfsResult, dt: float | None) -> dict[str, np.ndarray]:
    """Decoded time ``t_max - t`` [s] of every spike (NaN where silent), per layer."""
    tau = ttfs_coding(net).tau_c
    input_end, plan = graph_plan(net, dt)
    ends = {"input": input_end} | {
        lay.population.name: lay.t_max for lay in plan if not lay.is_output
    }
    return {
        k: np.where(np.isfinite(t), tau * decode(t, ends[k], tau), np.nan)
        for k, t in res.spike_times.items()
    }


def spike_time_error(net: lb.Network, res: TtfsResult, exact: TtfsResult) -> dict[str, float]:
    """Max and mean decoded spike-time error [s] and the fired/silent mismatch fraction."""
    a, b = _decoded(net, res, res.dt), _decoded(net, exact, None)
    diffs, mismatch, total = [], 0, 0
    for k in b:
        both = np.isfinite(a[k]) & np.isfinite(b[k])
        diffs.append(np.abs(a[k][both] - b[k][both]))
        mismatch += int((np.isfinite(a[k]) != np.isfinite(b[k])).sum())
        total += a[k].size
    d = np.concatenate(diffs)
    return {
        "max": float(d.max(initial=0.0)),
        "mean": float(d.mean()) if d.size else 0.0,
        "status_mismatch": mismatch / total,
    }


def brian2(args: argparse.Namespace, x: np.ndarray, calib: np.ndarray) -> dict[str, Any]:
    """The Brian2 measurements."""
    out: dict[str, Any] = {}
    for name in args.nets:
        net = build(name, calib)
        ann = lb.ann_forward(net, x, max_rate=1.0)
        exact = simulate_ttfs(net, x)
        rows = []
        for device in args.devices:
            for dt in args.dt:
                for interp in (m == "interpolate" for m in args.modes):
                    res = simulate_ttfs(
                        net,
                        x,
                        "brian2",
                        dt=dt,
                        interpolate=interp,
                        device=device,
                        samples_per_run=args.samples_per_run,
                    )
                    row = {
                        "device": device,
                        "dt": dt,
                        "mode": "interpolate" if interp else "grid",
                        "steps_per_unit": ttfs_coding(net).tau_c / dt,
                        "latency_steps": res.latency_steps,
                        "agreement": lb.agreement(res.output, ann).fraction,
                        "max_readout_error": float(np.abs(res.output - ann).max()),
                        "spike_time_error": spike_time_error(net, res, exact),
                        "max_spikes_per_neuron": res.spikes_per_neuron()["max"],
                        "seconds": res.seconds,
                    }
                    if not interp:
                        grid = simulate_ttfs(net, x, dt=dt)
                        row["max_readout_error_vs_reference_grid"] = float(
                            np.abs(res.output - grid.output).max()
                        )
                    rows.append(row)
                    print(name, json.dumps(row), flush=True)
        out[name] = rows
    return out


def lava(args: argparse.Namespace, x: np.ndarray, calib: np.ndarray) -> dict[str, Any]:
    """The Lava measurements: agreement vs steps per unit of activation."""
    out: dict[str, Any] = {}
    for name in args.nets:
        net = build(name, calib)
        ann = lb.ann_forward(net, x, max_rate=1.0)
        exact = simulate_ttfs(net, x)
        tau = ttfs_coding(net).tau_c
        rows = []
        for bins in sorted({*args.bins, *args.reference_bins}):
            dt = tau / bins
            _, plan = graph_plan(net, dt)
            per_window = [round((p.t_max - p.t_min) / dt) for p in plan[:-1]]
            row: dict[str, Any] = {"steps_per_unit": bins, "dt": dt, "steps_per_window": per_window}
            ref = simulate_ttfs(net, x, dt=dt)
            row["reference_grid_agreement"] = lb.agreement(ref.output, ann).fraction
            row["reference_grid_spike_time_error"] = spike_time_error(net, ref, exact)
            fixed_runs = args.fixed_bins is None or bins in args.fixed_bins
            runs = () if bins in args.reference_bins else (False, True) if fixed_runs else (False,)
            for fixed in (f for f in runs if args.precision in ("both", "fixed" if f else "float")):
                t0 = time.perf_counter()
                res = simulate_ttfs(
                    net, x, "lava", dt=dt, fixed_point=fixed, samples_per_run=args.samples_per_run
                )
                key = "fixed" if fixed else "float"
                row[f"{key}_agreement"] = lb.agreement(res.output, ann).fraction
                row[f"{key}_max_error_vs_reference_grid"] = float(
                    np.abs(res.output - ref.output).max()
                )
                row[f"{key}_seconds"] = time.perf_counter() - t0
                row[f"{key}_spike_time_error"] = spike_time_error(net, res, exact)
                row[f"{key}_max_spikes_per_neuron"] = res.spikes_per_neuron()["max"]
                row["latency_steps"] = res.latency_steps
            rows.append(row)
            print(name, json.dumps(row), flush=True)
        out[name] = rows
    return out


def plot(what: str, out: dict[str, Any], path: str) -> None:
    """Agreement (and Brian2's spike-time error) against the steps per unit of activation."""
    from lif_bridge.experiments.plots import plot_curves

    series, lower = [], []
    for name, rows in out.items():
        if what == "brian2":
            for mode in ("interpolate", "grid"):
                sel = [r for r in rows if r["mode"] == mode and r["device"] == rows[0]["device"]]
                xs = [r["steps_per_unit"] for r in sel]
                series.append(
                    {
                        "x": xs,
                        "y": [r["agreement"] for r in sel],
                        "fmt": "o-",
                        "label": f"{name}, Brian2 {mode}",
                    }
                )
                lower.append(
                    {
                        "x": xs,
                        "y": [max(r["spike_time_error"]["max"], 1e-18) for r in sel],
                        "fmt": "o-",
                        "label": f"{name} {mode}: max spike-time error [s]",
                    }
                )
        else:
            for key, label in (
                ("float", "Lava float"),
                ("fixed", "Lava fixed-point"),
                ("reference_grid", "reference, same grid"),
            ):
                sel = [r for r in rows if f"{key}_agreement" in r]
                series.append(
                    {
                        "x": [r["steps_per_unit"] for r in sel],
                        "y": [r[f"{key}_agreement"] for r in sel],
                        "fmt": "o-" if key != "reference_grid" else "k--",
                        "label": f"{name}, {label}",
                    }
                )
                if key != "fixed":  # Lava float equals the reference's grid run
                    lower.append(
                        {
                            "x": [r["steps_per_unit"] for r in sel],
                            "y": [r[f"{key}_spike_time_error"]["mean"] for r in sel],
                            "fmt": "o-" if key != "reference_grid" else "k--",
                            "label": f"{name} {label}: mean spike-time error [s]",
                        }
                    )
    plot_curves(
        path,
        series,
        lower=lower,
        lower_ylabel="spike-time error [s]",
        xlabel="time steps per unit of activation (tau_c / dt)",
        ylabel="agreement with the ANN",
        title=f"TTFS on {what}: agreement vs time resolution",
        logx=True,
        logy=False,
    )


def merge_logs(paths: list[str]) -> dict[str, Any]:
    """Rows printed by several runs (lines ``NET {json}``), per network, by resolution (the
    rows of one resolution joined, later files winning)."""
    out: dict[str, dict[float, dict[str, Any]]] = {}
    for path in paths:
        for line in Path(path).read_text().splitlines():
            name, _, doc = line.partition(" ")
            if doc.startswith("{"):
                row = json.loads(doc)  # rows of one resolution from several runs are joined
                out.setdefault(name, {}).setdefault(row["steps_per_unit"], {}).update(row)
    return {k: [v[b] for b in sorted(v)] for k, v in out.items()}


def main() -> None:
    """Parse, measure, write."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=("brian2", "lava"))
    p.add_argument("--nets", nargs="+", default=["paper_mlp"])
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--samples-per-run", type=int, default=100)
    p.add_argument("--dt", type=float, nargs="+", default=[1e-4])
    p.add_argument("--devices", nargs="+", default=["runtime"])
    p.add_argument(
        "--modes", nargs="+", choices=("interpolate", "grid"), default=["interpolate", "grid"]
    )
    p.add_argument("--bins", type=int, nargs="+", default=[2, 5, 10, 20, 50])
    p.add_argument("--fixed-bins", type=int, nargs="*", default=None)
    p.add_argument("--precision", choices=("both", "float", "fixed"), default="both")
    p.add_argument("--reference-bins", type=int, nargs="*", default=[], help="reference only")
    p.add_argument("--merge", nargs="+", default=None, help="plot the rows of these logs")
    p.add_argument("--json", default=None)
    p.add_argument("--plot", default=None, metavar="PNG")
    args = p.parse_args()
    if args.merge:
        merged = merge_logs(args.merge)
        if args.json:
            Path(args.json).write_text(json.dumps(merged, indent=2))
        plot(args.what, merged, args.plot)
        return
    calib = load_mnist("train", None, limit=1000).x
    x = load_mnist("test", None, limit=args.samples).x
    out = brian2(args, x, calib) if args.what == "brian2" else lava(args, x, calib)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    if args.plot:
        plot(args.what, out, args.plot)


if __name__ == "__main__":
    main()
