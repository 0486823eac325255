"""Reproduce Lu & Xu (2022)'s experiments and write a report with figures.

Usage::

    python examples/reproduce_paper.py OUT_DIR [--quick] [--data-dir MNIST_DIR]

the same as ``lif-bridge reproduce all --out OUT_DIR``. S1/S2 need nothing; FC, CNN and ERR
need the four MNIST IDX files (``--data-dir`` or ``$LIF_BRIDGE_DATA_DIR``). Torch is not needed:
the paper's nets are built from the shipped weights. The full run takes about 15 minutes on two
cores (FC: 10,000 test images × 300 steps plus the sweeps; CNN: 2,000 images × 200 steps).
"""

from __future__ import annotations

import argparse

from lif_bridge.experiments import run_experiments


def main() -> None:
    """Parse the arguments, run every experiment, print the key numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--quick", action="store_true", help="reduced sizes (smoke test)")
    parser.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files")
    args = parser.parse_args()
    payload = run_experiments(["all"], args.out, data_dir=args.data_dir, quick=args.quick)
    for key, res in payload["experiments"].items():
        print(f"== {key}: {res['title']}")
        for r in res["table"][:4]:
            print(f"   {r['quantity']}: ours {r['ours']}  (paper {r['paper']})")
    print(f"report: {args.out}/report.md")


if __name__ == "__main__":
    main()
