"""Tests of the network description: validation messages, immutability, equality, naming."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge import (
    AvgPool2d,
    ConstantCurrent,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Poisson,
    Readout,
    RegularRate,
    Simulation,
    ValidationError,
)
from lif_bridge.network import check_inputs


def _mlp(n_in: int = 4, hidden: int = 3, out: int = 2) -> Network:
    """A two-layer dense network with fixed weights."""
    rng = np.random.default_rng(0)
    return Network(
        input_shape=(n_in,),
        layers=(
            Dense(weight=rng.normal(size=(hidden, n_in))),
            Dense(weight=rng.normal(size=(out, hidden))),
        ),
    )


def _conv_net() -> Network:
    """conv (1x6x6 -> 2x4x4), max pool, flatten, dense."""
    return Network(
        input_shape=(1, 6, 6),
        layers=(
            Conv2d(weight=np.ones((2, 1, 3, 3))),
            MaxPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=np.ones((3, 8))),
        ),
    )


# --------------------------------------------------------------------------- weights


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_dense_weight_names_layer(bad: float) -> None:
    """NaN/inf weights are refused, the message names the layer and counts the bad values."""
    w = np.ones((2, 3))
    w[1, 2] = bad
    with pytest.raises(ValidationError, match=r"Dense 'fc1': weight contains 1 NaN or infinite"):
        Dense(name="fc1", weight=w)


def test_non_finite_conv_weight_names_layer() -> None:
    """A convolution with NaN weights names itself and hints at a diverged training run."""
    w = np.ones((2, 1, 3, 3))
    w[0, 0, 0, :] = np.nan
    with pytest.raises(ValidationError, match=r"Conv2d 'c1': weight contains 3 NaN.*diverged"):
        Conv2d(name="c1", weight=w)


@pytest.mark.parametrize(
    ("cls", "shape", "ndim"),
    [(Dense, (3,), 2), (Dense, (1, 2, 3), 2), (Conv2d, (2, 3, 3), 4), (Conv2d, (2, 1, 3, 3, 1), 4)],
)
def test_wrong_weight_ndim(cls: type, shape: tuple[int, ...], ndim: int) -> None:
    """A weight of the wrong number of dimensions is refused with the expected ndim and shape."""
    with pytest.raises(
        ValidationError,
        match=rf"{cls.__name__} 'w': weight must have {ndim} dimensions, got shape "
        + repr(shape).replace("(", r"\(").replace(")", r"\)"),
    ):
        cls(name="w", weight=np.ones(shape))


def test_empty_and_non_numeric_weights() -> None:
    """Empty and non-numeric weights are refused (not a numpy error)."""
    with pytest.raises(ValidationError, match=r"Dense 'e': weight is empty"):
        Dense(name="e", weight=np.ones((0, 3)))
    with pytest.raises(ValidationError, match=r"Dense 'e': weight must be a numeric array"):
        Dense(name="e", weight=[["a", "b"]])


def test_dense_input_size_mismatch_names_layer_and_fix() -> None:
    """Dense layers whose input size does not match the previous layer are refused."""
    with pytest.raises(
        ValidationError,
        match=r"Dense 'dense1': expects a vector of 5 inputs but receives shape \(3,\); "
        r"insert a Flatten",
    ):
        Network(
            input_shape=(4,),
            layers=(Dense(weight=np.ones((3, 4))), Dense(weight=np.ones((2, 5)))),
        )


def test_dense_after_conv_without_flatten() -> None:
    """A Dense directly after a (C, H, W) map asks for a Flatten."""
    with pytest.raises(ValidationError, match=r"Dense 'fc': .*receives shape \(2, 4, 4\).*Flatten"):
        Network(
            input_shape=(1, 6, 6),
            layers=(
                Conv2d(weight=np.ones((2, 1, 3, 3))),
                Dense(name="fc", weight=np.ones((1, 32))),
            ),
        )


def test_conv_channel_mismatch_and_small_input() -> None:
    """Conv2d refuses the wrong channel count and an input smaller than the kernel."""
    with pytest.raises(
        ValidationError, match=r"Conv2d 'conv0': expects 3 input channels, receives 1"
    ):
        Network(input_shape=(1, 5, 5), layers=(Conv2d(weight=np.ones((2, 3, 3, 3))),))
    with pytest.raises(ValidationError, match=r"Conv2d 'conv0': input \(1, 2, 2\) is smaller"):
        Network(input_shape=(1, 2, 2), layers=(Conv2d(weight=np.ones((2, 1, 3, 3))),))
    with pytest.raises(ValidationError, match=r"Conv2d 'conv0': expects a \(C, H, W\) map"):
        Network(input_shape=(25,), layers=(Conv2d(weight=np.ones((2, 1, 3, 3))),))


def test_conv_hyperparameters_validated() -> None:
    """stride/padding/dilation/groups are checked with the field named."""
    w = np.ones((2, 1, 3, 3))
    with pytest.raises(ValidationError, match=r"Conv2d 'c': stride must be >= 1"):
        Conv2d(name="c", weight=w, stride=0)
    with pytest.raises(ValidationError, match=r"Conv2d 'c': padding must be >= 0"):
        Conv2d(name="c", weight=w, padding=(0, -1))
    with pytest.raises(ValidationError, match=r"Conv2d 'c': dilation must be an int or a pair"):
        Conv2d(name="c", weight=w, dilation=(1, 2, 3))
    with pytest.raises(ValidationError, match=r"Conv2d 'c': groups must be an int >= 1"):
        Conv2d(name="c", weight=w, groups=0)
    with pytest.raises(ValidationError, match=r"divisible by groups"):
        Conv2d(name="c", weight=np.ones((3, 1, 3, 3)), groups=2)


# --------------------------------------------------------------------------- neurons


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


# --------------------------------------------------------------------------- network structure


def test_duplicate_names_refused() -> None:
    """Two layers with the same name are refused, naming the repeated name."""
    with pytest.raises(ValidationError, match=r"layer names must be unique, repeated: \['fc'\]"):
        Network(
            input_shape=(4,),
            layers=(
                Dense(name="fc", weight=np.ones((3, 4))),
                Dense(name="fc", weight=np.ones((2, 3))),
            ),
        )


@pytest.mark.parametrize("last", [Flatten(), AvgPool2d(kernel_size=2), MaxPool2d(kernel_size=2)])
def test_last_layer_must_be_weighted(last: object) -> None:
    """A network ending in a stateless stage has no readout population."""
    with pytest.raises(ValidationError, match=r"the last layer '\w+1' must be Dense or Conv2d"):
        Network(input_shape=(1, 4, 4), layers=(Conv2d(weight=np.ones((1, 1, 1, 1))), last))


def test_empty_network_and_bad_layer_types() -> None:
    """No layers, a non-layer object and a bad input shape are refused clearly."""
    with pytest.raises(ValidationError, match="needs at least one layer"):
        Network(input_shape=(4,), layers=())
    with pytest.raises(ValidationError, match=r"layer 1 is a dict; layers must be one of Dense"):
        Network(input_shape=(4,), layers=(Dense(weight=np.ones((3, 4))), {"type": "Dense"}))
    with pytest.raises(ValidationError, match="input_shape must be positive ints"):
        Network(input_shape=(0, 4), layers=(Dense(weight=np.ones((3, 4))),))
    with pytest.raises(ValidationError, match="max_rate must be a finite rate > 0 Hz"):
        Network(input_shape=(4,), layers=(Dense(weight=np.ones((3, 4))),), max_rate=-5)


def test_max_pool_after_avg_pool_refused() -> None:
    """A spiking max pool fed by an average pool (real values) is refused with the fix."""
    with pytest.raises(
        ValidationError,
        match=r"MaxPool2d 'maxpool2': a spiking max pool must receive spikes directly.*"
        r"reorder the layers",
    ):
        Network(
            input_shape=(1, 8, 8),
            layers=(
                Conv2d(weight=np.ones((1, 1, 1, 1))),
                AvgPool2d(kernel_size=2),
                MaxPool2d(kernel_size=2),
                Flatten(),
                Dense(weight=np.ones((1, 4))),
            ),
        )


def test_max_pool_after_flatten_refused() -> None:
    """A max pool after a Flatten is refused, naming the max-pool layer."""
    with pytest.raises(ValidationError, match=r"MaxPool2d 'maxpool2'"):
        Network(
            input_shape=(1, 4, 4),
            layers=(
                Conv2d(weight=np.ones((1, 1, 1, 1))),
                Flatten(),
                MaxPool2d(kernel_size=2),
                Dense(weight=np.ones((1, 4))),
            ),
        )


def test_max_pool_chain_allowed_and_populations() -> None:
    """Two max pools in a row are allowed; populations record source, stages and shapes."""
    net = Network(
        input_shape=(1, 8, 8),
        layers=(
            Conv2d(weight=np.ones((2, 1, 1, 1))),
            MaxPool2d(kernel_size=2),
            MaxPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=np.ones((3, 8))),
        ),
    )
    first, second = net.populations
    assert (first.source, first.shape, first.stages) == (-1, (2, 8, 8), ())
    assert second.source == 0
    assert second.source_shape == (2, 8, 8)
    assert second.input_shape == (8,)
    assert second.gated_shape == (2, 2, 2)
    assert [type(s).__name__ for s in second.gates] == ["MaxPool2d", "MaxPool2d"]
    assert [type(s).__name__ for s in second.linear_stages] == ["Flatten"]
    assert net.output is second and second.size == 3
    assert net.n_inputs == 64
    assert net.population("dense4") is second
    with pytest.raises(
        ValidationError, match=r"no weighted layer named 'flatten3'; .*conv0, dense4"
    ):
        net.population("flatten3")


def test_auto_naming_keeps_given_names() -> None:
    """Unnamed layers are named <type><index>; given names are kept; iteration yields layers."""
    net = Network(
        input_shape=(1, 6, 6),
        layers=(
            Conv2d(weight=np.ones((2, 1, 3, 3))),
            MaxPool2d(kernel_size=2),
            AvgPool2d(kernel_size=1, name="identity_pool"),
            Flatten(),
            Dense(weight=np.ones((3, 8)), name="out"),
        ),
    )
    assert [layer.name for layer in net] == [
        "conv0",
        "maxpool1",
        "identity_pool",
        "flatten3",
        "out",
    ]
    assert net.output.name == "out"


# --------------------------------------------------------------------------- immutability


def test_frozen_assignment_raises() -> None:
    """Layers, neurons, networks and simulations cannot be reassigned."""
    net = _mlp()
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].weight = np.zeros((3, 4))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].neurons.v_th = 2.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.input_shape = (5,)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Simulation(steps=3).steps = 4  # type: ignore[misc]


def test_arrays_are_read_only_copies() -> None:
    """Weights and per-neuron arrays are read-only, and copies of what the caller passed."""
    w = np.ones((3, 4))
    bias = np.zeros(3)
    layer = Dense(weight=w, neurons=Neurons(i_bias=bias))
    with pytest.raises(ValueError, match="read-only"):
        layer.weight[0, 0] = 5.0  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        layer.neurons.i_bias[0] = 5.0  # type: ignore[index]
    with pytest.raises(ValueError, match="read-only"):
        Dense(weight=w, ann_bias=np.zeros(3)).ann_bias[0] = 1.0  # type: ignore[index]
    w[0, 0] = 7.0
    bias[0] = 7.0
    assert layer.weight[0, 0] == 1.0  # type: ignore[index]
    assert layer.neurons.i_bias[0] == 0.0  # type: ignore[index]


def test_weights_stored_as_float64() -> None:
    """Integer and float32 weights are stored as float64."""
    assert Dense(weight=np.ones((2, 2), dtype=np.int32)).weight.dtype == np.float64  # type: ignore[union-attr]
    assert Dense(weight=np.ones((2, 2), dtype=np.float32)).weight.dtype == np.float64  # type: ignore[union-attr]


# --------------------------------------------------------------------------- equality


def test_equality_compares_arrays_exactly() -> None:
    """Equal descriptions compare equal; one ulp of difference in a weight does not."""
    a, b = _mlp(), _mlp()
    assert a == b
    w = np.array(b.layers[1].weight)
    w[0, 0] = np.nextafter(w[0, 0], np.inf)
    c = Network(input_shape=(4,), layers=(b.layers[0], Dense(weight=w)))
    assert a != c
    assert Neurons(c_m=1.0) == Neurons(c_m=1.0)
    assert Neurons(c_m=1.0) != Neurons(c_m=[1.0])  # scalar vs per-neuron array
    assert Neurons(i_bias=[0.0, 1.0]) != Neurons(i_bias=[0.0, np.nextafter(1.0, 2.0)])
    assert Dense(weight=np.ones((1, 2))) != Dense(weight=np.ones((2, 1)))
    assert Dense(weight=np.ones((1, 2))) != Dense(weight=np.ones((1, 2)), ann_bias=0.0)
    assert _conv_net() == _conv_net()
    assert Network(input_shape=(4,), layers=a.layers, metadata={"k": 1}) != a


def test_descriptions_are_unhashable() -> None:
    """Array-holding descriptions are unhashable (eq compares arrays, so no hash)."""
    with pytest.raises(TypeError):
        hash(_mlp())
    with pytest.raises(TypeError):
        hash(Neurons())


# --------------------------------------------------------------------------- summary


def test_summary_lists_layers_shapes_kinds_synapses() -> None:
    """summary() has one row per layer with shapes, neuron kind and synapse counts."""
    net = Network(
        input_shape=(1, 6, 6),
        layers=(
            Conv2d(weight=np.ones((2, 1, 3, 3)), neurons=Neurons(g_l=0.1)),
            MaxPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=np.ones((3, 8)), neurons=Neurons(g_l=0.1, reset="zero")),
        ),
    )
    lines = net.summary().splitlines()
    assert lines[0] == "input (1, 6, 6)"
    assert len(lines) == 5
    # 2 output channels x 16 positions x 9 taps (no padding) = 288 synapses
    assert lines[1].split()[:2] == ["conv0", "Conv2d"]
    assert "-> (2, 4, 4)" in lines[1] and "linear_lif" in lines[1] and "synapses=288" in lines[1]
    assert "-> (2, 2, 2)" in lines[2] and "synapses" not in lines[2]
    assert "-> (8,)" in lines[3]
    assert "lif " in lines[4] and "synapses=24" in lines[4]
    big = Network(input_shape=(2000,), layers=(Dense(weight=np.ones((10, 2000))),))
    assert "synapses=20,000" in big.summary()


# --------------------------------------------------------------------------- simulation, readout


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
