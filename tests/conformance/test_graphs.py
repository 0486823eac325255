"""Conformance on graphs: every backend's counts equal the pure step function's, per neuron.

The cases are the random graphs of :func:`lif_bridge.testing.random_graph` (identity shortcuts
skipping one or two weighted layers, a strided 1×1 projection shortcut, concatenation of two
branches through average pooling and of three branches through spiking max pooling), both reset
modes, both spiking encoders, per-layer and per-neuron parameters (with refractoriness), and
aligned shortcut delays, on the reference (compiled: batched, blocked; its NumPy path), Brian2
runtime (NumPy) and Lava (float). A backend that lowers graphs adds its variant to
``GRAPH_BACKENDS``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lif_bridge.backend import get_backend
from lif_bridge.network import Poisson, Readout, RegularRate, Simulation
from lif_bridge.plan import lower
from lif_bridge.step import simulate
from lif_bridge.testing import GRAPHS, random_graph, random_inputs

GRAPH_BACKENDS = [
    pytest.param("reference", {"batch_size": 2}, id="reference-batched"),
    pytest.param("reference", {"memory_gib": 1e-4}, id="reference-blocks"),
    pytest.param("reference", {"compiled": False}, id="reference-numpy"),
    pytest.param("brian2", {"device": "runtime"}, marks=pytest.mark.brian2, id="brian2-numpy"),
    pytest.param("lava", {"precision": "float"}, marks=pytest.mark.lava, id="lava-float"),
]

ENCODERS = {"regular": RegularRate(), "poisson": Poisson(seed=7)}


@pytest.mark.parametrize(("backend", "options"), GRAPH_BACKENDS)
@pytest.mark.parametrize("graph", GRAPHS)
@pytest.mark.parametrize(("reset", "encoder", "seed", "align"), [
    ("subtract", "regular", 0, False),
    ("zero", "poisson", 1, True),
])  # fmt: skip
def test_graph_counts_identical_to_step_function(
    backend: str, options: dict[str, Any], graph: str, reset: str, encoder: str, seed: int,
    align: bool,
) -> None:  # fmt: skip
    network = random_graph(
        seed, graph, reset=reset, per_neuron=bool(seed), refractory=0.02 if seed else 0.0,
        align_delays=align,
    )  # fmt: skip
    sim = Simulation(steps=50, dt=0.01, encoder=ENCODERS[encoder], readout=Readout(counts="all"))
    x = random_inputs(network, 3, seed=seed)
    plan = lower(network, sim)
    want = simulate(plan, plan.encode(x))
    program = get_backend(backend, **options).lower(network, sim)
    try:
        got = program.run(x).counts
    finally:
        program.close()
    assert sum(int(c.sum()) for c in want.values()) > 0, "silent network proves nothing"
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
