"""The synapses inside a Lava population's process (pure NumPy: no Lava needed)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from lif_bridge_lava.gate import gate_state, gate_step
from lif_bridge_lava.synapses import DelayLine, Gates, Synapses


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
@pytest.mark.parametrize("dense", [False, True])
def test_active_synapse_sums_equal_the_matrix_product(dtype: type, dense: bool) -> None:
    rng = np.random.default_rng(0)
    w = sp.random(30, 50, density=0.3, random_state=1, format="csr") * 9
    w = sp.csr_matrix(np.round(w.toarray()) if dtype is np.int64 else w.toarray(), dtype=dtype)
    syn = Synapses(matrix=w.toarray() if dense else w, gates=Gates([], 50))
    for density in (0.0, 0.1, 0.5, 1.0):
        z = (rng.random(50) < density).astype(np.float64)
        got = syn.jumps(z)
        assert got.dtype == np.dtype(dtype) and got.shape == (30,)
        np.testing.assert_allclose(got, w @ z, rtol=1e-12, atol=0)


def test_analog_input_is_a_matrix_product() -> None:
    w = sp.random(5, 8, density=0.5, random_state=2, format="csr")
    syn = Synapses(matrix=w, gates=Gates([], 8), analog=True)
    z = np.linspace(0.0, 0.7, 8)
    np.testing.assert_allclose(syn.jumps(z), w @ z, rtol=1e-12)


def test_delay_line_returns_the_input_of_d_steps_ago() -> None:
    line = DelayLine(2)
    out = [line(np.array([float(n)])) for n in range(5)]
    assert [float(o[0]) for o in out] == [0.0, 0.0, 0.0, 1.0, 2.0]
    line.reset()
    assert float(line(np.array([9.0]))[0]) == 0.0
    assert float(DelayLine(0)(np.array([4.0]))[0]) == 4.0


def test_gates_and_delay_compose_and_reset() -> None:
    windows = [np.array([[0, 1], [2, 3]])]
    syn = Synapses(matrix=np.eye(2), gates=Gates(windows, 4), delay=1)
    counts, winner = gate_state((), 4, 2)
    inputs = [np.array(z, dtype=np.float64) for z in ([1, 0, 0, 1], [0, 1, 1, 0], [0, 1, 0, 1])]
    want = [gate_step(windows[0], counts, winner, z).astype(np.float64) for z in inputs]
    got = [syn(z) for z in inputs]
    np.testing.assert_array_equal(got[0], [0.0, 0.0])  # one step of delay
    np.testing.assert_array_equal(got[1], want[0])
    np.testing.assert_array_equal(got[2], want[1])
    syn.reset()  # a new sample window: fresh gates, empty line
    np.testing.assert_array_equal(syn(inputs[0]), [0.0, 0.0])
