"""Tests of the simulation settings, readout and input checks of the description."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import (
    ConstantCurrent,
    Conv2d,
    Dense,
    MaxPool2d,
    Network,
    Poisson,
    Readout,
    RegularRate,
    Simulation,
    ValidationError,
)
from lif_bridge.network import check_inputs
from lif_bridge.testing import small_conv_net as _conv_net
from lif_bridge.testing import small_mlp as _mlp


@pytest.mark.parametrize("encoder", [RegularRate(), Poisson(seed=1)])
def test_spiking_max_rate_above_one_over_dt_refused(encoder: object) -> None:
    """A spiking encoder cannot carry more than one spike per step."""
    with pytest.raises(
        ValidationError, match=r"max_rate 200.0 Hz exceeds 1/dt = 100 Hz.*lower max_rate or dt"
    ):
        Simulation(steps=10, dt=0.01, max_rate=200.0, encoder=encoder)  # type: ignore[arg-type]
    assert Simulation(steps=10, dt=0.01, max_rate=100.0, encoder=encoder).max_rate == 100.0  # type: ignore[arg-type]


def test_constant_current_may_exceed_one_over_dt() -> None:
    """The analog encoder has no one-spike-per-step limit."""
    assert Simulation(steps=10, dt=0.01, max_rate=500.0, encoder=ConstantCurrent()).max_rate == 500


@pytest.mark.parametrize("steps", [0, -3, 2.5, "10"])
def test_steps_must_be_positive_int(steps: object) -> None:
    """steps < 1 or not an int is refused with the value shown."""
    with pytest.raises(ValidationError, match=r"Simulation: steps must be an int >= 1, got"):
        Simulation(steps=steps)  # type: ignore[arg-type]


def test_simulation_other_fields_validated() -> None:
    """dt, max_rate, encoder and Poisson seed are validated."""
    with pytest.raises(ValidationError, match=r"dt must be a time step > 0 s"):
        Simulation(steps=5, dt=0.0)
    with pytest.raises(ValidationError, match=r"max_rate must be a finite rate > 0 Hz"):
        Simulation(steps=5, max_rate=float("nan"))
    with pytest.raises(ValidationError, match=r"encoder must be RegularRate, Poisson or Constant"):
        Simulation(steps=5, encoder="regular")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"Poisson: seed must be a non-negative int"):
        Poisson(seed=-1)
    assert Simulation(steps=np.int64(5)).steps == 5
    assert Simulation(steps=50, dt=0.002).duration == pytest.approx(0.1)


def test_input_rate_defaults() -> None:
    """Effective max_rate: the simulation's, else the network's, else 1/dt.

    A network converted for more than 1/dt is refused for spike trains (its bias currents
    assume that rate), not silently capped; analog input has no such ceiling.
    """
    net = _mlp()
    fast = Network(input_shape=(4,), layers=net.layers, max_rate=1000.0)
    slow = Network(input_shape=(4,), layers=net.layers, max_rate=40.0)
    sim = Simulation(steps=5, dt=0.01)
    assert sim.input_rate(net) == pytest.approx(100.0)
    with pytest.raises(ValidationError, match=r"converted for input rates up to 1000 Hz.*dt <="):
        sim.input_rate(fast)
    analog = Simulation(steps=5, dt=0.01, encoder=ConstantCurrent())
    assert analog.input_rate(fast) == 1000.0
    assert sim.input_rate(slow) == 40.0
    assert Simulation(steps=5, dt=0.01, max_rate=20.0).input_rate(slow) == 20.0


def test_readout_validation_and_layers() -> None:
    """Readout names are checked against the network; the output is always counted."""
    net = _mlp()
    with pytest.raises(ValidationError, match="counts must be 'output', 'all' or layer names"):
        Readout(counts="everything")  # type: ignore[arg-type]
    assert Readout().count_layers(net) == ("dense1",)
    assert Readout(counts="all").count_layers(net) == ("dense0", "dense1")
    assert Readout(counts=["dense0"]).count_layers(net) == ("dense0", "dense1")
    with pytest.raises(ValidationError, match=r"no weighted layer named 'nope'"):
        Readout(traces=("nope",)).count_layers(net)
    with pytest.raises(ValidationError, match=r"no weighted layer named 'x'"):
        Readout(counts=("x",)).count_layers(net)


def test_check_inputs_shapes_and_nan() -> None:
    """check_inputs reshapes flat samples, refuses wrong shapes and non-finite values."""
    net = _conv_net()
    flat = np.zeros((2, 36))
    assert check_inputs(net, flat).shape == (2, 1, 6, 6)
    with pytest.raises(ValidationError, match=r"inputs have shape \(2, 35\); expected"):
        check_inputs(net, np.zeros((2, 35)))
    bad = np.zeros((1, 1, 6, 6))
    bad[0, 0, 2, 2] = np.nan
    with pytest.raises(ValidationError, match="inputs contain NaN or infinite values"):
        check_inputs(net, bad)


def test_ann_fields_validated() -> None:
    """ann_bias size, ann_activation and rate_scale are validated with the layer named."""
    w = np.ones((3, 4))
    with pytest.raises(ValidationError, match=r"Dense 'd': ann_bias must be a scalar or have 3"):
        Dense(name="d", weight=w, ann_bias=np.zeros(4))
    with pytest.raises(ValidationError, match=r"Dense 'd': ann_bias contains NaN"):
        Dense(name="d", weight=w, ann_bias=np.nan)
    with pytest.raises(ValidationError, match=r"Dense 'd': ann_activation must be 'relu' or"):
        Dense(name="d", weight=w, ann_activation="tanh")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"Dense 'd': rate_scale must be a finite number > 0"):
        Dense(name="d", weight=w, rate_scale=0.0)
    with pytest.raises(ValidationError, match=r"Dense 'd': neurons must be a Neurons instance"):
        Dense(name="d", weight=w, neurons={"v_th": 1.0})  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [1.5, None])
def test_non_integer_pair_field_raises_validation_error(value: object) -> None:
    """A float (or None) stride/dilation/kernel is refused with ValidationError, not TypeError."""
    w = np.ones((2, 1, 3, 3))
    with pytest.raises(ValidationError, match=r"Conv2d 'c': dilation must be an int or a pair"):
        Conv2d(name="c", weight=w, dilation=value)  # type: ignore[arg-type]
    with pytest.raises(
        ValidationError, match=r"MaxPool2d 'p': kernel_size must be an int or a pair"
    ):
        MaxPool2d(name="p", kernel_size=value)  # type: ignore[arg-type]
