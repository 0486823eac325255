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

from lif_bridge import Dense, Flatten, Network, Neurons, RegularRate, Simulation, get_backend
from lif_bridge.data import load_mnist
from lif_bridge.zoo import load_state_npz, weights_path


def build_network(calibration: np.ndarray) -> tuple[Network, np.ndarray, np.ndarray]:
    """The MLP as IF neurons, each layer scaled by the 99.9th percentile of its activations."""
    state = load_state_npz(weights_path("paper_mlp"))
    w1, w2 = (state[k].astype(np.float64) for k in ("fc1.weight", "fc2.weight"))
    a1 = np.maximum(calibration.reshape(len(calibration), -1) @ w1.T, 0)
    lam1 = np.percentile(a1, 99.9)
    lam2 = np.percentile(np.maximum(a1 @ w2.T, 0), 99.9)
    neurons = Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract")
    net = Network(
        input_shape=(1, 28, 28),
        layers=(
            Flatten(),
            Dense(name="fc1", weight=w1 / lam1, neurons=neurons),
            Dense(name="fc2", weight=w2 * lam1 / lam2, neurons=neurons),
        ),
        max_rate=100.0,
    )
    return net, w1, w2


def main() -> None:
    """Lower once per precision, run the test images, print agreement and the fit report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-dir", default="/work/shared/data/mnist")
    ap.add_argument("--samples", type=int, default=50)
    args = ap.parse_args()
    net, w1, w2 = build_network(load_mnist("train", data_dir=args.data_dir, limit=2000).x)
    test = load_mnist("test", data_dir=args.data_dir, limit=args.samples)
    ann = np.argmax(np.maximum(test.x.reshape(len(test.x), -1) @ w1.T, 0) @ w2.T, axis=1)
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
