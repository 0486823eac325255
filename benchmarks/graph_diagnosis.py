"""Where a converted graph net departs from its ANN, population by population (prints only).

For a network file from ``lif-bridge convert``, on MNIST test images (regular rate coding, the
reference step function :func:`lif_bridge.step.step`, counts taken at every window of
``--steps`` in one pass, which equals separate runs of those lengths for regular coding):

- per population: the ANN view's rates (mean, 99th percentile, fraction above ``1/dt``, i.e.
  saturated), the SNN's mean rate, its relative bias and mean absolute error against the ANN
  rate clipped to ``[0, 1/dt]``, and the Pearson correlation over all neurons and samples;
- per projection: the mean absolute row sum of its synapses in thresholds (what one spike of
  every source neuron moves the membrane by), its mean drive, and the cancellation ratio
  ``Σ|M| r / |Σ M r|`` (a ratio ``c`` amplifies the count errors of the sources about ``c``-fold);
  the bias current in Hz beside it (a current acts from step 0, the synaptic drive of a population
  ``k`` weighted layers deep from step ``k``).

Run: ``python benchmarks/graph_diagnosis.py NET.npz [--samples 200] [--steps 32,100,300]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import lif_bridge as lb
from lif_bridge.ann import ann_activations, ann_bias, iter_ann
from lif_bridge.data import load_mnist
from lif_bridge.network import Readout, RegularRate, Simulation
from lif_bridge.plan import lower
from lif_bridge.step import initial_state, step


def projections(net: lb.Network, x: np.ndarray) -> None:
    """Print the drive, gain and cancellation of every projection, and the bias."""
    for st in iter_ann(net, x, max_rate=net.max_rate):
        pop = st.population
        nrn = pop.neurons.broadcast(pop.size)
        b = ann_bias(pop) / (nrn["v_th"] * nrn["c_m"])
        print(
            f"{pop.name}: rate {st.rates.mean():.2f} Hz, "
            f"bias mean {b.mean():+.2f} |b| {np.abs(b).mean():.2f}"
        )
        for (z, m), edge in zip(st.terms, pop.projections, strict=True):
            drive = np.asarray((m @ z.T).T)
            gross = np.asarray((abs(m) @ z.T).T)
            rows = np.asarray(abs(m).sum(axis=1)).ravel()
            print(
                f"    <- {edge.source_name:<14} row sum |M| {rows.mean():5.2f} "
                f"(max {rows.max():5.2f})  drive {drive.mean():+7.2f} Hz  "
                f"cancellation {gross.mean() / np.abs(drive).mean():5.2f}"
            )


def counts_at(
    net: lb.Network, x: np.ndarray, windows: list[int], dt: float
) -> dict[int, dict[str, np.ndarray]]:
    """Spike counts of every population after each window, one pass of ``max(windows)`` steps."""
    sim = Simulation(
        steps=max(windows), dt=dt, encoder=RegularRate(), readout=Readout(counts="all")
    )
    plan = lower(net, sim)
    out: dict[int, dict[str, list[np.ndarray]]] = {
        t: {p.name: [] for p in net.populations} for t in windows
    }
    for lo in range(0, len(x), 100):
        e = plan.encode(x[lo : lo + 100])
        state = initial_state(plan, e.shape[0])
        counts = [np.zeros((e.shape[0], p.size), np.int64) for p in plan.populations]
        for k in range(e.shape[1]):
            state, spikes = step(plan, state, e[:, k, :])
            for c, s in zip(counts, spikes, strict=True):
                c += s
            if k + 1 in out:
                for p, c in zip(plan.populations, counts, strict=True):
                    out[k + 1][p.name].append(c.copy())
    return {t: {n: np.concatenate(v) for n, v in d.items()} for t, d in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("network")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--steps", default="32,100,300")
    parser.add_argument("--dt", type=float, default=0.01)
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args()
    net = lb.load_network(args.network)
    test = load_mnist("test", data_dir=args.data_dir, limit=args.samples)
    x = np.asarray(test.x, dtype=np.float64)
    print(
        "factors",
        {k: round(v, 3) for k, v in net.metadata.get("conversion", {}).get("factors", {}).items()},
    )
    projections(net, x)
    acts = ann_activations(net, x, max_rate=net.max_rate)
    for pop in net.populations:
        r = acts[pop.name]
        print(
            f"{pop.name:>14}: ANN mean {r.mean():6.2f} Hz  p99 {np.percentile(r, 99):6.2f}  "
            f"saturated {np.mean(r * args.dt > 1):.4f}"
        )
    windows = sorted(int(s) for s in args.steps.split(","))
    start = time.perf_counter()
    counts = counts_at(net, x, windows, args.dt)
    ann_out = acts[net.output.name]
    print(f"[{len(x)} samples x {max(windows)} steps in {time.perf_counter() - start:.0f} s]")
    for t in windows:
        out = counts[t][net.output.name]
        agree = np.mean(out.argmax(axis=1) == ann_out.argmax(axis=1))
        print(f"T = {t}: agreement {agree:.4f}")
        for pop in net.populations:
            c = counts[t][pop.name] / (t * args.dt)
            r = np.clip(acts[pop.name], 0.0, 1.0 / args.dt)
            scale = max(float(r.mean()), 1e-12)
            corr = np.corrcoef(c.ravel(), acts[pop.name].ravel())[0, 1]
            print(
                f"   {pop.name:>14}: SNN {c.mean():6.2f} Hz  "
                f"bias {(c.mean() - r.mean()) / scale:+.3f}  "
                f"|err| {np.abs(c - r).mean() / scale:.3f}  corr {corr:.4f}"
            )


if __name__ == "__main__":
    main()
