"""Per-sample cost of the Brian2 devices next to the reference backend (prints figures).

    .venv/bin/python benchmarks/bench_brian2.py --model cnn --samples 200 --steps 200
    .venv/bin/python benchmarks/bench_brian2.py --model mlp --samples 50 --steps 300

The paper's CNN (Table 5) or MLP (784-600-10) with the zoo weights as trained
(:func:`lif_bridge.zoo.paper_network`), MNIST test images (``--data-dir`` or
``$LIF_BRIDGE_DATA_DIR``), regular coding. cpp_standalone is compiled once for all
``--samples`` (compile time printed separately) and runs them in one process; the runtime
devices (numpy, cython) run ``--runtime-samples`` images. Counts of every device are checked
against the reference. Timings, not tests: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from lif_bridge.backend import get_backend
from lif_bridge.data import load_mnist
from lif_bridge.network import Readout, Simulation
from lif_bridge.zoo import paper_network


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--runtime-samples", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--max-rate", type=float, default=None, help="Hz; cnn default 10 (paper)")
    ap.add_argument("--devices", default="reference,cpp_standalone,cython,runtime")
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    args = ap.parse_args()

    net = paper_network("paper_cnn" if args.model == "cnn" else "paper_mlp")
    rate = args.max_rate or (10.0 if args.model == "cnn" else None)
    sim = Simulation(steps=args.steps, dt=0.01, max_rate=rate, readout=Readout(counts="all"))
    x = load_mnist("test", data_dir=args.data_dir, limit=args.samples).x
    x = np.asarray(x, dtype=np.float64)
    print(f"model {args.model}, {len(x)} MNIST images, {args.steps} steps, max_rate {rate}")
    results = {}
    for device in args.devices.split(","):
        n = len(x) if device in ("reference", "cpp_standalone") else args.runtime_samples
        if device == "reference":
            backend = get_backend("reference")
        else:
            tmp = tempfile.mkdtemp(prefix="bench-brian2-")
            backend = get_backend("brian2", device=device, build_dir=tmp, samples_per_run=len(x))
        t0 = time.perf_counter()
        program = backend.lower(net, sim)
        lower_s = time.perf_counter() - t0
        compile_s = 0.0
        if device == "cpp_standalone":
            compile_s = program.compile(len(x))  # type: ignore[attr-defined]
        elif device in ("cython", "runtime"):
            t_warm = time.perf_counter()  # code generation (and Cython compilation) on first run
            program.run(x[:1])
            compile_s = time.perf_counter() - t_warm
        t1 = time.perf_counter()
        res = program.run(x[:n])
        run_s = time.perf_counter() - t1
        program.close()
        results[device] = res
        same = ""
        if "reference" in results and device != "reference":
            ref = results["reference"]
            same = all(
                np.array_equal(res.counts[k], np.asarray(ref.counts[k])[:n]) for k in ref.counts
            )
            same = f"identical to reference: {same}"
        print(
            f"{device:>15}: {1e3 * run_s / n:9.1f} ms/sample over {n} samples"
            f"  (lower {lower_s:.2f} s, compile/warm-up {compile_s:.1f} s)  {same}",
            flush=True,
        )
    if "reference" in results and "cpp_standalone" in results:
        ref_ps = results["reference"].seconds / len(x)
        cpp_ps = results["cpp_standalone"].seconds / len(x)
        print(f"cpp_standalone / reference per-sample cost: {cpp_ps / ref_ps:.2f}x")


if __name__ == "__main__":
    main()
