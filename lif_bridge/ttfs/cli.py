"""The TTFS parts of ``lif-bridge convert`` (``--coding ttfs``) and ``lif-bridge run``."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement
from lif_bridge.ann import ann_forward
from lif_bridge.connectivity import synapse_count
from lif_bridge.errors import ValidationError
from lif_bridge.network import Identity, Network, Population
from lif_bridge.ttfs.coding import graph_plan, ttfs_coding
from lif_bridge.ttfs.convert import DEFAULT_SAFETY, DEFAULT_TAU_C
from lif_bridge.ttfs.run import TtfsResult, get_ttfs_backend, synaptic_operations

__all__ = ["add_convert_args", "convert_options", "convert_summary", "run_payload", "run_ttfs"]


def add_convert_args(p: argparse.ArgumentParser) -> None:
    """``--safety``, ``--tau-c``, ``--time-budget`` of ``convert --coding ttfs``."""
    p.add_argument(
        "--safety",
        type=float,
        default=DEFAULT_SAFETY,
        help=f"ttfs: window = safety x largest calibration activation (default {DEFAULT_SAFETY})",
    )
    p.add_argument(
        "--tau-c",
        type=float,
        default=DEFAULT_TAU_C,
        help=f"ttfs: time [s] per unit of activation (default {DEFAULT_TAU_C:g})",
    )
    p.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="ttfs: refuse windows whose readout latency exceeds this [s]",
    )


def convert_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``ttfs_options`` of :func:`lif_bridge.from_torch` from the command line."""
    if args.coding != "ttfs":
        return None
    return {"safety": args.safety, "tau_c": args.tau_c, "time_budget": args.time_budget}


def _synapses(pop: Population) -> int:
    """Synapses of a population over its projections (an identity map: one per unit)."""
    return sum(
        pop.size if isinstance(e.map, Identity) else synapse_count(e.map, e.input_shape)
        for e in pop.projections
    )


def convert_summary(net: Network, path: Path, as_json: bool) -> tuple[dict[str, Any], bool, str]:
    """What ``convert --coding ttfs`` prints: windows, thresholds, latency."""
    coding = ttfs_coding(net)
    _, plan = graph_plan(net)
    layers = [
        {
            "name": lay.population.name,
            "type": "+".join(type(e.map).__name__ for e in lay.population.projections),
            "shape": list(lay.population.shape),
            "neurons": lay.population.size,
            "synapses": _synapses(lay.population),
            "t_min": lay.t_min,
            "t_max": None if lay.is_output else lay.t_max,
            "max_activation": coding.max_activation.get(lay.population.name),
        }
        for lay in plan
    ]
    latency = plan[-1].t_min
    payload = {
        "output": os.fspath(path),
        "coding": "ttfs",
        "input_shape": list(net.input_shape),
        "tau_c": coding.tau_c,
        "safety": coding.safety,
        "calibration_samples": coding.calibration_samples,
        "latency_seconds": latency,
        "layers": layers,
    }
    rows = "\n".join(
        f"  {lay.population.name:<10} window [{lay.t_min * 1e3:.3f}, "
        + ("readout] ms" if lay.is_output else f"{lay.t_max * 1e3:.3f}] ms")
        + f", max activation {coding.max_activation.get(lay.population.name, 0.0):.4g}"
        for lay in plan
    )
    text = (
        f"{net.summary()}\nTTFS coding, tau_c = {coding.tau_c:g} s, safety {coding.safety:g}, "
        f"{coding.calibration_samples} calibration samples\n{rows}\n"
        f"readout latency {latency * 1e3:.3f} ms\nwrote {path}"
    )
    return payload, as_json, text


def run_payload(net: Network, result: TtfsResult, ann: np.ndarray, y: Any) -> dict[str, Any]:
    """The figures of a TTFS run: agreement, accuracies, spikes per neuron, latency, SynOps."""
    agree = agreement(result.output, ann)
    n = len(result.output)
    timed = bool(result.spike_times)  # a backend may return counts only
    spikes = (
        result.spikes_per_neuron()
        if timed
        else {"mean": result.info.get("mean_spikes_per_neuron"), "max": None}
    )
    counted = result.info.get("max_spikes_per_neuron")  # a backend's count of every spike sent
    if counted is not None:
        spikes["max"] = max(float(counted), spikes["max"] or 0.0)
    return {
        "backend": result.backend,
        "coding": "ttfs",
        "samples": n,
        "dt": result.dt,
        "tau_c": ttfs_coding(net).tau_c,
        "agreement": agree.fraction,
        "ties": agree.ties,
        "ann_accuracy": accuracy(ann, y) if y is not None else None,
        "snn_accuracy": accuracy(result.predictions(), y) if y is not None else None,
        "max_abs_output_error": float(np.abs(result.output - ann).max(initial=0.0)),
        "mean_spikes_per_neuron": spikes["mean"],
        "max_spikes_per_neuron": spikes["max"],
        "input_spikes_per_sample": (
            float(result.spike_counts("input").sum() / max(n, 1)) if timed else None
        ),
        "latency_seconds": result.readout_time,
        "latency_steps": result.latency_steps,
        "synops_per_sample": synaptic_operations(net, result)["total"] if timed else None,
        "seconds": result.seconds,
        "seconds_per_sample": result.seconds / max(n, 1),
        "info": dict(result.info),
    }


def run_ttfs(args: argparse.Namespace, network: Network) -> int:
    """``lif-bridge run`` on a TTFS network (``--dt`` puts spikes on a grid)."""
    from lif_bridge.cli import backend_options
    from lif_bridge.cli.common import emit, load_split

    # rate-coding options (None: not given); a TTFS network is read out by first-spike times
    readout = None if args.readout == "count" else args.readout
    rate_only = (("--steps", args.steps), ("--encoding", args.encoding), ("--readout", readout))
    for flag, value in rate_only:
        if value is not None:
            raise ValidationError(
                f"{flag} does not apply to a TTFS network (its windows set the duration and the "
                "coding, its readout is first-spike times); use --dt for a clock-driven run"
            )
    x, y = load_split(args.data, args.split, args.data_dir, args.limit)
    backend = get_ttfs_backend(args.backend, **backend_options(args))
    program = backend.lower(network, args.dt)
    try:
        result = program.run(x, progress=not args.no_progress)
    finally:
        program.close()
    ann = ann_forward(network, x, max_rate=1.0, units="ann")
    payload = run_payload(network, result, ann, y)
    if args.save:
        from lif_bridge.cli.run import write_npz

        payload["saved"] = str(write_npz(args.save, output=result.output, ann=ann))
    acc = (
        f"ANN accuracy {payload['ann_accuracy']:.4f}, SNN accuracy {payload['snn_accuracy']:.4f}, "
        if y is not None
        else ""
    )
    steps = f" ({payload['latency_steps']} steps of {result.dt:g} s)" if result.dt else ""
    text = (
        f"{payload['backend']} (TTFS): {len(x)} samples, readout at "
        f"{1e3 * result.readout_time:.3f} ms{steps}\n{acc}agreement {payload['agreement']:.4f}, "
        f"max |SNN - ANN| {payload['max_abs_output_error']:.3g}\n"
        f"spikes per neuron mean {payload['mean_spikes_per_neuron']}, max "
        f"{payload['max_spikes_per_neuron']}; SynOps per sample "
        f"{payload['synops_per_sample']}; wall time {result.seconds:.2f} s"
    )
    emit(payload, args.json, text)
    return 0
