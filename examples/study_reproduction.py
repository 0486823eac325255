"""The reproduction's sweeps: leak vs current on the paper's FC net, and the normalisations.

Runs :func:`lif_bridge.study.run_sweep` (every point and shard of samples on a Dask
LocalCluster, or in-process with ``--workers 0``) and writes one folder per study under OUT,
each with ``report.md``, ``table.csv``/``table.json`` and figures:

* ``fc_leak_vs_current``: the paper's 784-600-10 net, bias as leak vs as current, T = 32, 100,
  300 steps, regular and Poisson coding; and the paper's free leak g_l = 0, 1, 3, 10 S;
* ``norm_<net>``: max / percentile (99.9) / l4 normalisation under regular and Poisson coding
  at T = 16, 32, 100, 300 steps, for the zoo nets (paper_mlp, paper_cnn, digits_mlp) and a
  CNN with biases and batch norm (weights of ``examples/convert_bn_cnn.py``, folded in NumPy
  by :func:`lif_bridge.experiments.study.bn_cnn_raw`; no torch);
* ``biased_leak_vs_current``: leak vs current on a digits MLP with non-positive biases
  (:func:`lif_bridge.experiments.study.biased_digits_mlp`; ``lif-bridge reproduce study`` runs
  this and the zoo studies at small sizes, in-process);
* ``bn_cnn_bias_modes``: leak vs current on that CNN (its positive biases cannot be a leak).

Interrupted runs resume (re-run the same command). The full sizes take hours on two cores::

    python examples/study_reproduction.py --out study --mnist 10000 --cnn 2000
    python examples/study_reproduction.py --out study --mnist 300 --cnn 100   # small

MNIST is read from --data-dir or $LIF_BRIDGE_DATA_DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lif_bridge.data import load_dataset
from lif_bridge.experiments.study import NORM_GRID, biased_digits_mlp, bn_cnn_raw
from lif_bridge.study import run_sweep
from lif_bridge.study.report import write_sweep_report
from lif_bridge.zoo import raw_network


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--mnist", type=int, default=300, help="test images for the MLP nets")
    parser.add_argument("--cnn", type=int, default=100, help="test images for the CNNs")
    parser.add_argument("--calibration", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--only", nargs="*", help="study names to run (default: all)")
    args = parser.parse_args()
    calib = load_dataset("mnist", "train", data_dir=args.data_dir, limit=args.calibration).x
    digits_calib = load_dataset("digits", "train").x
    studies = {  # in order of priority
        "fc_leak_vs_current": (
            "paper_mlp",
            {
                "bias_mode": ["leak", "current"],
                "encoder": ["regular", "poisson:0"],
                "steps": [32, 100, 300],
            },
        ),
        "biased_leak_vs_current": (
            "biased_digits_mlp",
            {
                "bias_mode": ["leak", "current"],
                "encoder": ["regular", "poisson:0"],
                "steps": [32, 100, 300],
            },
        ),
        "norm_paper_mlp": ("paper_mlp", NORM_GRID),
        "norm_digits_mlp": ("digits_mlp", NORM_GRID),
        "bn_cnn_bias_modes": ("bn_cnn", {"bias_mode": ["leak", "current"], "steps": [100]}),
        "norm_bn_cnn": ("bn_cnn", NORM_GRID),
        "norm_paper_cnn": ("paper_cnn", NORM_GRID),
        "fc_free_leak": ("paper_mlp", {"g_l": [0.0, 1.0, 3.0, 10.0], "steps": [32, 100, 300]}),
    }
    for name, (net_name, grid) in studies.items():
        if args.only and name not in args.only:
            continue
        if net_name == "bn_cnn":
            raw = bn_cnn_raw()
        elif net_name == "biased_digits_mlp":
            raw = biased_digits_mlp()
        else:
            raw = raw_network(net_name)
        digits = "digits" in net_name
        limit = None if digits else (args.cnn if "cnn" in net_name else args.mnist)
        test = load_dataset(
            "digits" if digits else "mnist", "test", data_dir=args.data_dir, limit=limit
        )
        outcome = run_sweep(
            raw,
            test.x,
            grid,
            Path(args.out) / name,
            labels=test.y,
            calibration=digits_calib if digits else calib,
            workers=args.workers,
            data_name=f"{'digits' if digits else 'mnist'}:test[:{len(test.x)}]",
        )
        report = write_sweep_report(
            outcome.rows, outcome.folder, title=f"{name}: {net_name}, {len(test.x)} test images"
        )
        print(
            f"{name}: {outcome.computed} computed, {outcome.reused} reused, "
            f"{len(outcome.failed)} failed -> {report}"
        )


if __name__ == "__main__":
    main()
