"""Helpers the CUDA tests run in the Python 3.12 environment (``.venv-cuda``), as a script.

    python tests/backends/brian2/cuda_check.py build DIR   # generate + compile a one-layer net
    python tests/backends/brian2/cuda_check.py run         # on a GPU: 5 MNIST images vs reference

Test harness code, not part of the backend (it reads MNIST and runs the reference).
"""

from __future__ import annotations

import sys

import numpy as np

from lif_bridge.backend import get_backend, simulate
from lif_bridge.network import Dense, Network, Readout, Simulation
from lif_bridge.zoo import paper_network

SIM = Simulation(steps=300, dt=0.01, readout=Readout(counts="all"))


def one_layer_net() -> Network:
    """Input (16) -> Dense (10): every kind of code object the chains generate, once.

    The CUDA project of a chain has per population the same objects (input route, synapse
    creation, spike push, synaptic update, state update, threshold, reset, window reset,
    spike monitor); nvcc compiles each file for minutes on two cores, so the compile check
    builds one population instead of the paper MLP's two (the GPU run uses the paper MLP).
    """
    weight = np.random.default_rng(0).normal(0.1, 0.6, (10, 16))
    return Network(input_shape=(16,), layers=(Dense(weight=weight),))


def build(build_dir: str, samples: int = 2) -> str:
    """Generate and compile :func:`one_layer_net` for cuda_standalone; the project path."""
    backend = get_backend("brian2", device="cuda_standalone", build_dir=build_dir, keep_build=True)
    program = backend.lower(one_layer_net(), SIM)
    program.compile(samples)
    return str(program.info["project"])


def run(samples: int = 5) -> bool:
    """Counts of ``samples`` MNIST test images on the GPU equal the reference's."""
    from lif_bridge.data import load_mnist, resolve_data_dir

    x = load_mnist("test", data_dir=resolve_data_dir(), limit=samples).x
    net = paper_network("paper_mlp")
    want = simulate(net, x, SIM, "reference")
    got = simulate(net, x, SIM, "brian2", device="cuda_standalone", samples_per_run=samples)
    return all(np.array_equal(got.counts[k], want.counts[k]) for k in want.counts)


if __name__ == "__main__":
    if sys.argv[1] == "build":
        print(build(sys.argv[2]))
    else:
        sys.exit(0 if run() else 1)
