"""lif-bridge's Brian2 cpp_standalone next to a hand-written Brian2 script of the same net (prints).

    .venv/bin/python benchmarks/bench_brian2_handwritten.py --samples 200 --steps 100

The hand-written script is what a competent Brian2 user would write for the paper MLP
(784-600-10, IF neurons, the zoo weights): the rate inputs are phase accumulators driven by a
``TimedArray`` of per-sample probabilities, the bias is a current in the ODE, the reset is
``v -= v_th``, the state is reset at every sample window with ``run_regularly``, and all samples
run in one long cpp_standalone run with Brian2's default compiler flags (``--hand-source-major``:
synapses connected source by source; ``--hand-jump-volts``: the jump ``w/C_m`` stored in volts,
``on_pre="v_post += w"``, no division per event). lif-bridge runs the same
net and images on ``cpp_standalone`` (compiled once for all samples, its default of one run of
the binary per batch). Printed: compile time (code generation and ``make``), run time of the
binary (best of ``--repeat`` runs, the two binaries interleaved so that they share the load),
each as wall seconds and as CPU seconds of the child processes (``make`` and its compilers, the
binary: the figure a loaded machine distorts least), throughput in sample-steps/s, the ratios,
and whether the output counts agree (the hand-written script is not bound to the contract: it
may differ by a spike). ``--threads`` gives both the same OpenMP threads. Timings, not tests:
nothing here asserts. MNIST from ``--data-dir`` or ``$LIF_BRIDGE_DATA_DIR``.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time

import numpy as np

from lif_bridge.backend import get_backend
from lif_bridge.data import load_mnist
from lif_bridge.network import Readout, Simulation
from lif_bridge.zoo import paper_network


def child_cpu() -> float:
    """CPU seconds (user + system) of this process's finished children: make, the binary."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


class Clock:
    """Wall and child-CPU seconds of a block (``with Clock() as c: ...; c.wall, c.cpu``)."""

    def __enter__(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), child_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self.wall, child_cpu() - self.cpu


def handwritten(
    w1: np.ndarray,
    w2: np.ndarray,
    p: np.ndarray,
    steps: int,
    dt: float,
    folder: str,
    threads: int,
    source_major: bool = False,
    jump_volts: bool = False,
) -> tuple[np.ndarray, Clock, Clock]:
    """Output counts ``(samples, 10)``, compile and run clocks of the hand-written script."""
    import brian2 as b2

    b2.set_device("cpp_standalone", build_on_run=False)
    b2.device.reinit()
    b2.device.activate(build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = threads
    b2.defaultclock.dt = dt * b2.second
    samples, n_in = p.shape
    window = steps * dt * b2.second
    rates = b2.TimedArray(p, dt=window)  # spikes per step, one row per sample
    inp = b2.NeuronGroup(
        n_in,
        "dphase/dt = rates(t, i)/dt : 1",
        threshold="phase >= 1",
        reset="phase -= 1",
        method="euler",
        namespace={"rates": rates},
    )
    eqs = "dv/dt = (I_b - g_l*v)/C_m : volt\nI_b : amp\ng_l : siemens\nC_m : farad\nv_th : volt"
    layers = []
    for n in (w1.shape[0], w2.shape[0]):
        g = b2.NeuronGroup(n, eqs, threshold="v >= v_th", reset="v -= v_th", method="euler")
        g.C_m, g.g_l, g.I_b, g.v_th = 1 * b2.farad, 0 * b2.siemens, 0 * b2.amp, 1 * b2.volt
        g.run_regularly("v = 0*volt", dt=window)
        layers.append(g)
    inp.run_regularly("phase = 0", dt=window)
    syns = []
    for src, tgt, w in ((inp, layers[0], w1), (layers[0], layers[1], w2)):
        if jump_volts:  # the jump w/C_m (C_m = 1 F) stored per synapse, in volts
            s = b2.Synapses(src, tgt, "w : volt (constant)", on_pre="v_post += w")
        else:
            s = b2.Synapses(src, tgt, "w : coulomb (constant)", on_pre="v_post += w/C_m_post")
        pre, post = np.nonzero(w.T) if source_major else np.nonzero(w)[::-1]
        s.connect(i=pre, j=post)
        s.w = w[post, pre] * (b2.volt if jump_volts else b2.coulomb)
        syns.append(s)
    mon = b2.SpikeMonitor(layers[1])
    net = b2.Network(inp, *layers, *syns, mon)
    net.run(samples * window, namespace={})
    with Clock() as compile_c:
        b2.device.build(directory=folder, compile=True, run=False, with_output=False)
    with Clock() as run_c:
        b2.device.run(folder, with_output=False, run_args=None)
    k = np.round(np.asarray(mon.t / b2.second) / dt).astype(int) // steps
    counts = np.zeros((samples, w2.shape[0]), dtype=np.int64)
    np.add.at(counts, (k, np.asarray(mon.i)), 1)
    b2.device.reinit()
    b2.set_device("runtime")
    b2.prefs.devices.cpp_standalone.openmp_threads = 0
    return counts, compile_c, run_c


def rerun(folder: str) -> Clock:
    """Run the hand-written script's compiled binary again (same inputs, same results)."""
    with Clock() as c:
        subprocess.run(["./main"], cwd=folder, check=True, capture_output=True)
    return c


def _row(name: str, compile_c: Clock, runs: list[Clock], work: int) -> Clock:
    best = min(runs, key=lambda c: c.wall)
    print(
        f"{name:>26} {compile_c.wall:9.1f} {compile_c.cpu:9.1f} {best.wall:8.2f} {best.cpu:8.2f}"
        f" {work / best.wall:10.0f} {work / max(best.cpu, 1e-9):10.0f}"
    )
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each binary (best counts)")
    ap.add_argument("--threads", type=int, default=0, help="OpenMP threads of both (0: serial)")
    ap.add_argument(
        "--hand-source-major",
        action="store_true",
        help="connect the hand-written synapses source by source (default: np.nonzero(w) order)",
    )
    ap.add_argument(
        "--hand-jump-volts",
        action="store_true",
        help="the script stores the jump w/C_m in volts (on_pre 'v_post += w'): no division",
    )
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    args = ap.parse_args()
    net = paper_network("paper_mlp")
    sim = Simulation(steps=args.steps, dt=0.01, readout=Readout())
    x = np.asarray(load_mnist("test", data_dir=args.data_dir, limit=args.samples).x, np.float64)
    flat = x.reshape(len(x), -1)
    p = np.clip(flat * sim.input_rate(net) * sim.dt, 0.0, 1.0)
    w1, w2 = (np.asarray(layer.weight) for layer in net.layers if hasattr(layer, "weight"))
    work = len(x) * args.steps
    print(
        f"paper MLP 784-600-10, {len(x)} MNIST images, {args.steps} steps (sample-steps {work}),"
        f" OpenMP threads {args.threads}, best of {args.repeat} runs; load {os.getloadavg()}"
    )

    with tempfile.TemporaryDirectory(prefix="bench-hand-") as hand_dir, \
            tempfile.TemporaryDirectory(prefix="bench-lb-") as lb_dir:  # fmt: skip
        hand, hand_c, hand_r = handwritten(
            w1,
            w2,
            p,
            args.steps,
            sim.dt,
            hand_dir,
            args.threads,
            args.hand_source_major,
            args.hand_jump_volts,
        )
        hand_runs = [hand_r]
        # default samples_per_run: every image of the first batch in one run of the binary
        backend = get_backend("brian2", device="cpp_standalone", build_dir=lb_dir,
                              threads=args.threads)  # fmt: skip
        program = backend.lower(net, sim)
        with Clock() as lb_c:
            program.compile(len(x))
        lb_runs = []
        for _ in range(args.repeat):  # interleaved, so that both see the same load
            with Clock() as c:
                res = program.run(x)
            lb_runs.append(c)
            if len(hand_runs) < args.repeat:
                hand_runs.append(rerun(hand_dir))
        program.close()
    same = float(np.mean(np.all(res.output_counts == hand, axis=1)))
    print(f"{'':>26} {'compile s':>9} {'(CPU s)':>9} {'run s':>8} {'(CPU s)':>8}"
          f" {'s-steps/s':>10} {'(per CPU)':>10}")  # fmt: skip
    h = _row("hand-written Brian2", hand_c, hand_runs, work)
    b = _row("lif-bridge cpp_standalone", lb_c, lb_runs, work)
    print(
        f"throughput lif-bridge / hand-written: {h.wall / b.wall:.2f}x wall,"
        f" {h.cpu / max(b.cpu, 1e-9):.2f}x CPU; compile {lb_c.wall / hand_c.wall:.2f}x wall"
    )
    print(
        f"binary runs per batch: {len(x) // program.samples_per_run}"
        f" ({program.samples_per_run} samples per run)"
    )
    print(f"samples with identical output counts: {same:.1%}; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
