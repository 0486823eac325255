"""Hand-derived membrane traces of one neuron against the reference backend (the contract).

Each expected trace below was worked out by hand from the phases of lif_bridge.semantics
(A update, B threshold, C synaptic input of this step, D reset), with numbers that are exact in
binary floating point where possible. ``trace[n]`` is ``v`` after step ``n`` (after the reset).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from lif_bridge import Dense, Network, Neurons, Readout, RegularRate, Simulation, simulate

DT = 0.01


def _run(neurons: Neurons, w: float, p: float, steps: int) -> np.ndarray:
    """One input unit with ``p`` spikes per step, one neuron: the trace of ``v``."""
    net = Network(input_shape=(1,), layers=(Dense(weight=[[w]], neurons=neurons, name="n"),))
    sim = Simulation(
        steps=steps, dt=DT, encoder=RegularRate(), max_rate=1 / DT, readout=Readout(traces=("n",))
    )
    # x = p gives p spikes per step at max_rate = 1/dt.
    res = simulate(net, np.array([[p]]), sim)
    return res.traces["n"][0, :, 0]


def _spike_steps(neurons: Neurons, w: float, p: float, steps: int) -> list[int]:
    """Steps with a spike, read from the per-step counts of 1-step runs of growing length."""
    out, last = [], 0
    for n in range(1, steps + 1):
        net = Network(input_shape=(1,), layers=(Dense(weight=[[w]], neurons=neurons),))
        sim = Simulation(steps=n, dt=DT, max_rate=1 / DT)
        c = int(simulate(net, np.array([[p]]), sim).output_counts[0, 0])
        if c > last:
            out.append(n - 1)
        last = c
    return out


def test_if_subtractive_reset_every_step_input() -> None:
    """IF neuron, w = 0.625, one input spike per step: jumps land after the threshold check."""
    nrn = Neurons(g_l=0.0, c_m=1.0, v_th=1.0, reset="subtract")
    trace = _run(nrn, 0.625, 1.0, 8)
    # 0: .625 | 1: 1.25 | 2: spike, 1.25+.625-1 | 3: 1.5 | 4: spike | 5: spike | 6 | 7: spike
    want = [0.625, 1.25, 0.875, 1.5, 1.125, 0.75, 1.375, 1.0]
    np.testing.assert_array_equal(trace, want)
    assert _spike_steps(nrn, 0.625, 1.0, 8) == [2, 4, 5, 7]


def test_leak_and_bias_current_both_resets() -> None:
    """Leak d = 0.75 towards v_inf = 1.2 (bias current), input w = 0.5 every other step."""
    g_l = -math.log(0.75) / DT  # so that exp(-g_l dt / C_m) = 0.75 with C_m = 1
    i_bias = 1.2 * g_l  # v_inf = i_bias / g_l = 1.2
    sub = Neurons(g_l=g_l, c_m=1.0, v_th=1.0, i_bias=i_bias, reset="subtract")
    trace = _run(sub, 0.5, 0.5, 6)
    # inputs at steps 1, 3, 5 (p = 0.5); update v <- 1.2 + (v - 1.2) * 0.75
    want_sub = [0.3, 1.025, 0.06875, 0.8515625, 0.938671875, 0.50400390625]
    np.testing.assert_allclose(trace, want_sub, rtol=0, atol=1e-12)
    assert _spike_steps(sub, 0.5, 0.5, 6) == [2, 5]

    zero = sub.replace(reset="zero")
    trace = _run(zero, 0.5, 0.5, 7)
    # same until the spike at step 2, then v = 0; at step 6 the spike resets to 0 again
    want_zero = [0.3, 1.025, 0.0, 0.8, 0.9, 1.475, 0.0]
    np.testing.assert_allclose(trace, want_zero, rtol=0, atol=1e-12)
    assert _spike_steps(zero, 0.5, 0.5, 7) == [2, 6]


def test_zero_reset_discards_input_of_the_spike_step() -> None:
    """Reset-to-zero runs after the synapses: input arriving in the spike's step is lost."""
    nrn = Neurons(g_l=0.0, v_th=1.0, reset="zero")
    trace = _run(nrn, 0.625, 1.0, 5)
    # 0: .625 | 1: 1.25 | 2: spike -> 0 (the .625 of step 2 is lost) | 3: .625 | 4: 1.25
    np.testing.assert_array_equal(trace, [0.625, 1.25, 0.0, 0.625, 1.25])


def test_refractory_period_freezes_and_drops_input() -> None:
    """refractory = 2 dt: spike step and the next one drop input; no update, no threshold."""
    nrn = Neurons(g_l=0.0, v_th=1.0, reset="subtract", refractory=2 * DT)
    trace = _run(nrn, 0.625, 1.0, 14)
    want = [0.625, 1.25, 0.25, 0.25, 0.875, 1.5, 0.5, 0.5, 1.125, 0.125, 0.125, 0.75, 1.375, 0.375]
    np.testing.assert_array_equal(trace, want)
    assert _spike_steps(nrn, 0.625, 1.0, 14) == [2, 6, 9, 13]


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_latency_one_step_per_layer(reset: str) -> None:
    """A chain of L weighted layers first spikes at step L (one step of latency each)."""
    layers = tuple(Dense(weight=[[1.0]], neurons=Neurons(reset=reset)) for _ in range(3))
    net = Network(input_shape=(1,), layers=layers)
    for steps, want in ((3, 0), (4, 1)):
        sim = Simulation(steps=steps, dt=DT, max_rate=1 / DT)
        assert int(simulate(net, np.array([[1.0]]), sim).output_counts[0, 0]) == want


def test_potential_score_is_the_integrated_input() -> None:
    """IF neurons, reset by subtraction: count + (v_T - v_rest)/V_th equals the window's whole
    input (synaptic jumps W·e/C_m and bias I·dt/C_m of every step) over V_th, negative input
    after early spikes included (lif_bridge.potential_scores)."""
    from lif_bridge import potential_scores

    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.6, (5, 8))
    c_m, v_th, i_bias = 2.0, 0.75, np.array([0.4, -0.2, 0.0, 0.1, 1.0])
    neurons = Neurons(c_m=c_m, v_th=v_th, v_rest=0.25, i_bias=i_bias)
    net = Network(input_shape=(8,), layers=(Dense(weight=w, neurons=neurons, name="out"),))
    steps = 60
    sim = Simulation(steps=steps, dt=DT, max_rate=1 / DT, readout=Readout(traces=("out",)))
    x = rng.uniform(0, 1, (4, 8))
    res = simulate(net, x, sim)
    # RegularRate: floor(steps·p) spikes of unit i in the window (p = x at max_rate = 1/dt)
    e_total = np.floor(steps * x)
    integrated = (e_total @ w.T + steps * i_bias * DT) / c_m
    scores = potential_scores(net, res)
    np.testing.assert_allclose(scores * v_th, integrated, rtol=0, atol=1e-9)
    assert (integrated < 0).any() and (res.output_counts > 0).any()
