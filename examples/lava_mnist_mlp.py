"""Run a converted network on Lava in floating and fixed point, and check it fits Loihi 2.

Needs the Lava environment (Python 3.10, ``pip install 'lif-bridge[lava]'``)::

    python examples/lava_mnist_mlp.py --data-dir /path/to/mnist --samples 50

The network here is the paper's 784-600-10 MLP built from the shipped weights with IF neurons
(``v_th = 1``, reset by subtraction) and weights normalised on training images; a network file
from ``lif-bridge convert`` works the same way (``lif_bridge.load_network``).
"""

from __future__ import annotations

import argparse

import numpy as np
from lif_bridge_lava import loihi_report

from lif_bridge import Network, Neurons, RegularRate, Simulation, ann_forward, get_backend
from lif_bridge.data import load_mnist
from lif_bridge.zoo import paper_network


def build_network(calibration: np.ndarray) -> Network:
    """The MLP as IF neurons, each layer scaled by the 99.9th percentile of its activations."""
    neurons = Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract")
    return paper_network("paper_mlp", calibration=calibration, neurons=neurons)


def main() -> None:
    """Lower once per precision, run the test images, print agreement and the fit report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args()
    net = build_network(load_mnist("train", data_dir=args.data_dir, limit=2000).x)
    test = load_mnist("test", data_dir=args.data_dir, limit=args.samples)
    ann = np.argmax(ann_forward(net, test.x), axis=1)
    sim = Simulation(steps=300, dt=0.01, encoder=RegularRate())
    for precision in ("float", "fixed"):
        # One compiled process graph runs every sample; close() stops Lava's OS processes.
        with get_backend("lava", precision=precision).lower(net, sim) as program:
            result = program.run(test.x, progress=True)
        agree = np.mean(result.predictions() == ann)
        print(
            f"lava-{precision}: agreement with the ANN {agree:.3f}, "
            f"{result.seconds / len(test.x):.2f} s/sample"
        )
    report = loihi_report(net, test.x[:10], sim)
    print(report.to_text())


if __name__ == "__main__":
    main()
