"""Train a small CNN with biases and BatchNorm on MNIST, convert it, measure the agreement.

Acceptance check of the converter on a network *with* biases and batch norm (folded): trained
for one epoch, converted with bias currents (``bias_mode="current"``) and 99.9th-percentile
normalisation (Rueckauer et al. 2017), run on the reference backend with regular rate coding,
T = 300 steps of dt = 0.01 s, max_rate = 100 Hz::

    python examples/convert_bn_cnn.py --train      # (re)train, write the weights
    python examples/convert_bn_cnn.py              # convert + simulate the shipped weights

The weights live in ``lif_bridge/zoo/bn_cnn.npz`` (state_dict keys, float32), read by
the slow test ``tests/core/convert/test_acceptance.py``. MNIST is read from --data-dir or
$LIF_BRIDGE_DATA_DIR.
"""

from __future__ import annotations

import argparse
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from torch import nn

import lif_bridge as lb
from lif_bridge.data import load_dataset
from lif_bridge.zoo import load_state_npz, save_state_npz

WEIGHTS = Path(__file__).resolve().parents[1] / "lif_bridge/zoo/bn_cnn.npz"


def bn_cnn() -> nn.Sequential:
    """conv 8@5x5 + BN, ReLU, max 2, conv 16@5x5 + BN, ReLU, avg 2, fc 64, ReLU, fc 10."""
    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 8, 5, padding=2)),
                ("bn1", nn.BatchNorm2d(8)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(8, 16, 5, padding=2)),
                ("bn2", nn.BatchNorm2d(16)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.AvgPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(16 * 7 * 7, 64)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(64, 10)),
            ]
        )
    )


def train(data_dir: str | None, epochs: int = 1, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    ds = load_dataset("mnist", "train", data_dir=data_dir)
    x = torch.from_numpy(ds.x.astype(np.float32))
    y = torch.from_numpy(ds.y)
    model = bn_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), 128):
            idx = perm[i : i + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
    return model.eval()


def evaluate(model: nn.Module, data_dir: str | None, samples: int, steps: int) -> dict:
    calib = load_dataset("mnist", "train", data_dir=data_dir, limit=1000).x
    test = load_dataset("mnist", "test", data_dir=data_dir, limit=samples)
    net = lb.from_torch(
        model,
        input_shape=(1, 28, 28),
        bias_mode="current",
        normalize="percentile",
        percentile=99.9,
        calibration=calib,
        max_rate=100.0,
    )
    with torch.no_grad():
        torch_out = model(torch.from_numpy(test.x.astype(np.float32))).numpy()
    ann = lb.ann_forward(net, test.x, units="ann")
    start = time.perf_counter()
    res = lb.simulate(net, test.x, lb.Simulation(steps=steps, dt=0.01), "reference")
    agree = lb.agreement(res.output_counts, ann)
    return {
        "agreement": agree.fraction,
        "ties": agree.ties,
        "silent": agree.silent,
        "samples": agree.samples,
        "ann_view_max_abs_error": float(np.abs(ann - torch_out).max()),
        "accuracy_ann": float(np.mean(ann.argmax(1) == test.y)),
        "accuracy_snn": float(np.mean(res.output_counts.argmax(1) == test.y)),
        "factors": net.metadata["conversion"]["factors"],
        "seconds": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", action="store_true", help="train and write the weights")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    if args.train:
        model = train(args.data_dir)
        save_state_npz(model.state_dict(), WEIGHTS)
        print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size:,} bytes)")
    model = bn_cnn()
    state = {k: torch.from_numpy(v.copy()) for k, v in load_state_npz(WEIGHTS).items()}
    state = {k: v.long() if k.endswith("num_batches_tracked") else v for k, v in state.items()}
    model.load_state_dict(state)
    print(evaluate(model.eval(), args.data_dir, args.samples, args.steps))


if __name__ == "__main__":
    main()
