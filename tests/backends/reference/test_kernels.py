"""The compiled population kernels against the step-by-step reference simulator.

Every population of every conformance architecture, run one population at a time over all steps
(:mod:`lif_bridge_reference.layerwise`), must give the very counts of the step loop; on a network
whose arithmetic is exact the membrane traces must be bit-identical too; and the max-pool kernel
must pass the same spikes as the event-driven gate of the step loop.
"""

from __future__ import annotations

import numpy as np
import pytest
from lif_bridge_reference import kernels
from lif_bridge_reference.layerwise import PopulationRun, run_layerwise
from lif_bridge_reference.ops import MaxPoolGate
from lif_bridge_reference.simulator import ReferenceProgram

from lif_bridge.network import (
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Poisson,
    Readout,
    RegularRate,
    Simulation,
)
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network


def _both(net: Network, sim: Simulation, x: np.ndarray) -> tuple[dict, dict, dict, list]:
    want = ReferenceProgram(net, sim, batch_size=None, memory_bytes=2**28).run(x)
    runs = [PopulationRun(p, sim.dt) for p in net.populations]
    traces = {n: np.empty((len(x), sim.steps, net.population(n).size)) for n in want.traces}
    counts = run_layerwise(net, runs, sim.encode(net, x, 0), traces)
    got = {p.name: c for p, c in zip(net.populations, counts, strict=True)}
    return want.counts, got, traces, [r.kind for r in runs]


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("seed", [0, 1])
def test_layerwise_counts_identical_to_step_loop(architecture: str, seed: int) -> None:
    net = random_network(
        seed,
        architecture,
        reset="zero" if seed else "subtract",
        per_neuron=bool(seed),
        refractory=0.02 if seed else 0.0,
    )
    encoder = Poisson(seed=3) if seed else RegularRate()
    sim = Simulation(steps=40, dt=0.01, encoder=encoder, readout=Readout(counts="all"))
    want, got, _, _ = _both(net, sim, random_inputs(net, 3, seed=seed))
    assert sum(int(c.sum()) for c in want.values()) > 0
    for name, counts in want.items():
        np.testing.assert_array_equal(got[name], counts, err_msg=name)


def test_exact_network_traces_bit_identical_on_every_kernel() -> None:
    """Dyadic weights and thresholds: every sum is exact, so ``v`` must agree to the last bit."""
    rng = np.random.default_rng(0)
    w1 = rng.integers(-4, 9, (4, 1, 3, 3)) / 8.0
    w2 = rng.integers(-4, 9, (3, 4, 2, 2)) / 8.0
    w3 = rng.integers(-4, 9, (5, 27)) / 8.0
    net = Network(
        input_shape=(1, 8, 8),
        layers=(
            Conv2d(weight=w1, padding=1, neurons=Neurons(v_th=0.75), name="c1"),
            MaxPool2d(kernel_size=2),
            Conv2d(weight=w2, stride=1, neurons=Neurons(v_th=0.5, reset="zero"), name="c2"),
            Flatten(),
            Dense(weight=w3, neurons=Neurons(v_th=1.0, i_bias=0.25), name="d"),
        ),
    )
    names = ("c1", "c2", "d")
    sim = Simulation(steps=30, dt=0.25, max_rate=4.0, readout=Readout(counts="all", traces=names))
    x = np.round(random_inputs(net, 2, seed=1) * 4) / 4
    want, got, traces, kinds = _both(net, sim, x)
    assert kinds == ["conv", "conv", "dense"]
    ref = ReferenceProgram(net, sim, batch_size=None, memory_bytes=2**28).run(x)
    for name in names:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)
        np.testing.assert_array_equal(traces[name], ref.traces[name], err_msg=name)
    assert all(int(c.sum()) > 0 for c in want.values())


def test_maxpool_kernel_equals_event_driven_gate() -> None:
    rng = np.random.default_rng(2)
    stage = MaxPool2d(kernel_size=2, stride=1)
    shape = (2, 5, 5)
    spikes = (rng.random((3, 50, 50)) < 0.3).astype(np.uint8)
    gate = MaxPoolGate(stage, shape)
    gate.reset(3)
    want = np.zeros((3, 50, gate.n_out), dtype=np.uint8)
    for t in range(50):
        passed = np.zeros(3 * gate.n_out, dtype=np.uint8)
        passed[gate(np.flatnonzero(spikes[:, t]), 3)] = 1
        want[:, t] = passed.reshape(3, gate.n_out)
    got = np.zeros_like(want)
    kernels.maxpool_gate(spikes, gate.windows, got)
    np.testing.assert_array_equal(got, want)
    assert want.sum() > 0
