"""``lif-bridge diagnose``: where a converted network departs from its ANN, and what to change."""

from __future__ import annotations

import argparse

from lif_bridge.cli.common import add_data_args, emit, load_split
from lif_bridge.errors import ValidationError
from lif_bridge.fileio import check_writable_folder

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``diagnose`` sub-command."""
    p = sub.add_parser(
        "diagnose",
        help="per-layer diagnosis of a converted network on data, with measured suggestions",
        description="Writes OUT/report.md, figures and OUT/diagnosis.json: agreement and "
        "accuracy vs T, per-layer correlation (Eq. 16), rate error, saturated and silent "
        "neurons, spikes and SynOps, near ties, the T reaching the target agreement (run to "
        "check) and the rescaling that removes saturation. NET: a network file, or zoo:NAME "
        "(converted here with current bias and percentile 99.9 on --calibration samples).",
    )
    p.add_argument("network", metavar="NET", help="network file or zoo:NAME")
    add_data_args(p)
    p.add_argument(
        "--split", default="test", choices=("test", "train"), help="data split (default test)"
    )
    p.add_argument("--steps", default="16,32,64,100,300", help="windows T [steps], comma-separated")
    p.add_argument("--dt", type=float, help="time step [s] (default: file's, else 0.01)")
    p.add_argument("--encoder", default=None, help="regular | current | poisson:SEED")
    p.add_argument("--target", type=float, default=0.99, help="target agreement (default 0.99)")
    p.add_argument("--calibration", type=int, default=1000, help="for zoo:NAME (default 1000)")
    p.add_argument("--backend", default="reference", help="backend name (default reference)")
    p.add_argument("--out", required=True, help="output folder (created)")
    p.add_argument("--json", action="store_true", help="print the diagnosis as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=_diagnose)


def _diagnose(args: argparse.Namespace) -> int:
    from lif_bridge.cli.sweep import load_source
    from lif_bridge.study.diagnose import diagnose
    from lif_bridge.study.diagnose_report import write_diagnosis
    from lif_bridge.study.evaluate import is_raw
    from lif_bridge.study.points import encoder_from_name

    try:
        steps = [int(s) for s in args.steps.split(",") if s.strip()]
    except ValueError:
        raise ValidationError(f"--steps {args.steps!r}: give integers, e.g. 16,32,100") from None
    check_writable_folder(args.out, what="--out")
    network, defaults = load_source(args.network)
    if is_raw(network):
        from lif_bridge.convert.scale import convert_network

        calib, _ = load_split(args.data, "train", args.data_dir, args.calibration)
        network = convert_network(network, normalize="percentile", calibration=calib)
    x, y = load_split(args.data, args.split, args.data_dir, args.limit)
    d = diagnose(
        network,
        x,
        y,
        steps=steps,
        dt=args.dt if args.dt is not None else defaults["dt"],
        encoder=encoder_from_name(args.encoder or defaults["encoder"]),
        target=args.target,
        backend=args.backend,
        progress=not args.no_progress and not args.json,
    )
    report = write_diagnosis(d, args.out, args.network)
    best = d["suggested_steps"]
    text = (
        "\n".join(f"T = {c['steps']}: agreement {100 * c['agreement']:.2f} %" for c in d["curve"])
        + (f"\nsuggested T = {best} steps (checked)" if best else "\nno T reached the target")
        + "".join(f"\n{a}" for a in d["saturation_advice"])
        + f"\nreport: {report}"
    )
    emit({**d, "report": str(report)}, args.json, text)
    return 0
