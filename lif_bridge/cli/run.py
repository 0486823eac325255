"""``lif-bridge run``: simulate a converted network on a data set and compare it with its ANN."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement, potential_scores
from lif_bridge.ann import ann_forward
from lif_bridge.backend import get_backend
from lif_bridge.cli.common import add_backend_arg, add_data_args, emit, load_split, positive_int
from lif_bridge.fileio import atomic_path, check_writable
from lif_bridge.limits import check_run
from lif_bridge.network import ConstantCurrent, Poisson, Readout, RegularRate, Simulation
from lif_bridge.network.encoders import check_input_range, scale_to_unit
from lif_bridge.network.io import load_network_and_simulation

__all__ = ["register", "write_npz"]

ENCODINGS = {"regular": RegularRate, "poisson": Poisson, "current": ConstantCurrent}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``run`` sub-command."""
    p = sub.add_parser(
        "run",
        help="run a converted network on a data set; print ANN/SNN accuracy and agreement",
        description="Simulate a network file (from `lif-bridge convert` or "
        "lif_bridge.save_network) on a data set with the chosen backend, next to the ANN the "
        "network describes: label agreement, ANN and SNN accuracy, spikes and wall time. "
        "Inputs must lie in [0, 1] (or pass --scale-inputs). Sizes are checked first: a run "
        "whose memory or time estimate is over the limits (lif_bridge.limits) is refused.",
    )
    p.add_argument("network", metavar="NET", help="network file from `lif-bridge convert`")
    add_data_args(p)
    p.add_argument(
        "--split", default="test", choices=("test", "train"), help="data split (default test)"
    )
    p.add_argument(
        "--scale-inputs",
        action="store_true",
        help="map the data's range linearly onto [0, 1] first (e.g. uint8 images); without "
        "it, inputs outside [0, 1] are refused",
    )
    add_backend_arg(p)
    p.add_argument(
        "--steps", type=positive_int, help="steps per sample (default: file's, else 300)"
    )
    p.add_argument("--dt", type=float, help="time step [s] (default: file's, else 0.01)")
    p.add_argument("--encoding", choices=sorted(ENCODINGS), help="input coding (default regular)")
    p.add_argument("--seed", type=int, default=0, help="seed of Poisson coding")
    p.add_argument("--max-rate", type=float, help="input rate [Hz] for x = 1")
    p.add_argument(
        "--readout",
        choices=("count", "potential"),
        default="count",
        help="count: label = most spikes (always reported); potential: also report the "
        "agreement of count + (v_T - v_rest)/V_th of the output layer, its integrated input "
        "(a non-spiking output layer; traces the output layer's membrane)",
    )
    p.add_argument(
        "--save",
        metavar="FILE.npz",
        help="write output counts and ANN outputs, with --readout potential also the "
        "scores (checked before the run; never an input)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)


def _simulation(
    args: argparse.Namespace, saved: Simulation | None, traces: tuple[str, ...] = ()
) -> Simulation:
    base = saved or Simulation(steps=300, dt=0.01)
    encoder = base.encoder
    if args.encoding:
        cls = ENCODINGS[args.encoding]
        encoder = cls(seed=args.seed) if cls is Poisson else cls()
    return Simulation(
        steps=base.steps if args.steps is None else args.steps,
        dt=base.dt if args.dt is None else args.dt,
        encoder=encoder,
        max_rate=args.max_rate if args.max_rate is not None else base.max_rate,
        readout=Readout(counts="all", traces=traces),
    )


def write_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> Path:
    """Write an ``.npz`` atomically, umask honoured (:func:`lif_bridge.fileio.atomic_path`)."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def _run(args: argparse.Namespace) -> int:
    if args.save:
        inputs = [args.network, args.data if Path(args.data).is_file() else None]
        check_writable(args.save, what="--save", inputs=inputs)
    network, saved = load_network_and_simulation(args.network)
    if network.metadata.get("coding") == "ttfs":
        from lif_bridge.ttfs.cli import run_ttfs

        return run_ttfs(args, network)
    potential = args.readout == "potential"
    sim = _simulation(args, saved, (network.output.name,) if potential else ())
    x, y = load_split(args.data, args.split, args.data_dir, args.limit)
    x = scale_to_unit(x) if args.scale_inputs else x
    check_input_range(np.asarray(x))
    traced = network.output.size if potential else 0
    check_run(network, sim.steps, len(x), traces=traced, what="--steps")
    from lif_bridge.cli import backend_options

    backend = get_backend(args.backend, **backend_options(args))
    program = backend.lower(network, sim)
    try:
        result = program.run(x, progress=not args.no_progress)
    finally:
        program.close()
    ann = ann_forward(network, x, max_rate=sim.input_rate(network), units="ann")
    counts = result.output_counts
    agree = agreement(counts, ann)
    spikes = float(sum(c.sum() for c in result.counts.values()) / len(x))
    payload: dict[str, Any] = {
        "backend": result.backend or args.backend,
        "samples": len(x),
        "steps": sim.steps,
        "dt": sim.dt,
        "max_rate": sim.input_rate(network),
        "encoding": sim.encoder.kind,
        "agreement": agree.fraction,
        "ties": agree.ties,
        "silent": agree.silent,
        "ann_accuracy": accuracy(ann, y) if y is not None else None,
        "snn_accuracy": accuracy(result.predictions(), y) if y is not None else None,
        "spikes_per_sample": spikes,
        "seconds": result.seconds,
        "seconds_per_sample": result.seconds / len(x),
        "info": dict(result.info),
    }
    arrays = {"counts": counts, "ann": ann}
    if potential:
        scores = potential_scores(network, result)
        arrays["potential"] = scores
        pagree = agreement(scores, ann)
        payload["potential_agreement"] = pagree.fraction
        payload["potential_accuracy"] = accuracy(scores, y) if y is not None else None
    if args.save:
        payload["saved"] = str(write_npz(args.save, **arrays))
    acc = (
        f"ANN accuracy {payload['ann_accuracy']:.4f}, SNN accuracy {payload['snn_accuracy']:.4f}, "
        if y is not None
        else ""
    )
    text = (
        f"{payload['backend']}: {len(x)} samples x {sim.steps} steps (dt = {sim.dt:g} s)\n"
        f"{acc}agreement {agree.fraction:.4f} ({agree.ties} ties, {agree.silent} silent)\n"
        f"spikes per sample {spikes:.1f}, wall time {result.seconds:.2f} s "
        f"({1e3 * payload['seconds_per_sample']:.2f} ms/sample)"
    )
    if potential:
        text += (
            f"\npotential readout (count + (v_T - v_rest)/V_th): agreement {pagree.fraction:.4f}"
        )
        if y is not None:
            text += f", SNN accuracy {payload['potential_accuracy']:.4f}"
    emit(payload, args.json, text)
    return 0
