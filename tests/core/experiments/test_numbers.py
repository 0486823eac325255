"""S1/S2/ERR numbers against the spec (mapping.md §3, §4): fast, no MNIST needed."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.analysis import rate_error
from lif_bridge.experiments import s1
from lif_bridge.experiments.single import TABLE2, measure_onset, measure_slope
from lif_bridge.network import RegularRate
from lif_bridge.transfer import lif_rate

W = TABLE2["weights"]
G_L = float(TABLE2["g_l"])  # type: ignore[arg-type]


def test_onset_is_spec_value() -> None:
    onset = measure_onset(W, [1, 1], g_l=G_L, duration=200.0)
    assert onset == pytest.approx(4.3281, abs=0.005)
    assert -0.5 * onset == pytest.approx(-2.164, abs=0.003)


@pytest.mark.parametrize("c_m", [1.0, 2.0])
def test_linear_lif_slope_is_one_over_vth_cm(c_m: float) -> None:
    k = measure_slope(W, [1, 1], np.arange(15.0, 31.0), g_l=G_L, c_m=c_m, duration=200.0)
    assert k == pytest.approx(1.0 / c_m, rel=0.03)


def test_reset_to_zero_loses_slope() -> None:
    k = measure_slope(W, [1, 1], np.arange(15.0, 31.0), g_l=G_L, reset="zero", duration=200.0)
    assert k < 0.75


@pytest.mark.parametrize("f", sorted(s1.SPEC_TABLE))
def test_transfer_matches_spec_table(f: float) -> None:
    _, lin, zero, if_ = s1.SPEC_TABLE[f]
    assert lif_rate(W, f, g_l=G_L, duration=200.0) == pytest.approx(lin, abs=0.05)
    assert lif_rate(W, f, g_l=G_L, reset="zero", duration=200.0) == pytest.approx(zero, abs=0.05)
    assert lif_rate(W, f, g_l=0.0, duration=200.0) == pytest.approx(if_, abs=0.05)


@pytest.mark.parametrize("T", [0.1, 1.0, 10.0])
def test_regular_train_rate_error_below_bound(T: float) -> None:
    dt = 0.01
    rates = np.random.default_rng(0).uniform(0, 100, size=500)
    steps = round(T / dt)
    counts = RegularRate().encode(rates[None, :] * dt, steps).sum(axis=1)[0]
    err = rate_error(counts, rates, steps * dt)
    assert err["max"] < 1.0 / T
    if T == 10.0:
        rel = np.linalg.norm(counts / T - rates) / np.linalg.norm(rates)
        assert rel < 0.01
