"""``lif-bridge reproduce``: the paper's experiments side by side, with figures and a report."""

from __future__ import annotations

import argparse

from lif_bridge.cli.common import emit, resolve_data_dir
from lif_bridge.fileio import check_writable_folder

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``reproduce`` sub-command."""
    p = sub.add_parser(
        "reproduce",
        help="the paper's experiments (S1, S2, FC, CNN, ERR) and STUDY sweeps, into a report",
        description="Run Lu & Xu (2022)'s experiments and write DIR/report.md (the paper's "
        "numbers next to the measured ones), DIR/results.json and PNG figures. S1/S2: single "
        "neuron (exact transfer + clock-driven check); FC: 784-600-10 MLP on MNIST; CNN: "
        "Table 5 ConvNet; ERR: rate error vs coding time; STUDY: leak vs current and the "
        "normalisations as sweeps. DEEP (CIFAR-10) is not available.",
    )
    p.add_argument(
        "experiments",
        nargs="+",
        metavar="EXPERIMENT",
        help="S1, S2, FC, CNN, ERR or all (case-insensitive)",
    )
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST IDX files (FC, CNN, ERR); default $LIF_BRIDGE_DATA_DIR",
    )
    p.add_argument(
        "--quick", action="store_true", help="reduced sizes (smoke test), not the paper's"
    )
    p.add_argument(
        "--backend",
        default="reference",
        help="backend for the network runs and clock-driven checks (default: reference)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=_reproduce)


def _reproduce(args: argparse.Namespace) -> int:
    from lif_bridge.experiments import resolve_names, run_experiments
    from lif_bridge.experiments.report import fmt

    names = resolve_names(args.experiments)  # fails early on unknown names
    check_writable_folder(args.out, what="--out")
    payload = run_experiments(
        names,
        args.out,
        data_dir=resolve_data_dir(args.data_dir),
        quick=args.quick,
        progress=not args.no_progress and not args.json,
        backend=args.backend,
    )
    lines = [f"report: {args.out}/report.md ({payload['meta']['wall_seconds']:.1f} s)"]
    for key, res in payload["experiments"].items():
        head = res["table"][0]
        lines.append(
            f"  {key}: {head['quantity']} = {fmt(head['ours'])} (paper: {fmt(head['paper'])})"
        )
    emit(payload, args.json, "\n".join(lines))
    return 0
