"""A one-layer IF network reproduces ReLU(Wx + b) in rate, with error ~1/T (paper Fig. 18).

Bound used: with subtractive reset, ``V_th·N = Σ_j w_j n_j + b·T - v(T)`` where ``n_j`` is the
count of input ``j`` reaching the neuron and ``0 <= v(T) < V_th`` once the neuron fires. A
regular train of ``x_j·f_max·T`` expected spikes delivers a count within 1 of it, and the
last step's input arrives after the last threshold (one step of latency), so
``|N/T - ReLU(Wx+b)/(V_th C_m)| <= (1 + 2·Σ_j |w_j| / (V_th C_m)) / T`` (the 1 is the
paper's resolution bound, the rest the input quantisation). For a single input with
``w = V_th C_m`` (a relay) the error is below the paper's ``1/T`` itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import Dense, Network, Neurons, Simulation, ann_forward, rate_error, simulate

DT = 1e-3
F_MAX = 200.0


def _relu_net(seed: int) -> tuple[Network, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.normal(0.05, 0.2, (20, 30))
    b = rng.normal(0.0, 5.0, 20)  # bias current [A]; rates in Hz
    net = Network(
        input_shape=(30,),
        layers=(Dense(weight=w, neurons=Neurons(g_l=0.0, i_bias=b, reset="subtract")),),
    )
    return net, rng.random((8, 30))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_if_layer_rates_match_relu_within_bound(seed: int) -> None:
    """Every neuron's rate error is within the bound, and shrinks as T grows."""
    net, x = _relu_net(seed)
    relu = ann_forward(net, x, max_rate=F_MAX)  # ReLU(W r + b) / (V_th C_m), r = x f_max
    assert np.mean(relu > 0) > 0.3, "too few active neurons to test anything"
    sum_abs_w = np.abs(np.asarray(net.layers[0].weight)).sum(axis=1)
    worst = []
    for steps in (500, 1000, 2000, 4000):
        t = steps * DT
        res = simulate(net, x, Simulation(steps=steps, dt=DT, max_rate=F_MAX))
        err = np.abs(res.rates() - relu)
        bound = (1 + 2 * sum_abs_w) / t
        assert np.all(err <= bound[None, :] + 1e-9), f"T = {t} s: error above the bound"
        worst.append(err.max())
    assert worst[-1] < worst[0] / 4, f"error does not shrink with T: {worst}"


def test_coding_error_below_one_over_t_and_relay_within_one_step() -> None:
    """Fig. 18: a regular train codes x·f_max within 1/T; a relay neuron adds one spike at most.

    The input train's count over T is within one spike of x·f_max·T (the paper's 1/T bound);
    the relay neuron (one input, w = V_th C_m) repeats it one step late, so its last input
    spike may fall outside the window: its error stays below 2/T.
    """
    net = Network(input_shape=(1,), layers=(Dense(weight=[[1.0]], neurons=Neurons()),))
    x = np.linspace(0.01, 1.0, 37)[:, None]
    for steps in (100, 1000, 10_000):
        t = steps * DT
        sim = Simulation(steps=steps, dt=DT, max_rate=F_MAX)
        coded = sim.encode(net, x).sum(axis=1)
        stats = rate_error(coded, x * F_MAX, t)
        assert stats["within_bound"] == 1.0
        assert stats["max"] < 1 / t
        res = simulate(net, x, sim)
        assert np.all(coded[:, 0] - res.output_counts[:, 0] <= 1)
        assert rate_error(res.output_counts, x * F_MAX, t)["max"] < 2 / t
    # at T = 10 s the relative coding error is well below 1 % (paper: < 1 %)
    assert stats["relative_mean"] < 0.01
