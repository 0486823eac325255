"""Tests of the NumPy reference backend against the contract in :mod:`lif_bridge.semantics`."""

from __future__ import annotations

import tracemalloc

import lif_bridge_reference.ops as ops
import numpy as np
import pytest
from lif_bridge_reference import ReferenceBackend, batch_size_for

from lif_bridge import (
    ConstantCurrent,
    Dense,
    Network,
    Neurons,
    Poisson,
    Readout,
    RegularRate,
    Result,
    Simulation,
    simulate,
)
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network


def _run(
    net: Network, x: np.ndarray, sim: Simulation, batch_size: int | None = None, start: int = 0
) -> Result:
    """Lower on the reference backend and run."""
    program = ReferenceBackend(batch_size=batch_size).lower(net, sim)
    try:
        return program.run(x, start_index=start)
    finally:
        program.close()


def _contract_dense(net: Network, e: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The step rule of lif_bridge.semantics for a chain of Dense layers, one neuron at a time.

    ``e`` is (steps, n_inputs) for one sample. Returns per-population counts and traces.
    """
    pops = net.populations
    steps = e.shape[0]
    dt = 0.01
    state = []
    for pop in pops:
        p = pop.layer.neurons.broadcast(pop.size)
        state.append(
            {
                "p": p,
                "v": p["v_rest"].copy(),
                "last": np.full(pop.size, -(10**9)),
                "R": round(pop.layer.neurons.refractory / dt),
                "w": np.asarray(pop.layer.weight),
                "reset": pop.layer.neurons.reset,
            }
        )
    counts = [np.zeros(pop.size, int) for pop in pops]
    traces = [np.zeros((steps, pop.size)) for pop in pops]
    for n in range(steps):
        spikes = []
        for st in state:
            p, v = st["p"], st["v"]
            s = np.zeros(v.size, bool)
            for k in range(v.size):
                if n - st["last"][k] < st["R"]:
                    continue  # refractory: no update, no threshold
                if p["g_l"][k] > 0:
                    d = np.exp(-p["g_l"][k] * dt / p["c_m"][k])
                    v_inf = p["v_rest"][k] + p["i_bias"][k] / p["g_l"][k]
                    v[k] = v_inf + (v[k] - v_inf) * d
                else:
                    v[k] = v[k] + p["i_bias"][k] * dt / p["c_m"][k]
                s[k] = v[k] >= p["v_th"][k]
            spikes.append(s)
        for i, (pop, st) in enumerate(zip(pops, state, strict=True)):
            z = e[n] if pop.source < 0 else spikes[pop.source].astype(float)
            for k in range(st["v"].size):
                refractory = n - st["last"][k] < st["R"] or (spikes[i][k] and st["R"] > 0)
                if not refractory:
                    st["v"][k] += float(st["w"][k] @ z) / st["p"]["c_m"][k]
        for i, st in enumerate(state):
            s = spikes[i]
            if st["reset"] == "subtract":
                st["v"][s] -= st["p"]["v_th"][s]
            else:
                st["v"][s] = st["p"]["v_reset"][s]
            st["last"][s] = n
            counts[i] += s
            traces[i][n] = st["v"]
    return counts, traces


# --------------------------------------------------------------------------- hand-checked cases


def _one_neuron(refractory_steps: int, reset: str = "subtract") -> Network:
    """One input, one IF neuron, weight 1 = v_th."""
    nrn = Neurons(v_th=1.0, reset=reset, refractory=0.01 * refractory_steps)  # type: ignore[arg-type]
    return Network(input_shape=(1,), layers=(Dense(name="n", weight=[[1.0]], neurons=nrn),))


@pytest.mark.parametrize(
    ("refractory", "trace", "spike_steps"),
    [
        # no refractoriness: spikes every step from step 1 (threshold before synapses)
        (0, [1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 2, 3, 4, 5, 6, 7, 8]),
        # R = 1 drops only the input arriving in the spike's own step
        (1, [1, 0, 1, 0, 1, 0, 1, 0, 1], [1, 3, 5, 7]),
        # R = 2: the step after a spike is frozen as well
        (2, [1, 0, 0, 1, 0, 0, 1, 0, 0], [1, 4, 7]),
    ],
)
def test_refractory_drops_input_by_hand(
    refractory: int, trace: list[float], spike_steps: list[int]
) -> None:
    """An input spike every step into an IF neuron: refractoriness drops input (hand timeline)."""
    net = _one_neuron(refractory)
    sim = Simulation(steps=9, max_rate=100.0, readout=Readout(traces=("n",)))
    r = _run(net, np.ones((1, 1)), sim)
    np.testing.assert_allclose(r.traces["n"][0, :, 0], trace, atol=1e-12)
    assert r.output_counts[0, 0] == len(spike_steps)


def test_traces_are_post_reset_potential_by_hand() -> None:
    """Weight 0.4 into an IF neuron: v = 0.4, 0.8, 1.2, then 1.2 spikes: 1.2 + 0.4 - 1 = 0.6."""
    nrn = Neurons(v_th=1.0)
    net = Network(input_shape=(1,), layers=(Dense(name="n", weight=[[0.4]], neurons=nrn),))
    sim = Simulation(steps=6, max_rate=100.0, readout=Readout(traces=("n",)))
    r = _run(net, np.ones((1, 1)), sim)
    np.testing.assert_allclose(r.traces["n"][0, :, 0], [0.4, 0.8, 1.2, 0.6, 1.0, 0.4], atol=1e-12)
    assert r.output_counts.tolist() == [[2]]


def test_reset_zero_loses_input_of_spike_step() -> None:
    """reset='zero' sets v to v_reset after the synapses: the input of that step is lost."""
    nrn = Neurons(v_th=1.0, reset="zero", v_reset=0.0)
    net = Network(input_shape=(1,), layers=(Dense(name="n", weight=[[0.4]], neurons=nrn),))
    sim = Simulation(steps=6, max_rate=100.0, readout=Readout(traces=("n",)))
    r = _run(net, np.ones((1, 1)), sim)
    np.testing.assert_allclose(r.traces["n"][0, :, 0], [0.4, 0.8, 1.2, 0.0, 0.4, 0.8], atol=1e-12)


def test_output_latency_one_step_per_layer() -> None:
    """With L weighted layers the output first sees the input at step L (one step per layer)."""
    layers = tuple(Dense(weight=[[1.0]]) for _ in range(3))
    net = Network(input_shape=(1,), layers=layers)
    sim = Simulation(steps=10, max_rate=100.0, readout=Readout(counts="all"))
    r = _run(net, np.ones((1, 1)), sim)
    assert [r.counts[f"dense{i}"][0, 0] for i in range(3)] == [9, 8, 7]


# --------------------------------------------------------------------------- contract, generic


@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("refractory", [0.0, 0.01, 0.03])
def test_dense_nets_follow_contract(reset: str, refractory: float) -> None:
    """Random dense nets (leak, bias, per-neuron params): counts and traces equal the loop rule."""
    net = random_network(2, "dense", reset=reset, per_neuron=True, refractory=refractory)
    x = random_inputs(net, 2, seed=1)
    sim = Simulation(
        steps=60,
        encoder=Poisson(seed=3),
        readout=Readout(counts="all", traces=("dense0", "dense1")),
    )
    r = _run(net, x, sim)
    e = sim.encode(net, x)
    for k in range(len(x)):
        counts, traces = _contract_dense(net, e[k].astype(float))
        for i, pop in enumerate(net.populations):
            np.testing.assert_array_equal(r.counts[pop.name][k], counts[i])
            np.testing.assert_allclose(r.traces[pop.name][k], traces[i], rtol=0, atol=1e-12)
    assert r.counts["dense1"].sum() > 0  # the case is not trivially silent


# --------------------------------------------------------------------------- readout, batching


def test_readout_all_and_traces_shapes() -> None:
    """counts='all' returns every population; traces are (samples, steps, neurons) floats."""
    net = random_network(0, "conv_max")
    x = random_inputs(net, 3)
    names = [p.name for p in net.populations]
    sim = Simulation(steps=20, readout=Readout(counts="all", traces=(names[0], names[-1])))
    r = simulate(net, x, sim)
    assert list(r.counts) == names
    for p in net.populations:
        assert r.counts[p.name].shape == (3, p.size)
        assert np.issubdtype(r.counts[p.name].dtype, np.integer)
        assert (r.counts[p.name] >= 0).all() and (r.counts[p.name] <= 20).all()
    assert set(r.traces) == {names[0], names[-1]}
    assert r.traces[names[0]].shape == (3, 20, net.populations[0].size)
    assert r.traces[names[-1]].shape == (3, 20, net.output.size)
    assert (r.steps, r.dt, r.output, r.backend) == (20, 0.01, names[-1], "reference")
    only_out = simulate(net, x, Simulation(steps=20))
    assert list(only_out.counts) == [names[-1]] and only_out.traces == {}
    np.testing.assert_array_equal(only_out.output_counts, r.output_counts)


def test_traces_below_threshold_after_subtract_reset_for_if() -> None:
    """For IF neurons with subtract reset the trace drops by v_th at each counted spike."""
    net = Network(
        input_shape=(4,),
        layers=(Dense(name="h", weight=np.full((3, 4), 0.3), neurons=Neurons(v_th=1.0)),),
    )
    x = np.array([[1.0, 0.5, 0.25, 0.0]])
    sim = Simulation(steps=40, max_rate=100.0, readout=Readout(traces=("h",)))
    r = _run(net, x, sim)
    e = sim.encode(net, x)[0].astype(float)
    # v after step n = Σ input jumps up to n - v_th · spikes up to n
    expected_no_reset = np.cumsum(e @ np.full((4, 3), 0.3), axis=0)
    spikes_so_far = np.round(expected_no_reset - r.traces["h"][0], 9)
    assert spikes_so_far[-1].tolist() == r.output_counts[0].tolist()
    assert (np.diff(spikes_so_far, axis=0) >= 0).all()


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("encoder", [RegularRate(), Poisson(seed=5)])
def test_results_independent_of_batch_size(architecture: str, encoder: object) -> None:
    """Batch sizes 1, 2 and all-at-once give identical counts and the same traces.

    Traces may differ in the last bits: whether a step's product takes the event-driven or the
    BLAS path depends on the spike density of the whole batch, and the two sum in different
    orders; 1e-12 V is far below any threshold margin here.
    """
    net = random_network(1, architecture, per_neuron=True, refractory=0.01)
    x = random_inputs(net, 5, seed=3)
    first = net.populations[0].name
    sim = Simulation(
        steps=25,
        encoder=encoder,  # type: ignore[arg-type]
        readout=Readout(counts="all", traces=(first,)),
    )
    runs = [_run(net, x, sim, batch_size=b) for b in (1, 2, 256)]
    assert runs[0].info["batch_size"] == 1
    for other in runs[1:]:
        for name in runs[0].counts:
            np.testing.assert_array_equal(other.counts[name], runs[0].counts[name])
        np.testing.assert_allclose(other.traces[first], runs[0].traces[first], rtol=0, atol=1e-12)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_sparse_event_path_equals_dense_path(
    architecture: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forcing the event-driven sparse product or the BLAS product gives the same run."""
    net = random_network(6, architecture, per_neuron=False)
    x = random_inputs(net, 4, seed=2)
    names = tuple(p.name for p in net.populations)
    sim = Simulation(steps=30, encoder=Poisson(seed=1), readout=Readout(counts="all", traces=names))
    monkeypatch.setattr(ops, "SPARSE_BELOW", 0.0)  # never event-driven (where a BLAS op exists)
    dense = _run(net, x, sim)
    monkeypatch.setattr(ops, "SPARSE_BELOW", 1.1)  # always event-driven
    sparse = _run(net, x, sim)
    for name in names:
        np.testing.assert_array_equal(sparse.counts[name], dense.counts[name])
        np.testing.assert_allclose(sparse.traces[name], dense.traces[name], rtol=0, atol=1e-12)
    assert sum(int(c.sum()) for c in dense.counts.values()) > 0


# --------------------------------------------------------------------------- analog input


def test_constant_current_runs_dense() -> None:
    """ConstantCurrent input p = 0.25 per step into weight 1: v grows by 0.25 each step."""
    net = Network(input_shape=(1,), layers=(Dense(name="n", weight=[[1.0]]),))
    sim = Simulation(
        steps=9, encoder=ConstantCurrent(), max_rate=25.0, readout=Readout(traces=("n",))
    )
    r = _run(net, np.ones((1, 1)), sim)
    # v: .25 .5 .75 1 | spike at step 4: 1 + .25 - 1 = .25, .5, .75, 1, (spike at 8) .25
    np.testing.assert_allclose(
        r.traces["n"][0, :, 0], [0.25, 0.5, 0.75, 1.0, 0.25, 0.5, 0.75, 1.0, 0.25], atol=1e-12
    )
    assert r.output_counts.tolist() == [[2]]


# --------------------------------------------------------------------------- Poisson, batch size


def test_poisson_runs_deterministic_and_indexed() -> None:
    """Same seed: same counts; rows run alone with start_index equal the full run's rows."""
    net = random_network(3, "conv_avg")
    x = random_inputs(net, 5, seed=4)
    sim = Simulation(steps=40, encoder=Poisson(seed=9))
    a = _run(net, x, sim)
    b = _run(net, x, sim, batch_size=2)
    np.testing.assert_array_equal(a.output_counts, b.output_counts)
    part = _run(net, x[2:4], sim, start=2)
    np.testing.assert_array_equal(part.output_counts, a.output_counts[2:4])
    other = _run(net, x, Simulation(steps=40, encoder=Poisson(seed=10)))
    assert not np.array_equal(other.output_counts, a.output_counts)


def test_batch_size_for_budget() -> None:
    """The batch size shrinks with the budget (>= 1, <= 256), linearly, and with traces."""
    net = random_network(0, "conv_max")
    sim = Simulation(steps=200)
    assert batch_size_for(net, sim, 1) == 1
    assert batch_size_for(net, sim, 2**40) == 256
    b = batch_size_for(net, sim, 4 * 2**20)
    assert 1 < b < 256
    assert batch_size_for(net, sim, 8 * 2**20) in (2 * b, 2 * b + 1)
    traced = Simulation(steps=200, readout=Readout(traces=(net.populations[0].name,)))
    assert batch_size_for(net, traced, 4 * 2**20) < b
    program = ReferenceBackend(memory_gib=4 / 1024).lower(net, sim)
    assert program.batch_size == b
    r = program.run(random_inputs(net, b + 1))
    assert r.info["batch_size"] == b and r.output_counts.shape[0] == b + 1


@pytest.mark.parametrize("encoder", [RegularRate(), Poisson(seed=1)])
def test_batch_size_for_keeps_run_within_budget(encoder: object) -> None:
    """A run at the chosen batch size peaks (numpy allocations, tracemalloc) within 2x budget."""
    rng = np.random.default_rng(0)
    net = Network(
        input_shape=(784,),
        layers=(
            Dense(weight=rng.normal(0, 0.05, (50, 784))),
            Dense(weight=rng.normal(0, 0.1, (10, 50))),
        ),
    )
    sim = Simulation(steps=200, encoder=encoder)  # type: ignore[arg-type]
    budget = 4 * 2**20
    program = ReferenceBackend(memory_gib=budget / 2**30).lower(net, sim)
    assert 1 < program.batch_size < 256
    x = rng.random((program.batch_size, 784))
    tracemalloc.start()
    try:
        program.run(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 2 * budget, f"peak {peak / 2**20:.1f} MiB for a {budget / 2**20:.0f} MiB budget"
