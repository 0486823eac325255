"""One conformance suite for every backend: spike counts identical to the reference backend.

Each backend variant is a parameter with the marker of the framework it needs; an environment
without that framework deselects it with ``-m`` (see the README's test command), nothing is
skipped. Networks come from :mod:`lif_bridge.testing` (dense, conv + avg pool, conv + spiking max
pool, mixed; both reset modes; leak and bias current; per-layer and per-neuron parameters).
"""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.backend import simulate
from lif_bridge.network import Poisson, Readout, RegularRate, Simulation
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network

BACKENDS = [
    pytest.param("reference", {"batch_size": 2}, id="reference-batched"),
    pytest.param("brian2", {"device": "runtime"}, marks=pytest.mark.brian2, id="brian2-numpy"),
    pytest.param("brian2", {"device": "cython"}, marks=pytest.mark.brian2, id="brian2-cython"),
    pytest.param(
        "brian2",
        {"device": "cpp_standalone"},
        marks=[pytest.mark.brian2, pytest.mark.slow],
        id="brian2-cpp_standalone",
    ),
    pytest.param("lava", {"precision": "float"}, marks=pytest.mark.lava, id="lava-float"),
]

ENCODERS = {"regular": RegularRate(), "poisson": Poisson(seed=7)}


@pytest.mark.parametrize(("backend", "options"), BACKENDS)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
@pytest.mark.parametrize("seed", [0, 1])
def test_counts_identical_to_reference(
    backend: str, options: dict, architecture: str, reset: str, encoder: str, seed: int
) -> None:
    network = random_network(
        seed,
        architecture,
        reset=reset,
        per_neuron=bool(seed % 2),
        refractory=0.02 if seed % 2 else 0.0,
    )
    x = random_inputs(network, 3, seed=seed)
    sim = Simulation(steps=60, dt=0.01, encoder=ENCODERS[encoder], readout=Readout(counts="all"))
    want = simulate(network, x, sim, "reference")
    got = simulate(network, x, sim, backend, **options)
    assert set(got.counts) == set(want.counts)
    total = sum(int(c.sum()) for c in want.counts.values())
    assert total > 0, "the test network is silent; it proves nothing"
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)
