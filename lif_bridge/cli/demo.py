"""``lif-bridge demo``: the main job end to end on the embedded default (8×8 digits).

Trains the small digits net with torch when torch is installed (else takes the weights shipped
in the package), converts it to Linear LIF neurons with data-based normalisation, runs the
spiking network on the test digits, prints how far it is from the ANN, and draws it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement, correlation
from lif_bridge.ann import ann_activations
from lif_bridge.backend import get_backend
from lif_bridge.cli.common import add_backend_arg, emit
from lif_bridge.convert.scale import convert_network
from lif_bridge.data import load_digits
from lif_bridge.fileio import check_writable
from lif_bridge.network import Network, Readout, Simulation
from lif_bridge.network.io import save_network
from lif_bridge.plots import new_figure, save_figure

__all__ = ["default_out", "register"]

STEPS = (25, 50, 100, 200, 300)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``demo`` sub-command."""
    p = sub.add_parser(
        "demo",
        help="train (or load) a digits net, convert, run it spiking, compare, plot",
        description=__doc__,
    )
    p.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="folder for the plot and the network file (default: $LIF_BRIDGE_CACHE/demo, "
        "else ~/.cache/lif-bridge/demo; never the current folder)",
    )
    add_backend_arg(p)
    p.add_argument(
        "--shipped-weights", action="store_true", help="use the shipped weights, do not train"
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=_demo)


def _network(shipped: bool, calibration: np.ndarray) -> tuple[Network, str, float]:
    """Converted network, where its weights came from, training seconds."""
    options: dict[str, Any] = {"normalize": "percentile", "calibration": calibration}
    if not shipped:
        try:
            import torch  # noqa: F401
        except ImportError:
            shipped = True
    if shipped:
        from lif_bridge.zoo import raw_network

        return convert_network(raw_network("digits_mlp"), **options), "shipped weights", 0.0
    from lif_bridge import from_torch
    from lif_bridge.zoo import MODELS
    from lif_bridge.zoo.training import train

    spec = MODELS["digits_mlp"]
    result = train(
        "digits_mlp", epochs=spec.epochs, batch_size=spec.batch_size, lr=spec.lr, log=None
    )
    net = from_torch(result.model, input_shape=(1, 8, 8), **options)
    return net, "trained now with torch (seed 0)", result.seconds


def default_out() -> Path:
    """Where ``demo`` writes without ``--out``: ``$LIF_BRIDGE_CACHE/demo``, else
    ``$XDG_CACHE_HOME/lif-bridge/demo``, else ``~/.cache/lif-bridge/demo``."""
    if os.environ.get("LIF_BRIDGE_CACHE"):
        return Path(os.environ["LIF_BRIDGE_CACHE"]) / "demo"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lif-bridge" / "demo"


def _demo(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    out = Path(args.out) if args.out is not None else default_out()
    for name in ("digits_net.npz", "demo.png"):  # fail now, not after the training
        check_writable(out / name, what="--out")
    from lif_bridge.cli import backend_options

    backend = get_backend(args.backend, **backend_options(args))  # fail before the training
    train, test = load_digits("train"), load_digits("test")
    net, origin, train_s = _network(args.shipped_weights, train.x)
    save_network(out / "digits_net.npz", net)
    ann = ann_activations(net, test.x, units="ann")
    ann_out = ann[net.output.name]
    rows = []
    for steps in STEPS:
        sim = Simulation(steps=steps, dt=0.01, readout=Readout(counts="all"))
        program = backend.lower(net, sim)
        try:
            result = program.run(test.x)
        finally:
            program.close()
        agree = agreement(result.output_counts, ann_out)
        rows.append(
            {
                "steps": steps,
                "agreement": agree.fraction,
                "snn_accuracy": accuracy(result.predictions(), test.y),
                "seconds": result.seconds,
            }
        )
    hidden = net.populations[0].name
    rho = correlation(result.rates(hidden), ann_activations(net, test.x)[hidden])
    final = rows[-1]
    payload = {
        "weights": origin,
        "training_seconds": train_s,
        "backend": result.backend,
        "samples": len(test.x),
        "ann_accuracy": accuracy(ann_out, test.y),
        "snn_accuracy": final["snn_accuracy"],
        "agreement": final["agreement"],
        "steps": final["steps"],
        "hidden_correlation_mean": rho.mean,
        "hidden_correlation_min": rho.min,
        "by_steps": rows,
        "plot": str(
            _plot(
                rows,
                result.rates(net.output.name),
                ann_out,
                accuracy(ann_out, test.y),
                out / "demo.png",
            )
        ),
        "network": str(out / "digits_net.npz"),
        "seconds": time.perf_counter() - t0,
    }
    text = "\n".join(
        [
            f"digits 64-64-10 ({origin}), converted to Linear LIF neurons "
            f"(percentile normalisation, 100 Hz for x = 1, dt = 10 ms)",
            f"{len(test.x)} test digits on backend {result.backend}:",
            *(
                f"  T = {r['steps']:3d} steps: agreement {r['agreement']:.2%}, "
                f"SNN accuracy {r['snn_accuracy']:.2%}"
                for r in rows
            ),
            f"ANN accuracy {payload['ann_accuracy']:.2%}; hidden-layer correlation "
            f"(Eq. 16) mean {rho.mean:.3f}, min {rho.min:.3f}",
            f"plot: {payload['plot']}   network: {payload['network']}   "
            f"({payload['seconds']:.1f} s)",
        ]
    )
    emit(payload, args.json, text)
    return 0


def _plot(
    rows: list[dict[str, Any]], rates: np.ndarray, ann: np.ndarray, ann_acc: float, path: Path
) -> Path:
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(10, 4))
    steps = [r["steps"] for r in rows]
    ax1.plot(steps, [100 * r["agreement"] for r in rows], "o-", label="label agreement")
    ax1.plot(steps, [100 * r["snn_accuracy"] for r in rows], "s--", label="SNN accuracy")
    ax1.axhline(100 * ann_acc, color="k", lw=1, ls=":", label="ANN accuracy")
    ax1.set_xlabel("time steps (dt = 10 ms)")
    ax1.set_ylabel("%")
    ax1.set_title("spiking vs ANN over the coding window")
    ax1.grid(alpha=0.3)
    ax1.legend()
    ax2.scatter(np.maximum(ann, 0).ravel(), rates.ravel(), s=4, alpha=0.4)
    ax2.set_xlabel("ANN output (ReLU of the logit)")
    ax2.set_ylabel("SNN output rate [Hz]")
    ax2.set_title(f"output layer, T = {rows[-1]['steps']} steps")
    ax2.grid(alpha=0.3)
    return save_figure(fig, path)
