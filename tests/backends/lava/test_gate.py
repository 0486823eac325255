"""The NumPy max-pool gate of the Lava backend against the contract (no Lava needed)."""

from __future__ import annotations

import numpy as np
import pytest
from lif_bridge_lava.gate import gate_state, gate_step
from lif_bridge_reference.ops import MaxPoolGate

from lif_bridge.connectivity import pool_windows
from lif_bridge.network import MaxPool2d


@pytest.mark.parametrize(("kernel", "stride"), [(2, 2), (3, 1), ((2, 3), (1, 2))])
@pytest.mark.parametrize("seed", [0, 1])
def test_gate_matches_reference(kernel: object, stride: object, seed: int) -> None:
    stage = MaxPool2d(kernel_size=kernel, stride=stride)
    shape = (2, 5, 6)
    windows = pool_windows(stage, shape)
    ref = MaxPoolGate(stage, shape)
    rng = np.random.default_rng(seed)
    batch, n_in = 3, int(np.prod(shape))
    rates = rng.uniform(0.0, 0.6, size=(batch, n_in))
    for _window in range(2):  # two sample windows: state reset in between
        ref.reset(batch)
        counts, winner = gate_state((batch,), n_in, windows.shape[0])
        for _ in range(40):
            s = rng.random((batch, n_in)) < rates
            want = np.zeros(batch * windows.shape[0], dtype=bool)
            want[ref(np.flatnonzero(s), batch)] = True
            got = gate_step(windows, counts, winner, s.astype(np.float64))
            np.testing.assert_array_equal(got.ravel(), want)
            np.testing.assert_array_equal(counts, ref.counts)


def test_equal_rates_in_different_phases_pass_one_train() -> None:
    # one 1x2 window; both units spike every other step, out of phase
    windows = np.array([[0, 1]])
    counts, winner = gate_state((), 2, 1)
    out = []
    for n in range(10):
        s = np.array([n % 2 == 0, n % 2 == 1], dtype=float)
        out.append(bool(gate_step(windows, counts, winner, s)[0]))
    # unit 0 leads and keeps every tie: only its train passes (half the steps, not all)
    assert out == [n % 2 == 0 for n in range(10)]


def test_first_in_window_order_wins_a_fresh_tie() -> None:
    windows = np.array([[2, 1, 0]])
    counts, winner = gate_state((), 3, 1)
    assert gate_step(windows, counts, winner, np.array([1.0, 1.0, 1.0]))[0]
    assert winner[0] == 2
    # units 0 and 1 overtake 2 together: 1 comes first in window order
    assert gate_step(windows, counts, winner, np.array([1.0, 1.0, 0.0]))[0]
    assert winner[0] == 1
    # unit 2 catches up to a three-way tie: the incumbent 1 stays, its silence blocks 2's spike
    assert not gate_step(windows, counts, winner, np.array([0.0, 0.0, 1.0]))[0]
    assert winner[0] == 1
