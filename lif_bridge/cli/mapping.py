"""``lif-bridge map`` and ``lif-bridge transfer``: the mapping both ways, the exact transfer."""

from __future__ import annotations

import argparse
import math
from typing import Any

import numpy as np

from lif_bridge.cli.common import emit
from lif_bridge.mapping import lif_to_relu, relu_to_lif
from lif_bridge.transfer import transfer_curve

__all__ = ["register"]


def _neuron_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=float, nargs="+", required=True, help="weights w_i [C]")
    p.add_argument("--v-th", type=float, default=1.0, help="threshold V_th [V] (default 1)")
    p.add_argument("--c-m", type=float, default=1.0, help="capacitance C_m [F] (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``map`` and ``transfer`` sub-commands."""
    p = sub.add_parser(
        "map",
        help="ReLU (w, b) -> Linear LIF (g_l, tau_m, f_min, slope), or back with --inverse",
        description="Lu & Xu Table 1 (corrected): g_l = b C_m ln(1 - sum(w)/(V_th C_m)) / sum(w), "
        "slope k = 1/(V_th C_m); valid for 0 < sum(w) < V_th C_m and b <= 0.",
    )
    _neuron_args(p)
    p.add_argument("--bias", type=float, help="ReLU bias b [A] (<= 0) for the forward mapping")
    p.add_argument("--g-l", type=float, help="leak g_l [S] for --inverse")
    p.add_argument("--inverse", action="store_true", help="Linear LIF (g_l) -> ReLU (bias)")
    p.set_defaults(func=_map)

    t = sub.add_parser(
        "transfer",
        help="exact output rate of one neuron vs input rate, next to the ReLU it maps",
        description="Event-driven, exact: regular input trains at the given rates (all inputs "
        "at the same rate), continuous time.",
    )
    _neuron_args(t)
    t.add_argument("--g-l", type=float, required=True, help="leak g_l [S] (0: IF neuron)")
    t.add_argument(
        "--reset",
        choices=("subtract", "zero"),
        default="subtract",
        help="reset by subtraction (Linear LIF, default) or to zero",
    )
    t.add_argument("--i-bias", type=float, default=0.0, help="bias current [A]")
    t.add_argument("--rates", type=float, nargs="+", required=True, help="input rates [Hz]")
    t.add_argument("--duration", type=float, default=200.0, help="observation time T [s]")
    t.add_argument("--plot", metavar="FILE.png", help="draw the curve into a PNG")
    t.set_defaults(func=_transfer)


def _map(args: argparse.Namespace) -> int:
    if args.inverse:
        if args.g_l is None:
            raise _usage("map --inverse needs --g-l")
        r = lif_to_relu(args.weights, args.g_l, v_th=args.v_th, c_m=args.c_m)
        payload: dict[str, Any] = {
            "bias": r.bias,
            "f_min": r.f_min,
            "slope": r.slope,
            "g_l": args.g_l,
            "tau_m": args.c_m / args.g_l if args.g_l > 0 else math.inf,
            "sum_w": float(np.sum(args.weights)),
        }
        text = f"ReLU bias b = {r.bias:.6g} A  (f_min = {r.f_min:.6g} Hz, slope k = {r.slope:.6g})"
    else:
        if args.bias is None:
            raise _usage("map needs --bias (or --inverse with --g-l)")
        p = relu_to_lif(args.weights, args.bias, v_th=args.v_th, c_m=args.c_m)
        payload = {
            "g_l": p.g_l,
            "tau_m": p.tau_m,
            "f_min": p.f_min,
            "slope": p.slope,
            "bias": args.bias,
            "sum_w": float(np.sum(args.weights)),
        }
        text = (
            f"g_l = {p.g_l:.6g} S, tau_m = {p.tau_m:.6g} s, f_min = {p.f_min:.6g} Hz, "
            f"slope k = {p.slope:.6g}"
        )
    if not math.isfinite(payload["tau_m"]):
        payload["tau_m"] = None  # JSON has no infinity; null means "no leak"
    emit(payload, args.json, text)
    return 0


def _transfer(args: argparse.Namespace) -> int:
    curve = transfer_curve(
        args.weights,
        args.rates,
        g_l=args.g_l,
        c_m=args.c_m,
        v_th=args.v_th,
        reset=args.reset,
        i_bias=args.i_bias,
        duration=args.duration,
    )
    payload = {
        "rates_in": curve.rates_in,
        "rates_out": curve.rates_out,
        "relu": curve.relu,
        "error": curve.error,
        "bias": curve.bias,
        "reset": args.reset,
        "resolution": 1.0 / args.duration,
    }
    rows = [f"{'f_in [Hz]':>10} {'LIF [Hz]':>10} {'ReLU [Hz]':>10} {'error':>8}"]
    rows += [
        f"{a:10.4g} {b:10.4f} {c:10.4f} {b - c:+8.4f}"
        for a, b, c in zip(curve.rates_in, curve.rates_out, curve.relu, strict=True)
    ]
    if args.plot:
        from lif_bridge.plots import plot_transfer

        payload["plot"] = str(plot_transfer(curve, args.plot, reset=args.reset))
        rows.append(f"plot written to {payload['plot']}")
    emit(payload, args.json, "\n".join(rows))
    return 0


def _usage(message: str) -> Exception:
    from lif_bridge.errors import ValidationError

    return ValidationError(message)
