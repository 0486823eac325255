"""The reference backend's spiking max-pool gate against the contract's winner rule.

:mod:`lif_bridge.semantics`: counts include this step; the winner (an incumbent keeps a tie,
else the first unit with the most spikes) passes its spike.
"""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import (
    ConstantCurrent,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Readout,
    Simulation,
    ValidationError,
    get_backend,
    simulate,
)


def _gate_net() -> Network:
    """1x2x2 input -> 2x2 max pool -> one unit -> Dense weight 1 into a never-firing IF neuron."""
    return Network(
        input_shape=(1, 2, 2),
        layers=(
            MaxPool2d(kernel_size=2),
            Flatten(),
            Dense(name="sum", weight=[[1.0]], neurons=Neurons(v_th=1e9)),
        ),
    )


def _gated(x: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Run the gate network; return the input trains (steps, 4) and the gate output (steps,)."""
    net = _gate_net()
    sim = Simulation(steps=steps, max_rate=100.0, readout=Readout(traces=("sum",)))
    r = simulate(net, x[None], sim, "reference", progress=False)
    v = r.traces["sum"][0, :, 0]  # v[n] = Σ_{k <= n} z[k] (weight 1, C_m 1, no leak)
    z = np.diff(np.concatenate([[0.0], v]))
    return sim.encode(net, x[None])[0], np.round(z, 12)


def _gate_rule(s: np.ndarray) -> np.ndarray:
    """The contract: counts include this step; the winner (an incumbent keeps a tie, else the
    first unit with the most spikes) passes its spike."""
    c = np.zeros(s.shape[1], int)
    out = np.zeros(len(s))
    w = -1
    for n, row in enumerate(s):
        c += row
        if c.max() > 0 and (w < 0 or c[w] != c.max()):
            w = int(np.flatnonzero(c == c.max())[0])
        out[n] = float(w >= 0 and row[w])
    return out


def test_max_pool_gate_by_hand() -> None:
    """Unit A (p=1/2) fires at odd steps, B (p=1/5) at 4, 9, 14: B's spike at 4 is blocked."""
    x = np.array([[[0.5, 0.2], [0.0, 0.0]]])
    s, z = _gated(x, 12)
    assert np.flatnonzero(s[:, 0]).tolist() == [1, 3, 5, 7, 9, 11]
    assert np.flatnonzero(s[:, 1]).tolist() == [4, 9]
    # step 4: only B spikes, counts A=2 > B=1 -> blocked; step 9: both spike -> exactly one passes
    assert np.flatnonzero(z).tolist() == [1, 3, 5, 7, 9, 11]
    assert z.max() == 1.0


def test_max_pool_gate_ties_pass_one_spike() -> None:
    """Two units with equal counts spiking together: one spike passes; a catch-up tie is held
    off by the incumbent winner (else equal rates in other phases would double the output)."""
    s, z = _gated(np.array([[[0.5, 0.5], [0.0, 0.0]]]), 8)
    assert (s[:, 0] == s[:, 1]).all()
    assert z.tolist() == s[:, 0].astype(float).tolist()  # one spike per step, never two
    # p = 1/3 fires at 2, 5; p = 1/2 at 1, 3, 5: B wins at step 1; at step 2 A ties at 1 but B
    # keeps the window, so A's spike is blocked; at step 5 both spike and B's passes
    s, z = _gated(np.array([[[1 / 3, 0.5], [0.0, 0.0]]]), 6)
    assert np.flatnonzero(s[:, 0]).tolist() == [2, 5]
    assert np.flatnonzero(z).tolist() == [1, 3, 5]


def test_max_pool_gate_equal_rates_other_phases_pass_one_train() -> None:
    """A fires at even steps, B at odd ones (same rate): the pool passes A's train only."""
    from lif_bridge_reference.ops import MaxPoolGate

    gate = MaxPoolGate(MaxPool2d(kernel_size=2), (1, 2, 2))
    gate.reset(1)
    passed = []
    for n in range(20):
        unit = 0 if n % 2 == 0 else 1  # flat index in (batch=1, 4 units)
        passed.append(gate(np.array([unit]), 1).size)
    assert passed == [1, 0] * 10


@pytest.mark.parametrize("seed", range(4))
def test_max_pool_gate_matches_contract_rule(seed: int) -> None:
    """Random rates over 60 steps: the gate output equals the contract's rule, at most 1/step."""
    x = np.random.default_rng(seed).random((1, 2, 2))
    s, z = _gated(x, 60)
    np.testing.assert_array_equal(z, _gate_rule(s))
    assert set(np.unique(z)) <= {0.0, 1.0}


def test_constant_current_with_max_pool_first_rejected() -> None:
    """Analog input cannot feed a spiking max pool: refused when lowering, with the fix."""
    sim = Simulation(steps=5, encoder=ConstantCurrent())
    with pytest.raises(
        ValidationError,
        match=r"MaxPool2d before 'sum': spiking max pooling needs spikes.*use a spiking encoder",
    ):
        get_backend("reference").lower(_gate_net(), sim)
