"""Tests of the neuron parameters of the description: validation, per-neuron arrays, broadcast."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import (
    Conv2d,
    Dense,
    Network,
    Neurons,
    ValidationError,
)


def test_per_neuron_array_of_wrong_length_names_layer() -> None:
    """Per-neuron parameters must have one value per neuron of the layer they sit in."""
    with pytest.raises(
        ValidationError,
        match=r"Dense 'dense0': per-neuron parameters have 2 values but the layer has 3 neurons",
    ):
        Network(
            input_shape=(4,),
            layers=(Dense(weight=np.ones((3, 4)), neurons=Neurons(i_bias=np.zeros(2))),),
        )
    # conv: 2 channels x 4 x 4 = 32 neurons, one value per channel is not enough
    with pytest.raises(ValidationError, match=r"Conv2d 'conv0': .* 2 values but .* 32 neurons"):
        Network(
            input_shape=(1, 6, 6),
            layers=(Conv2d(weight=np.ones((2, 1, 3, 3)), neurons=Neurons(v_th=[1.0, 2.0])),),
        )


def test_per_neuron_arrays_of_different_lengths() -> None:
    """Two per-neuron arrays of different lengths in one population are refused."""
    with pytest.raises(ValidationError, match=r"different lengths \[2, 3\]"):
        Neurons(c_m=np.ones(2), i_bias=np.zeros(3))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"c_m": 0.0}, r"c_m \(membrane capacitance, F\) must be > 0"),
        ({"c_m": [1.0, -1.0]}, r"c_m .* must be > 0"),
        ({"v_th": 0.0}, r"v_th \(threshold, V\) must be > 0"),
        ({"v_th": -1.0, "v_reset": -2.0}, r"v_th \(threshold, V\) must be > 0"),
        ({"g_l": -0.1}, r"g_l \(leak conductance, S\) must be >= 0"),
        ({"v_th": 1.0, "v_reset": 1.0}, r"v_th must be above v_reset"),
        ({"reset": "hard"}, r"reset must be 'subtract' \(Linear LIF\) or 'zero', got 'hard'"),
        ({"refractory": -0.01}, r"refractory \(s\) must be finite and >= 0"),
        ({"refractory": float("inf")}, r"refractory \(s\) must be finite"),
        ({"i_bias": np.nan}, r"i_bias contains NaN or infinite values"),
        ({"v_rest": np.ones((2, 2))}, r"v_rest must be a scalar .* got shape \(2, 2\)"),
        ({"c_m": "big"}, r"c_m must be a number or a 1-D array"),
    ],
)
def test_neuron_parameters_validated(kwargs: dict, pattern: str) -> None:
    """Each invalid neuron parameter raises ValidationError naming the field and the rule."""
    with pytest.raises(ValidationError, match=r"Neurons: " + pattern):
        Neurons(**kwargs)


def test_neurons_kind_size_broadcast_replace() -> None:
    """kind, size, broadcast (fresh writable copies) and replace (re-validated)."""
    assert Neurons().kind == "if"
    assert Neurons(g_l=0.5).kind == "linear_lif"
    assert Neurons(g_l=0.5, reset="zero").kind == "lif"
    assert Neurons(g_l=[0.0, 0.5]).kind == "linear_lif"
    assert Neurons().size is None
    assert Neurons(i_bias=np.zeros(7)).size == 7
    nrn = Neurons(c_m=2.0, i_bias=np.arange(3.0))
    b = nrn.broadcast(3)
    assert b["c_m"].tolist() == [2.0, 2.0, 2.0]
    b["i_bias"][0] = 99.0  # writable copy, the description is untouched
    assert nrn.i_bias[0] == 0.0
    assert nrn.replace(v_th=2.0).v_th == 2.0
    with pytest.raises(ValidationError, match="v_th"):
        nrn.replace(v_th=-1.0)
