"""Effect of aligning residual paths with shortcut delays on SNN/ANN agreement (prints only).

A shortcut skipping ``k`` weighted layers delivers its spikes ``k - 1`` steps before the conv
path (each weighted layer adds one step of latency, see :mod:`lif_bridge.semantics`); a delay
of ``k - 1`` steps on the shortcut aligns both. This converts small random residual graphs
(max normalisation, bias as current) and prints the agreement of the output spike counts'
argmax with the ANN view's argmax, with and without the delays, at several window lengths.

Run: ``python benchmarks/bench_graph_delays.py [--samples 300]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from lif_bridge import ann_forward, get_backend
from lif_bridge.convert.scale import convert_network
from lif_bridge.network import Network, Neurons, Readout, RegularRate, Simulation
from lif_bridge.testing import random_graph, random_inputs


def _raw(graph: str, seed: int, align: bool) -> Network:
    net = random_graph(seed, graph, align_delays=align)
    rng = np.random.default_rng(seed + 100)
    nodes = tuple(
        n.replace(
            neurons=Neurons(), ann_bias=rng.normal(0.0, 0.05, net.population(n.name).shape[0])
        )
        for n in net.nodes
    )
    return Network(input_shape=net.input_shape, nodes=nodes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--max-rate", type=float, default=500.0, help="Hz, with dt = 1 ms")
    args = parser.parse_args()
    steps_list = (10, 20, 50, 100, 300)
    print(f"{'graph':<18} {'delays':<8} " + " ".join(f"T={t:<5}" for t in steps_list))
    for graph in ("identity_skip2", "projection_skip2"):
        for align in (False, True):
            agree = {t: [] for t in steps_list}
            for seed in range(args.seeds):
                raw = _raw(graph, seed, align)
                x = random_inputs(raw, args.samples, seed=seed + 7)
                net = convert_network(raw, normalize="max", calibration=x, max_rate=args.max_rate)
                want = ann_forward(net, x).argmax(axis=1)
                for t in steps_list:
                    sim = Simulation(steps=t, dt=0.001, encoder=RegularRate(), readout=Readout())
                    counts = get_backend("reference").lower(net, sim).run(x).output_counts
                    agree[t].append(float(np.mean(counts.argmax(axis=1) == want)))
            row = " ".join(f"{100 * np.mean(agree[t]):6.1f}%" for t in steps_list)
            print(f"{graph:<18} {'aligned' if align else 'none':<8} {row}")


if __name__ == "__main__":
    main()
