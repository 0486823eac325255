"""``lif-bridge sweep``: a grid of conversion and simulation parameters, on Dask, resumable."""

from __future__ import annotations

import argparse
import re
import signal
import sys
import threading
from typing import Any

from lif_bridge.cli.common import add_data_args, emit, load_split
from lif_bridge.errors import ValidationError
from lif_bridge.fileio import check_writable_folder
from lif_bridge.network import Network

__all__ = ["load_source", "register"]


def load_source(spec: str) -> tuple[Network, dict[str, Any]]:
    """A network from ``zoo:NAME`` (raw shipped weights) or a network file, and its defaults.

    The defaults are the file's simulation settings (``steps``, ``dt``, ``encoder``), else
    300 steps of 0.01 s, regular coding.
    """
    defaults: dict[str, Any] = {"steps": 300, "dt": 0.01, "encoder": "regular"}
    if spec.startswith("zoo:"):
        from lif_bridge.zoo import MODELS, raw_network

        name = spec[4:]
        if name not in MODELS:
            raise ValidationError(f"{spec}: unknown zoo model; choose zoo:{', zoo:'.join(MODELS)}")
        return raw_network(name), defaults
    from lif_bridge.network.io import load_network_and_simulation

    network, sim = load_network_and_simulation(spec)
    if sim is not None:
        enc = sim.encoder
        seed = getattr(enc, "seed", None)
        defaults = {
            "steps": sim.steps,
            "dt": sim.dt,
            "encoder": f"poisson:{seed}" if enc.kind == "poisson" else enc.kind,
        }
    return network, defaults


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``sweep`` sub-command."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter grid (steps, percentile, bias mode, encoder...) on Dask",
        description="Every point of the grid, its samples sharded, on a Dask LocalCluster "
        "(default), an existing cluster (--scheduler) or in-process (--workers 0). Rows are "
        "written to OUT as they arrive; re-running resumes. Conversion parameters (bias_mode, "
        "normalize, percentile, max_rate, layer_rate, reset, g_l) need a raw description: "
        "zoo:NAME or a network file saved before conversion. Exit 1 if some points failed.",
    )
    p.add_argument("network", metavar="RAW_OR_NET", help="zoo:NAME or a network file")
    add_data_args(p)
    p.add_argument(
        "--split", default="test", choices=("test", "train"), help="data split (default test)"
    )
    p.add_argument(
        "--grid",
        nargs="+",
        required=True,
        metavar="NAME=V1,V2",
        help="e.g. steps=32,100,300 percentile=99,99.9,100 bias_mode=leak,current "
        "encoder=regular,poisson:0,poisson:1 (also dt, normalize, max_rate, layer_rate, "
        "reset, g_l, backend)",
    )
    p.add_argument(
        "--calibration",
        type=int,
        default=1000,
        metavar="N",
        help="calibration samples from the train split for normalisation (default 1000)",
    )
    p.add_argument("--out", required=True, help="sweep folder (created; resumed if it exists)")
    p.add_argument(
        "--workers", type=int, help="LocalCluster processes (default: CPU cores); 0: in-process"
    )
    p.add_argument("--threads", type=int, help="threads per worker (default 1)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="an existing Dask scheduler")
    p.add_argument("--shard-size", type=int, default=64, help="samples per task (default 64)")
    p.add_argument("--batch-size", type=int, help="reference backend: samples per batch")
    p.add_argument("--json", action="store_true", help="print the rows as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_sweep)


def _sweep(args: argparse.Namespace) -> int:
    from lif_bridge.study.evaluate import is_raw
    from lif_bridge.study.points import parse_grid
    from lif_bridge.study.report import write_sweep_report
    from lif_bridge.study.sweep import run_sweep

    if args.calibration < 1:
        raise ValidationError("--calibration must be >= 1")
    if args.threads is not None and args.threads < 1:
        raise ValidationError(f"--threads must be >= 1 (threads per worker), got {args.threads}")
    check_writable_folder(args.out, what="--out")
    source, defaults = load_source(args.network)
    grid = parse_grid(args.grid)
    x, y = load_split(args.data, args.split, args.data_dir, args.limit)
    calib = None
    if is_raw(source):
        calib, _ = load_split(args.data, "train", args.data_dir, args.calibration)
    options = {"batch_size": args.batch_size} if args.batch_size else None
    _terminate_as_interrupt()
    outcome = run_sweep(
        source,
        x,
        grid,
        args.out,
        labels=y,
        calibration=calib,
        defaults=defaults,
        workers=args.workers,
        threads=args.threads,
        scheduler=args.scheduler,
        shard_size=args.shard_size,
        backend_options=options,
        data_name=f"{args.data}:{args.split}[:{len(x)}]",
        progress=not args.no_progress and not args.json,
    )
    report = write_sweep_report(outcome.rows, outcome.folder, title=f"Sweep of {args.network}")
    ok = [r for r in outcome.rows if r.get("status") == "ok"]
    text = (
        f"{len(outcome.rows)} points: {outcome.computed} computed, {outcome.reused} reused, "
        f"{len(outcome.failed)} failed\n"
        + "\n".join(
            f"  {_label(r)}: agreement {100 * r['agreement']:.2f} %, "
            f"spikes/neuron {r['spikes_per_neuron']:.3f}, SynOps {r['synops']:.4g}"
            for r in ok
        )
        + f"\nreport: {report}"
    )
    emit({"rows": outcome.rows, "report": str(report)}, args.json, text)
    errors: dict[str, int] = {}
    for r in outcome.failed:
        message = re.sub(r" \(worker [^)]*\)$", "", r["error"])  # one line for all workers
        errors[message] = errors.get(message, 0) + 1
    for message, n in errors.items():
        print(f"lif-bridge: error: {n} point(s) failed: {message}", file=sys.stderr)
    return 1 if errors else 0


def _terminate_as_interrupt() -> None:
    """SIGTERM ends the sweep like Ctrl-C: the cluster is closed, finished rows stay."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def _label(row: dict[str, Any]) -> str:
    from lif_bridge.study.points import PARAMETERS

    return ", ".join(f"{k}={row[k]}" for k in PARAMETERS if k in row and k != "backend")
