"""The exact single-neuron transfer against the spec's measured table (§3)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge import lif_rate, transfer_curve
from lif_bridge.cli import main

W = [0.3, 0.2]
#: spec §3: f -> (ReLU 0.5 f - 2.164, Linear LIF, reset-to-zero LIF, IF)
SPEC = {
    4.4: (0.036, 0.62, 0.62, 2.2),
    10.0: (2.84, 3.57, 3.33, 5.0),
    30.0: (12.84, 13.63, 10.0, 15.0),
    60.0: (27.84, 28.63, 20.0, 30.0),
}


@pytest.mark.parametrize("f", sorted(SPEC))
def test_spec_table_within_0_05_hz(f: float) -> None:
    """Linear LIF, reset-to-zero and IF rates of the Table 2 neuron within 0.05 Hz."""
    relu, linear, zero, if_ = SPEC[f]
    assert lif_rate(W, f, g_l=3.0) == pytest.approx(linear, abs=0.05)
    assert lif_rate(W, f, g_l=3.0, reset="zero") == pytest.approx(zero, abs=0.05)
    assert lif_rate(W, f, g_l=0.0) == pytest.approx(if_, abs=0.05)
    curve = transfer_curve(W, [f], g_l=3.0)
    assert curve.relu[0] == pytest.approx(relu, abs=0.01)


def test_onset_at_f_min() -> None:
    """Silent just below f_min = 4.3281 Hz, firing just above (regular trains, exact)."""
    assert lif_rate(W, 4.30, g_l=3.0, duration=400) == 0.0
    assert lif_rate(W, 4.36, g_l=3.0, duration=400) > 0.0


def test_linear_lif_keeps_the_slope_reset_to_zero_loses_it() -> None:
    """High-rate slope: Linear LIF 1/(V_th C_m)·Σw = 0.5, reset-to-zero 1/3 (three inputs)."""
    f = np.array([40.0, 80.0])
    lin = transfer_curve(W, f, g_l=3.0).rates_out
    zero = transfer_curve(W, f, g_l=3.0, reset="zero").rates_out
    assert (lin[1] - lin[0]) / 40 == pytest.approx(0.5, abs=0.01)
    assert (zero[1] - zero[0]) / 40 == pytest.approx(1 / 3, abs=0.01)
    # and the Linear LIF sits about 0.8 Hz above the ReLU at high rates (spec §3)
    err = transfer_curve(W, f, g_l=3.0).error
    assert np.all((err > 0.7) & (err < 0.9))


def test_slope_scales_with_capacitance() -> None:
    """C_m halves the slope: k = 1/(V_th C_m) (IF neuron, where the map is exact)."""
    r1 = lif_rate(W, 60.0, g_l=0.0, c_m=1.0)
    r2 = lif_rate(W, 60.0, g_l=0.0, c_m=2.0)
    assert r2 == pytest.approx(r1 / 2, abs=0.01)


def test_bias_current_and_per_input_rates() -> None:
    """A positive bias current alone drives an IF neuron at I/(C_m V_th); per-input rates."""
    assert lif_rate([0.0], 0.0, g_l=0.0, i_bias=7.0) == pytest.approx(7.0, abs=0.01)
    # leaky neuron driven by a current above threshold: exact rate 1/(tau ln(v_inf/(v_inf-1)))
    g, i = 2.0, 4.0  # v_inf = 2, tau = 0.5
    want = 1 / (0.5 * np.log(2 / (2 - 1)))
    assert lif_rate([0.0], 0.0, g_l=g, i_bias=i) == pytest.approx(want, abs=0.01)
    curve = transfer_curve(W, np.array([[10.0, 20.0], [20.0, 10.0]]), g_l=0.0)
    assert curve.rates_out == pytest.approx([7.0, 8.0], abs=0.01)


def test_cli_transfer_json_and_plot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`lif-bridge transfer ... --json --plot` gives rates_in, rates_out, relu and a PNG."""
    png = tmp_path / "curve.png"
    args = ["transfer", "--weights", "0.3", "0.2", "--g-l", "3", "--v-th", "1", "--c-m", "1"]
    code = main(
        [*args, "--reset", "zero", "--rates", "5", "10", "30", "--json", "--plot", str(png)]
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rates_in"] == [5.0, 10.0, 30.0]
    assert out["rates_out"][2] == pytest.approx(10.0, abs=0.05)
    assert len(out["relu"]) == 3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
