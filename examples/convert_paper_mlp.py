"""Convert the shipped paper_mlp (zoo) and measure SNN-vs-ANN label agreement on MNIST.

Acceptance check of the converter: the 784-600-10 net without bias (Lu & Xu 2022, experiment
FC), regular rate coding, T = 300 steps of dt = 0.01 s on the reference backend::

    python examples/convert_paper_mlp.py [--samples 1000] [--normalize none|max|percentile]

The MNIST IDX files are looked up in --data-dir or $LIF_BRIDGE_DATA_DIR.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import lif_bridge as lb
from lif_bridge.data import load_dataset
from lif_bridge.zoo import pretrained


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--normalize", default="none")
    parser.add_argument("--bias-mode", default="current")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()

    calib = load_dataset("mnist", "train", data_dir=args.data_dir, limit=1000).x
    test = load_dataset("mnist", "test", data_dir=args.data_dir, limit=args.samples)
    net = lb.from_torch(
        pretrained("paper_mlp"),
        input_shape=(1, 28, 28),
        bias_mode=args.bias_mode,
        normalize=args.normalize,
        calibration=calib if args.normalize != "none" else None,
    )
    ann = lb.ann_forward(net, test.x, units="ann")
    start = time.perf_counter()
    res = lb.simulate(net, test.x, lb.Simulation(steps=args.steps, dt=0.01), "reference")
    seconds = time.perf_counter() - start
    agree = lb.agreement(res.output_counts, ann)
    acc_snn = float(np.mean(res.output_counts.argmax(1) == test.y))
    acc_ann = float(np.mean(ann.argmax(1) == test.y))
    print(
        f"paper_mlp normalize={args.normalize} bias_mode={args.bias_mode} "
        f"T={args.steps}x0.01s samples={agree.samples}: agreement {agree.fraction:.2%} "
        f"(ties {agree.ties}, silent {agree.silent}); accuracy ANN {acc_ann:.2%} "
        f"SNN {acc_snn:.2%}; factors {net.metadata['conversion']['factors']}; "
        f"{seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
