"""Wall time of the Lava backend (float and fixed) vs the reference on the paper's MLP.

Run in the Lava environment (Python 3.10)::

    .venv-lava/bin/python benchmarks/bench_lava.py --samples 20 --steps 300

Prints seconds per sample and per step (compile excluded where it can be: the first chunk's
run, which includes Lava's compile, is reported separately), the label agreement with the ANN,
and the fixed-point quantisation report.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from lif_bridge_lava import loihi_report

from lif_bridge.ann import ann_forward
from lif_bridge.backend import get_backend
from lif_bridge.data import load_mnist
from lif_bridge.network import Neurons, RegularRate, Simulation
from lif_bridge.zoo import paper_network


def main() -> None:
    """Time reference, lava-float and lava-fixed on the same samples."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    args = ap.parse_args()
    net = paper_network(
        "paper_mlp",
        calibration=load_mnist("train", data_dir=args.data_dir, limit=2000).x,
        neurons=Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract"),
    )
    x = load_mnist("test", data_dir=args.data_dir, limit=args.samples + 1).x
    ann = np.argmax(ann_forward(net, x[1:]), axis=1)
    sim = Simulation(steps=args.steps, dt=0.01, encoder=RegularRate())
    print(f"paper MLP 784-600-10, {args.samples} MNIST samples × {args.steps} steps")
    print(f"{'backend':<14} {'s/sample':>9} {'ms/step':>8} {'first run s':>12} {'agree':>6}")
    for name, options in (
        ("reference", {}),
        ("lava", {"precision": "float"}),
        ("lava", {"precision": "fixed"}),
    ):
        program = get_backend(name, **options).lower(net, sim)
        try:
            t0 = time.perf_counter()
            program.run(x[:1])  # warm-up: Lava compiles and starts its processes here
            first = time.perf_counter() - t0
            res = program.run(x[1:], start_index=1)
        finally:
            program.close()
        per_sample = res.seconds / args.samples
        label = name if not options else f"{name}-{options['precision']}"
        agree = float(np.mean(res.predictions() == ann))
        print(
            f"{label:<14} {per_sample:>9.3f} {per_sample / args.steps * 1e3:>8.3f} "
            f"{first:>12.2f} {agree:>6.3f}"
        )
    print()
    print(loihi_report(net, x[1:11], sim).to_text())


if __name__ == "__main__":
    main()
