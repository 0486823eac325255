"""lif-bridge's Brian2 cpp_standalone next to a hand-written Brian2 script of the same net (prints).

    .venv/bin/python benchmarks/bench_brian2_handwritten.py --samples 200 --steps 100

The hand-written script is what a competent Brian2 user would write for the paper MLP
(784-600-10, IF neurons, the zoo weights): the rate inputs are phase accumulators driven by a
``TimedArray`` of per-sample probabilities, the bias is a current in the ODE, the reset is
``v -= v_th``, the state is reset at every sample window with ``run_regularly``, and all samples
run in one long cpp_standalone run with Brian2's default compiler flags. lif-bridge runs the same
net and images on ``cpp_standalone`` (compiled once for all samples). Printed: compile time,
run time, throughput in sample-steps/s, their ratio, and whether the output counts agree
(the hand-written script is not bound to the contract: it may differ by a spike). Timings, not
tests: nothing here asserts. MNIST from ``--data-dir`` or ``$LIF_BRIDGE_DATA_DIR``.
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


def handwritten(
    w1: np.ndarray, w2: np.ndarray, p: np.ndarray, steps: int, dt: float, folder: str
) -> tuple[np.ndarray, float, float]:
    """Output counts ``(samples, 10)``, compile and run seconds of the hand-written script."""
    import brian2 as b2

    b2.set_device("cpp_standalone", build_on_run=False)
    b2.device.reinit()
    b2.device.activate(build_on_run=False)
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
        s = b2.Synapses(src, tgt, "w : coulomb (constant)", on_pre="v_post += w/C_m_post")
        post, pre = np.nonzero(w)
        s.connect(i=pre, j=post)
        s.w = w[post, pre] * b2.coulomb
        syns.append(s)
    mon = b2.SpikeMonitor(layers[1])
    net = b2.Network(inp, *layers, *syns, mon)
    net.run(samples * window, namespace={})
    t0 = time.perf_counter()
    b2.device.build(directory=folder, compile=True, run=False, with_output=False)
    compile_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    b2.device.run(folder, with_output=False, run_args=None)
    run_s = time.perf_counter() - t1
    k = np.round(np.asarray(mon.t / b2.second) / dt).astype(int) // steps
    counts = np.zeros((samples, w2.shape[0]), dtype=np.int64)
    np.add.at(counts, (k, np.asarray(mon.i)), 1)
    b2.device.reinit()
    b2.set_device("runtime")
    return counts, compile_s, run_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--data-dir", default=None, help="MNIST folder (default $LIF_BRIDGE_DATA_DIR)")
    args = ap.parse_args()
    net = paper_network("paper_mlp")
    sim = Simulation(steps=args.steps, dt=0.01, readout=Readout())
    x = np.asarray(load_mnist("test", data_dir=args.data_dir, limit=args.samples).x, np.float64)
    flat = x.reshape(len(x), -1)
    p = np.clip(flat * sim.input_rate(net) * sim.dt, 0.0, 1.0)
    w1, w2 = (np.asarray(layer.weight) for layer in net.layers if hasattr(layer, "weight"))
    work = len(x) * args.steps
    print(f"paper MLP 784-600-10, {len(x)} MNIST images, {args.steps} steps (sample-steps {work})")

    with tempfile.TemporaryDirectory(prefix="bench-hand-") as folder:
        hand, hand_c, hand_r = handwritten(w1, w2, p, args.steps, sim.dt, folder)
    with tempfile.TemporaryDirectory(prefix="bench-lb-") as folder:
        backend = get_backend(
            "brian2", device="cpp_standalone", build_dir=folder, samples_per_run=len(x)
        )
        program = backend.lower(net, sim)
        lb_c = program.compile(len(x))
        t0 = time.perf_counter()
        res = program.run(x)
        lb_r = time.perf_counter() - t0
        program.close()
    same = float(np.mean(np.all(res.output_counts == hand, axis=1)))
    print(f"{'':>22} {'compile s':>10} {'run s':>8} {'sample-steps/s':>15}")
    print(f"{'hand-written Brian2':>22} {hand_c:10.1f} {hand_r:8.2f} {work / hand_r:15.0f}")
    print(f"{'lif-bridge cpp_standalone':>22} {lb_c:10.1f} {lb_r:8.2f} {work / lb_r:15.0f}")
    print(f"throughput lif-bridge / hand-written: {hand_r / lb_r:.2f}x")
    print(f"samples with identical output counts: {same:.1%}")


if __name__ == "__main__":
    main()
