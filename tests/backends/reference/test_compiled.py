"""The reference backend's compiled path (the default) against its NumPy step path.

Every random chain and graph of :mod:`lif_bridge.testing` (both resets, per-neuron parameters with
refractoriness, aligned shortcut delays, one block or many) must give the very counts of the
NumPy transcription of the step rule (``compiled=False``); on a network whose arithmetic is
exact the membrane traces must be bit-identical too; the max-pool kernel must pass the spikes of
the event-driven gate of the step path, across blocks.
"""

from __future__ import annotations

import numpy as np
import pytest
from lif_bridge_reference import ReferenceBackend, fused
from lif_bridge_reference.ops import MaxPoolGate
from lif_bridge_reference.simulator import COMPILED_ENV, ReferenceProgram

from lif_bridge.backend import Result, get_backend
from lif_bridge.errors import ValidationError
from lif_bridge.network import (
    ConstantCurrent,
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
from lif_bridge.testing import ARCHITECTURES, GRAPHS, random_graph, random_inputs, random_network


def _both(net: Network, sim: Simulation, x: np.ndarray, memory: int) -> tuple[Result, Result]:
    runs = [
        ReferenceProgram(net, sim, batch_size=None, memory_bytes=memory, compiled=c).run(x)
        for c in (False, True)
    ]
    return runs[0], runs[1]


def _assert_same_counts(want: Result, got: Result) -> None:
    assert set(got.counts) == set(want.counts)
    assert sum(int(c.sum()) for c in want.counts.values()) > 0, "a silent network proves nothing"
    for name, counts in want.counts.items():
        np.testing.assert_array_equal(got.counts[name], counts, err_msg=name)


CASES = [("chain", a) for a in ARCHITECTURES] + [("graph", g) for g in GRAPHS]


@pytest.mark.parametrize(("family", "architecture"), CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_compiled_counts_identical_to_numpy_step_path(
    family: str, architecture: str, seed: int
) -> None:
    options = {
        "reset": "zero" if seed else "subtract",
        "per_neuron": bool(seed),
        "refractory": 0.02 if seed else 0.0,
    }
    if family == "chain":
        net = random_network(seed, architecture, **options)  # type: ignore[arg-type]
    else:
        net = random_graph(seed, architecture, align_delays=bool(seed), **options)  # type: ignore[arg-type]
    encoder = Poisson(seed=3) if seed else RegularRate()
    sim = Simulation(
        steps=40, dt=0.01, encoder=encoder, readout=Readout(counts="all", traces=(net.output.name,))
    )
    # seed 1: a budget so small that every step is its own block (state carried across blocks)
    want, got = _both(net, sim, random_inputs(net, 3, seed=seed), 2**12 if seed else 2**28)
    assert got.info["compiled"] and not want.info["compiled"]
    _assert_same_counts(want, got)
    name = net.output.name
    np.testing.assert_allclose(got.traces[name], want.traces[name], rtol=0, atol=1e-9)


def test_compiled_constant_current_encoder() -> None:
    net = random_network(0, "mixed")
    sim = Simulation(steps=30, dt=0.01, encoder=ConstantCurrent(), readout=Readout(counts="all"))
    want, got = _both(net, sim, random_inputs(net, 2, seed=4), 2**28)
    _assert_same_counts(want, got)


def test_exact_network_traces_bit_identical_on_every_form() -> None:
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
    program = ReferenceProgram(net, sim, batch_size=None, memory_bytes=2**28, compiled=True)
    assert program.prepared is not None
    assert [p.kinds for p in program.prepared] == [[fused.CONV], [fused.CONV], [fused.DENSE]]
    want = ReferenceProgram(net, sim, batch_size=None, memory_bytes=2**28, compiled=False).run(x)
    got = program.run(x)
    _assert_same_counts(want, got)
    for name in names:
        np.testing.assert_array_equal(got.traces[name], want.traces[name], err_msg=name)
    assert all(int(c.sum()) > 0 for c in want.counts.values())


def test_gate_kernel_equals_event_driven_gate_across_blocks() -> None:
    rng = np.random.default_rng(2)
    stage = MaxPool2d(kernel_size=2, stride=1)
    shape = (2, 5, 5)
    spikes = (rng.random((50, 3, 50)) < 0.3).astype(np.uint8)  # (steps, batch, units)
    gate = MaxPoolGate(stage, shape)
    gate.reset(3)
    want = np.zeros((50, 3, gate.n_out), dtype=np.uint8)
    for t in range(50):
        passed = np.zeros(3 * gate.n_out, dtype=np.uint8)
        passed[gate(np.flatnonzero(spikes[t]), 3)] = 1
        want[t] = passed.reshape(3, gate.n_out)
    counts = np.zeros((3, gate.n_in), np.int64)
    winner = np.full((3, gate.n_out), -1, np.int64)
    got = np.empty_like(want)
    for t0 in range(0, 50, 7):  # blocks of 7 steps, the state carried over
        part = np.empty((min(7, 50 - t0), 3, gate.n_out), np.uint8)
        fused.gate_block(spikes[t0 : t0 + 7].copy(), gate.windows, counts, winner, part)
        got[t0 : t0 + 7] = part
    np.testing.assert_array_equal(got, want)
    assert want.sum() > 0


def test_compiled_is_the_default_and_numpy_the_documented_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = random_network(0, "dense")
    sim = Simulation(steps=5, dt=0.01)
    assert get_backend("reference").lower(net, sim).compiled
    assert not get_backend("reference", compiled=False).lower(net, sim).compiled
    monkeypatch.setenv(COMPILED_ENV, "0")
    assert not get_backend("reference").lower(net, sim).compiled
    assert get_backend("reference", compiled=True).lower(net, sim).compiled
    with pytest.raises(ValidationError, match="compiled must be True, False or None"):
        ReferenceBackend(compiled="yes")  # type: ignore[arg-type]
