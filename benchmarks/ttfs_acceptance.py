"""TTFS acceptance (issue 9) on the reference: zoo paper MLP, paper CNN, BN CNN (prints; no test).

Each network is converted with TTFS coding (windows from the first 1,000 MNIST training images,
safety 1.5, tau_c = 1 ms) and run on the first 1,000 test images: agreement with the ANN,
accuracies, spikes per neuron, readout latency, SynOps, and every disagreement explained (its
ANN top-2 margin, whether a hidden value was clipped by its window). Optionally the same on
the grid of ``--dt`` values::

    python benchmarks/ttfs_acceptance.py [--samples 1000] [--dt 1e-4 2e-5] [--json out.json]

The BN CNN (conv+BN, max pool, conv+BN, avg pool, fc, fc; with biases) needs torch and the
weights of ``examples/convert_bn_cnn.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

import lif_bridge as lb
from lif_bridge.ann import ann_activations
from lif_bridge.data import load_mnist
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs, synaptic_operations, ttfs_coding
from lif_bridge.zoo.raw import raw_network

ROOT = Path(__file__).resolve().parents[1]


def bn_cnn_raw(calib: np.ndarray) -> lb.Network:
    """The BN CNN of examples/convert_bn_cnn.py as a TTFS network (needs torch)."""
    import torch

    spec = importlib.util.spec_from_file_location(
        "convert_bn_cnn", ROOT / "examples/convert_bn_cnn.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    from lif_bridge.zoo import load_state_npz

    model = example.bn_cnn()
    state = {k: torch.from_numpy(v.copy()) for k, v in load_state_npz(example.WEIGHTS).items()}
    model.load_state_dict(state)
    return lb.from_torch(model.eval(), input_shape=(1, 28, 28), coding="ttfs", calibration=calib)


def evaluate(net: lb.Network, x: np.ndarray, y: np.ndarray, dt: float | None) -> dict[str, Any]:
    """Figures of one run and an explanation of each disagreement."""
    res = simulate_ttfs(net, x, dt=dt)
    acts = ann_activations(net, x, max_rate=1.0)
    ann = acts[net.output.name]
    agree = lb.agreement(res.output, ann)
    bad = np.flatnonzero(res.predictions() != ann.argmax(axis=1))
    coding = ttfs_coding(net)
    clipped = np.zeros(len(x), dtype=bool)
    for pop in net.populations[:-1]:
        clipped |= (acts[pop.name] > coding.windows[pop.name] / coding.tau_c).any(axis=1)
    top2 = np.sort(ann, axis=1)[:, -2:]
    explain = [
        {
            "sample": int(i),
            "ann_margin": float(top2[i, 1] - top2[i, 0]),
            "max_readout_error": float(np.abs(res.output[i] - ann[i]).max()),
            "clipped_by_window": bool(clipped[i]),
        }
        for i in bad
    ]
    spikes = res.spikes_per_neuron()
    return {
        "dt": dt,
        "agreement": agree.fraction,
        "ann_accuracy": lb.accuracy(ann, y),
        "snn_accuracy": lb.accuracy(res.predictions(), y),
        "max_abs_output_error": float(np.abs(res.output - ann).max()),
        "samples_clipped": int(clipped.sum()),
        "mean_spikes_per_neuron": spikes["mean"],
        "max_spikes_per_neuron": spikes["max"],
        "latency_seconds": res.readout_time,
        "latency_steps": res.latency_steps,
        "synops_per_sample": synaptic_operations(net, res)["total"],
        "seconds": res.seconds,
        "disagreements": explain,
    }


def main() -> None:
    """Run the acceptance and print (and optionally write) the figures."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--dt", type=float, nargs="*", default=[])
    p.add_argument("--nets", nargs="*", default=["paper_mlp", "paper_cnn", "bn_cnn"])
    p.add_argument("--json", default=None)
    args = p.parse_args()
    calib = load_mnist("train", None, limit=1000).x
    test = load_mnist("test", None, limit=args.samples)
    x, y = test.x, np.asarray(test.y)
    out: dict[str, Any] = {}
    for name in args.nets:
        t0 = time.perf_counter()
        net = (
            bn_cnn_raw(calib)
            if name == "bn_cnn"
            else convert_ttfs(raw_network(name), calibration=calib)
        )
        out[name] = [evaluate(net, x, y, dt) for dt in [None, *args.dt]]
        for r in out[name]:
            print(
                f"{name:10s} dt={r['dt']!s:8s} agreement {r['agreement']:.4f} "
                f"ANN {r['ann_accuracy']:.4f} SNN {r['snn_accuracy']:.4f} "
                f"max|err| {r['max_abs_output_error']:.2e} spikes/neuron mean "
                f"{r['mean_spikes_per_neuron']:.3f} max {r['max_spikes_per_neuron']:g} "
                f"latency {1e3 * r['latency_seconds']:.2f} ms ({r['latency_steps']} steps) "
                f"SynOps {r['synops_per_sample']:.4g} clipped {r['samples_clipped']} "
                f"[{r['seconds']:.1f} s]"
            )
            for d in r["disagreements"]:
                print("    disagreement", d)
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
