"""Per-step cost of the Lava backend on the paper MLP and the paper CNN (prints, never asserts).

Run in the Lava environment (Python 3.10)::

    .venv-lava/bin/python benchmarks/bench_lava_steps.py --samples 4 --steps 100

For each net and precision: the number of Lava processes, milliseconds per Lava step (the
best of ``--repeat`` runs of one compiled program, so Lava's compile and process start are
excluded), the CPU time per step of all Lava processes together (the main process and every
forked process: a figure that depends far less on the machine's load than wall time), and
whether the float counts equal the reference backend's (spike for spike, every layer).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from lif_bridge.backend import get_backend
from lif_bridge.data import load_mnist
from lif_bridge.network import Neurons, Readout, RegularRate, Simulation
from lif_bridge.zoo import paper_network


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes ``pids`` (Linux ``/proc``), in seconds."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def _time(net, sim, x, precision: str, repeat: int):  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs and the CPU time of all Lava processes in that run."""
    program = get_backend("lava", precision=precision, chunk=len(x)).lower(net, sim)
    try:
        program.run(x[:1])  # compile and start the processes
        infra = program._state.handle.runtime._messaging_infrastructure  # Lava's OS processes
        pids = [os.getpid(), *(a.pid for a in infra.actors)]
        best, cpu = float("inf"), float("inf")
        for _ in range(repeat):
            c0, t0 = _cpu_seconds(pids), time.perf_counter()
            res = program.run(x)
            wall, used = time.perf_counter() - t0, _cpu_seconds(pids) - c0
            if wall < best:
                best, cpu = wall, used
    finally:
        program.close()
    return res, best, cpu, res.info.get("processes", -1)


def main() -> None:
    """Time lava-float and lava-fixed on both nets; compare float counts with the reference."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=4)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--nets", default="paper_mlp,paper_cnn", help="comma-separated zoo nets")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per case (best is shown)")
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    args = ap.parse_args()
    calibration = load_mnist("train", data_dir=args.data_dir, limit=500).x
    x = load_mnist("test", data_dir=args.data_dir, limit=args.samples).x
    neurons = Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract")
    sim = Simulation(
        steps=args.steps, dt=0.01, encoder=RegularRate(), readout=Readout(counts="all")
    )
    load = os.getloadavg()[0]
    print(
        f"{args.samples} MNIST samples × {args.steps} steps; load {load:.1f}, {os.cpu_count()} CPUs"
    )
    print(
        "ms per Lava step (wall, best run; CPU: all Lava processes of that run), compile excluded"
    )
    print(
        f"{'net':<10} {'precision':<9} {'processes':>9} {'ms/step':>8} {'cpu ms':>8} "
        f"{'= reference':>12}"
    )
    for name in args.nets.split(","):
        net = paper_network(name, calibration=calibration, neurons=neurons)
        want = get_backend("reference").lower(net, sim).run(x)
        for precision in ("float", "fixed"):
            res, seconds, cpu, processes = _time(net, sim, x, precision, args.repeat)
            ms = seconds / (args.samples * args.steps) * 1e3
            cpu_ms = cpu / (args.samples * args.steps) * 1e3
            if precision == "float":
                same = all(np.array_equal(res.counts[k], want.counts[k]) for k in want.counts)
                verdict = "yes" if same else "NO"
            else:
                verdict = "(fixed)"
            print(
                f"{name:<10} {precision:<9} {processes:>9} {ms:>8.3f} {cpu_ms:>8.3f} {verdict:>12}"
            )


if __name__ == "__main__":
    main()
