"""Tests of the network description: validation messages, immutability, equality, naming."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lif_bridge import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Simulation,
    ValidationError,
)
from lif_bridge.testing import small_conv_net as _conv_net
from lif_bridge.testing import small_mlp as _mlp

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
