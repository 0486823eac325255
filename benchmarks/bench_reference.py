"""Throughput of the reference backend on the paper's networks (prints figures; not a test).

Targets (issue 2, on a 2-core machine): the paper's CNN experiment (2,000 MNIST images x 200
steps) in under 2 minutes, and the MLP 784-600-10 on all 10,000 test images at 300 steps in
under 3 minutes.

Usage::

    python benchmarks/bench_reference.py [--data-dir ../shared/data/mnist] [--samples-mlp N]
        [--samples-cnn N]

The networks are the shipped trained paper nets (``lif_bridge.zoo``), bias-free, with each
layer's weights scaled by the 99.9th percentile of its ANN activations on 1,000 training images
(data-based normalisation), at the paper's settings: MLP dt = 0.01 s, 300 steps, 100 Hz; CNN
dt = 0.01 s, 200 steps, inputs 0-10 Hz.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import lif_bridge as lb
from lif_bridge.data import load_mnist
from lif_bridge.zoo import paper_network


def paper_mlp(x_cal: np.ndarray) -> lb.Network:
    """The shipped 784-600-10 MLP, percentile-normalised on ``x_cal`` (the zoo's builder)."""
    return paper_network("paper_mlp", calibration=x_cal)


def paper_cnn(x_cal: np.ndarray) -> lb.Network:
    """The shipped Table 5 ConvNet, percentile-normalised on ``x_cal`` (the zoo's builder)."""
    return paper_network("paper_cnn", calibration=x_cal)


def bench(name: str, net: lb.Network, x: np.ndarray, sim: lb.Simulation) -> None:
    """Run and print throughput, agreement and the projected time of the full experiment."""
    t0 = time.perf_counter()
    res = lb.simulate(net, x, sim, "reference", progress=True)
    wall = time.perf_counter() - t0
    ann = lb.ann_forward(net, x, max_rate=sim.input_rate(net))
    agree = lb.agreement(res.output_counts, ann)
    rate = len(x) * sim.steps / wall
    print(
        f"{name}: {len(x)} samples x {sim.steps} steps in {wall:.1f} s -> "
        f"{rate:,.0f} sample-steps/s, {1e3 * wall / len(x):.2f} ms/sample; "
        f"agreement {agree.fraction:.4f}"
    )
    return wall


def main() -> None:
    """Parse arguments and run both benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)"
    )
    parser.add_argument("--samples-mlp", type=int, default=10_000)
    parser.add_argument("--samples-cnn", type=int, default=2_000)
    args = parser.parse_args()
    cal = load_mnist("train", data_dir=args.data_dir, limit=1000).x
    test = load_mnist("test", data_dir=args.data_dir).x
    print(f"threads: {os.cpu_count()} cores")
    wall = bench(
        "MLP 784-600-10",
        paper_mlp(cal),
        test[: args.samples_mlp],
        lb.Simulation(steps=300, dt=0.01, max_rate=100.0),
    )
    print(f"  projected for 10,000 x 300: {wall * 10_000 / args.samples_mlp:.0f} s (target 180 s)")
    wall = bench(
        "CNN (Table 5)",
        paper_cnn(cal),
        test[: args.samples_cnn],
        lb.Simulation(steps=200, dt=0.01, max_rate=10.0),
    )
    print(f"  projected for 2,000 x 200: {wall * 2_000 / args.samples_cnn:.0f} s (target 120 s)")


if __name__ == "__main__":
    main()
