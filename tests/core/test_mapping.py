"""The ReLU <-> Linear LIF mapping (spec §2): Table 2 numbers, the domain, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from lif_bridge import MappingDomainError, leak_for_bias, lif_to_relu, onset_rate, relu_to_lif
from lif_bridge.cli import main

W = [0.3, 0.2]


def test_table2_bias_to_leak_and_back() -> None:
    """b = -2.164 <-> g_l = 3.0 with C_m = V_th = 1, w = [0.3, 0.2]; f_min = 4.328 Hz."""
    p = relu_to_lif(W, -2.164, v_th=1.0, c_m=1.0)
    assert p.g_l == pytest.approx(3.0, abs=1e-3)
    assert p.tau_m == pytest.approx(1 / 3, abs=1e-3)
    assert p.f_min == pytest.approx(4.3281, abs=1e-3)
    assert p.slope == 1.0
    r = lif_to_relu(W, 3.0)
    assert r.bias == pytest.approx(-2.1640, abs=1e-4)
    assert r.f_min == pytest.approx(4.3281, abs=1e-4)
    # the round trip is exact up to rounding
    assert relu_to_lif(W, r.bias).g_l == pytest.approx(3.0, rel=1e-12)


def test_printed_table1_typo_is_not_used() -> None:
    """The printed Table 1 (log in the numerator) would give b = +1.04; we give -2.164."""
    sum_w = 0.5
    typo = -sum_w / (1 / 3.0) * math.log(1 - sum_w)  # -Σw/(R_m C_m)·ln(1-Σw/(V_th C_m))
    assert typo == pytest.approx(1.04, abs=0.01)
    assert lif_to_relu(W, 3.0).bias < 0


def test_slope_and_onset_scale_with_c_m_and_v_th() -> None:
    """k = 1/(V_th C_m); f_min depends on Σw/(V_th C_m) and tau_m."""
    p = relu_to_lif(W, -1.0, v_th=2.0, c_m=0.5)
    assert p.slope == pytest.approx(1.0)
    q = relu_to_lif(W, -1.0, v_th=1.0, c_m=2.0)
    assert q.slope == pytest.approx(0.5)
    assert onset_rate(0.5, 0.0) == 0.0  # IF neuron fires for any positive drive
    assert relu_to_lif(W, 0.0).g_l == 0.0  # zero bias is the IF neuron


@pytest.mark.parametrize(
    ("weights", "bias", "match"),
    [
        ([0.6, 0.5], -1.0, r"0 < sum\(weights\) < V_th\*C_m = 1, got sum\(weights\) = 1.1"),
        ([0.5, 0.5], -1.0, r"sum\(weights\) = 1"),
        ([-0.3, 0.2], -1.0, r"sum\(weights\) = -0.1"),
        (W, 0.5, r"bias = 0.5 > 0 cannot be expressed by a leak.*'current'"),
        (W, float("nan"), r"bias is nan"),
        ([0.3, float("nan")], -1.0, r"weights contain NaN"),
    ],
)
def test_out_of_domain_raises_naming_the_parameter(weights: list, bias: float, match: str) -> None:
    """Σw >= V_th C_m, Σw <= 0, b > 0 and NaN are refused with the parameter named."""
    with pytest.raises(MappingDomainError, match=match):
        relu_to_lif(weights, bias)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"v_th": 0.0}, r"v_th must be > 0 V"), ({"c_m": float("inf")}, r"c_m is inf")],
)
def test_bad_neuron_parameters(kwargs: dict, match: str) -> None:
    """Non-positive or non-finite V_th / C_m are named."""
    with pytest.raises(MappingDomainError, match=match):
        relu_to_lif(W, -1.0, **kwargs)
    with pytest.raises(MappingDomainError, match=match):
        lif_to_relu(W, 3.0, **kwargs)


def test_leak_for_bias_vectorised_names_layer_and_neurons() -> None:
    """The layer form maps each neuron and names the layer and neurons out of the domain."""
    g = leak_for_bias([0.5, 0.5, 0.2], [-2.164, 0.0, -1.0], layer="fc1")
    assert g[0] == pytest.approx(relu_to_lif(W, -2.164).g_l)
    assert g[1] == 0.0
    assert g[2] == pytest.approx(relu_to_lif([0.2], -1.0).g_l)
    with pytest.raises(MappingDomainError, match=r"layer 'fc1': 1 neurons have a positive bias"):
        leak_for_bias([0.5, 0.5], [-1.0, 0.1], layer="fc1")
    with pytest.raises(MappingDomainError, match=r"layer 'fc2': 2 neurons need 0 < sum\(weights\)"):
        leak_for_bias([1.5, -0.2, 0.5], [-1.0, -1.0, -1.0], layer="fc2")
    # a neuron without bias needs no leak, whatever its weights
    assert leak_for_bias([5.0], [0.0])[0] == 0.0
    with pytest.raises(MappingDomainError, match="NaN"):
        leak_for_bias([np.nan], [-1.0])


def test_cli_map_forward_and_inverse(capsys: pytest.CaptureFixture[str]) -> None:
    """`lif-bridge map ... --json` gives g_l, tau_m, f_min, slope (and back: bias)."""
    assert main(["map", "--weights", "0.3", "0.2", "--bias", "-2.164", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["g_l"] == pytest.approx(3.0, abs=1e-3)
    assert out["tau_m"] == pytest.approx(1 / 3, abs=1e-3)
    assert out["f_min"] == pytest.approx(4.328, abs=1e-3)
    assert out["slope"] == 1.0
    args = ["map", "--inverse", "--weights", "0.3", "0.2", "--g-l", "3", "--v-th", "1"]
    assert main([*args, "--c-m", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bias"] == pytest.approx(-2.164, abs=1e-3)
    assert out["f_min"] == pytest.approx(4.328, abs=1e-3)
    assert out["slope"] == 1.0


def test_cli_map_out_of_domain_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """Bad input: one line on stderr, exit status 2, no traceback."""
    assert main(["map", "--weights", "0.6", "0.5", "--bias", "-1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "sum(weights) = 1.1" in err
    assert "Traceback" not in err
