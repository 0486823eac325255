"""The Lava backend: float identical to the reference, fixed identical to the NumPy fixed rules,
many samples per compiled graph, and no process left behind after a failure or Ctrl-C."""

from __future__ import annotations

import _thread
import os
import threading
import time

import numpy as np
import pytest

from lif_bridge.backend import get_backend, simulate
from lif_bridge.errors import BackendError, ValidationError
from lif_bridge.network import ConstantCurrent, Network, Poisson, Readout, RegularRate, Simulation
from lif_bridge.testing import graph_union, random_graph, random_inputs, random_network

pytestmark = pytest.mark.lava


def _children() -> set[int]:
    """Child processes of this interpreter (multiprocessing's resource tracker excluded)."""
    out: set[int] = set()
    for tid in os.listdir(f"/proc/{os.getpid()}/task"):
        with open(f"/proc/{os.getpid()}/task/{tid}/children") as fh:
            out |= {int(c) for c in fh.read().split()}
    keep = set()
    for pid in out:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if b"resource_tracker" in fh.read():
                    continue
        except OSError:
            continue
        keep.add(pid)
    return keep


def _runners() -> int:
    """Live threads that make blocking Lava calls (one per running program)."""
    return sum(t.name == "lava-runner" for t in threading.enumerate())


def _same(a, b) -> None:
    for name in b.counts:
        np.testing.assert_array_equal(a.counts[name], b.counts[name], err_msg=name)


def test_traces_and_constant_current_match_reference() -> None:
    net = random_network(1, "dense", per_neuron=True, refractory=0.02)
    x = random_inputs(net, 3, seed=4)
    for enc in (ConstantCurrent(), RegularRate()):
        sim = Simulation(
            steps=40, encoder=enc, readout=Readout(counts="all", traces=("dense0", "dense1"))
        )
        want = simulate(net, x, sim, "reference")
        got = simulate(net, x, sim, "lava", precision="float")
        _same(got, want)
        for name in want.traces:
            np.testing.assert_allclose(got.traces[name], want.traces[name], rtol=0, atol=1e-9)


def test_many_runs_one_program_chunked() -> None:
    net = random_network(0, "conv_max", reset="zero")
    x = random_inputs(net, 5, seed=2)
    sim = Simulation(steps=30, encoder=Poisson(seed=3), readout=Readout(counts="all"))
    want = simulate(net, x, sim, "reference")
    runners_before = _runners()
    program = get_backend("lava", precision="float", chunk=2).lower(net, sim)
    try:
        first = program.run(x[:3])
        second = program.run(x[3:], start_index=3)
        again = program.run(x[:3])
    finally:
        program.close()
    for name in want.counts:
        np.testing.assert_array_equal(first.counts[name], want.counts[name][:3])
        np.testing.assert_array_equal(second.counts[name], want.counts[name][3:])
        np.testing.assert_array_equal(again.counts[name], want.counts[name][:3])
    with pytest.raises(BackendError, match="closed"):
        program.run(x[:1])
    time.sleep(0.2)
    assert _runners() <= runners_before  # the program's runner thread has ended


@pytest.mark.parametrize("architecture", ["dense", "mixed"])
def test_fixed_matches_numpy_fixed_rules(architecture: str) -> None:
    from lif_bridge_lava.fixedsim import simulate_fixed
    from lif_bridge_lava.lowering import lowered_edges, quantize_edges

    net = random_network(1, architecture, reset="zero", per_neuron=True, refractory=0.02)
    x = random_inputs(net, 3, seed=1)
    sim = Simulation(steps=50, encoder=Poisson(seed=7), readout=Readout(counts="all"))
    edges = lowered_edges(net)
    layers = [
        quantize_edges(es, p.layer.neurons.broadcast(p.size), sim.dt)
        for p, es in zip(net.populations, edges, strict=True)
    ]
    stats = simulate_fixed(net, x, sim, layers, edges)
    got = simulate(net, x, sim, "lava", precision="fixed")
    for pop, st in zip(net.populations, stats, strict=True):
        np.testing.assert_array_equal(got.counts[pop.name], st.counts, err_msg=pop.name)


def test_options_validated() -> None:
    with pytest.raises(ValidationError, match="precision"):
        get_backend("lava", precision="double")
    net = random_network(0, "dense")
    with pytest.raises(ValidationError, match="spiking encoder"):
        get_backend("lava", precision="fixed").lower(
            net, Simulation(steps=5, encoder=ConstantCurrent())
        )


def test_fixed_point_refuses_a_projection_that_rounds_to_zero() -> None:
    from lif_bridge.network import INPUT, Dense, Neurons, Node, Projection

    rng = np.random.default_rng(0)
    h = Node(name="h", neurons=Neurons(), projections=(
        Projection(source=INPUT, map=Dense(weight=rng.normal(0.2, 0.5, (5, 4)))),))  # fmt: skip
    out = Node(name="out", neurons=Neurons(), projections=(
        Projection(source=INPUT, map=Dense(weight=rng.normal(0.2, 0.5, (3, 4)))),
        Projection(source="h", map=Dense(weight=1e-7 * rng.normal(0.2, 0.5, (3, 5)))),
    ))  # fmt: skip
    net = Network(input_shape=(4,), nodes=(h, out))
    with pytest.raises(ValidationError, match=r"'h' -> 'out' rounds to zero .* precision='float'"):
        get_backend("lava", precision="fixed").lower(net, Simulation(steps=5))


def test_no_orphans_after_model_failure() -> None:
    before = _children()
    net = random_network(0, "dense")
    program = get_backend("lava").lower(net, Simulation(steps=20))
    run_steps = program._steps

    def sabotaged(n: int) -> None:  # the source process cannot find its trains
        for f in os.listdir(program.directory):
            if f.startswith("trains_"):
                os.unlink(os.path.join(program.directory, f))
        run_steps(n)

    program._steps = sabotaged  # type: ignore[method-assign]
    with pytest.raises(BackendError, match="FileNotFoundError"):
        program.run(random_inputs(net, 2))
    time.sleep(0.2)
    assert _children() - before == set()
    assert not os.path.exists(program.directory)


def test_watchdog_ends_the_run_when_a_lava_process_dies() -> None:
    """A killed Lava process (as after a crash inside any process model): one error, no hang."""
    import signal

    before = _children()
    net = random_network(0, "dense")
    program = get_backend("lava", chunk=400).lower(net, Simulation(steps=50))
    program.run(random_inputs(net, 1))
    victim = program._state.actors()[0].pid
    timer = threading.Timer(1.0, os.kill, args=(victim, signal.SIGKILL))
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(BackendError, match=r"processes died \(process .* exited with code -9\)"):
        program.run(random_inputs(net, 400))
    timer.cancel()
    assert time.perf_counter() - t0 < 30
    time.sleep(0.2)
    assert _children() - before == set()
    assert not os.path.exists(program.directory)


def test_no_orphans_after_keyboard_interrupt() -> None:
    before = _children()
    net = random_network(0, "dense")
    program = get_backend("lava", chunk=400).lower(net, Simulation(steps=50))
    program.run(random_inputs(net, 1))
    assert _children() - before, "the Lava runtime should be running"
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        # runs until the interrupt lands in one (a single run can end before the timer on a
        # fast or lightly loaded machine)
        for _ in range(100):
            program.run(random_inputs(net, 400))
    timer.cancel()
    time.sleep(0.2)
    assert _children() - before == set()


#: (graph, reset, encoder, per-neuron + refractory, aligned delays): every graph once; both
#: resets, both spiking encoders, both parameter kinds and delays on and off each met twice.
GRAPH_CASES = [
    ("identity_skip1", "subtract", "regular", False, False),
    ("identity_skip2", "zero", "poisson", True, True),
    ("projection_skip2", "subtract", "poisson", True, False),
    ("concat2_avg", "zero", "regular", False, True),
    ("concat3_max", "subtract", "poisson", True, True),
]


def _case_graph(case: tuple, seed: int = 3) -> Network:
    name, reset, _, per_neuron, align = case
    return random_graph(seed, name, reset=reset, per_neuron=per_neuron,
                        refractory=0.02 if per_neuron else 0.0, align_delays=align)  # fmt: skip


@pytest.mark.parametrize("case", GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
def test_graphs_one_build_many_inputs(case: tuple) -> None:
    """Several projections per population (Lava Dense/Sparse into one LinearLIF), delays:
    float identical to the reference, over two runs of one program."""
    net = _case_graph(case)
    encoder = Poisson(seed=5) if case[2] == "poisson" else RegularRate()
    sim = Simulation(steps=40, encoder=encoder, readout=Readout(counts="all"))
    x = random_inputs(net, 4, seed=6)
    program = get_backend("lava", precision="float", chunk=2).lower(net, sim)
    try:
        assert program.process_count > len(net.populations)  # Dense/Sparse of further edges
        got = [program.run(x[:2]), program.run(x[2:], start_index=2)]
    finally:
        program.close()
    for part, lo in zip(got, (0, 2), strict=True):
        ref = get_backend("reference").lower(net, sim)
        _same(part, ref.run(x[lo : lo + 2], start_index=lo))


def test_fixed_point_graphs_one_build_identical_to_numpy_fixed_rules() -> None:
    """Every random graph in fixed point, side by side in one Lava build (``graph_union``).

    Each projection has its own weight exponent (``quantize_edges``); the Lava
    ``fixed_pt`` run (first projection inside the LinearLIF, the others through Lava
    Dense/Sparse, relays for gates and delays) equals ``simulate_fixed`` neuron for neuron, and
    a graph's counts in the union equal its counts alone (the union changes nothing).
    """
    from lif_bridge_lava.fixedsim import simulate_fixed
    from lif_bridge_lava.lowering import lowered_edges, quantize_edges

    def fixed_counts(net: Network, x: np.ndarray, sim: Simulation) -> dict[str, np.ndarray]:
        edges = lowered_edges(net, sim)
        layers = [
            quantize_edges(es, p.neurons.broadcast(p.size), sim.dt)
            for p, es in zip(net.populations, edges, strict=True)
        ]
        stats = simulate_fixed(net, x, sim, layers, edges)
        return {p.name: st.counts for p, st in zip(net.populations, stats, strict=True)}

    graphs = {c[0]: _case_graph(c, seed=i) for i, c in enumerate(GRAPH_CASES)}
    net = graph_union(graphs)
    sim = Simulation(steps=40, encoder=Poisson(seed=5), readout=Readout(counts="all"))
    x = random_inputs(net, 4, seed=6)
    program = get_backend("lava", precision="fixed", chunk=2).lower(net, sim)
    try:
        got = [program.run(x[:2]), program.run(x[2:], start_index=2)]
    finally:
        program.close()
    want = fixed_counts(net, x, sim)
    for name, counts in want.items():
        lava = np.concatenate([g.counts[name] for g in got])
        np.testing.assert_array_equal(lava, counts, err_msg=name)
    for key, graph in graphs.items():
        alone = fixed_counts(graph, x, sim)
        assert sum(int(c.sum()) for c in alone.values()) > 0, f"{key} is silent"
        for name, counts in alone.items():
            np.testing.assert_array_equal(want[f"{key}_{name}"], counts, err_msg=name)


def test_failure_inside_lava_dense_ends_the_run(monkeypatch) -> None:
    """An exception in one of Lava's own process models: one clear error, no hang, no orphan."""
    from lif_bridge_lava import require_lava

    require_lava()
    from lava.proc.dense import models as dense_models
    from lava.proc.sparse import models as sparse_models

    def broken(self) -> None:  # type: ignore[no-untyped-def]
        raise ValueError("weights corrupted")

    monkeypatch.setattr(dense_models.PyDenseModelFloat, "run_spk", broken)
    monkeypatch.setattr(sparse_models.PySparseModelFloat, "run_spk", broken)
    before = _children()
    net = random_graph(0, "identity_skip1")
    program = get_backend("lava").lower(net, Simulation(steps=20))
    t0 = time.perf_counter()
    with pytest.raises(BackendError, match="ValueError: weights corrupted"):
        program.run(random_inputs(net, 2))
    assert time.perf_counter() - t0 < 60
    time.sleep(0.2)
    assert _children() - before == set()
    assert not os.path.exists(program.directory)
