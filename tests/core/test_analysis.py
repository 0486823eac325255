"""Tests of the analysis functions on vectors whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import (
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Result,
    accuracy,
    agreement,
    correlation,
    potential_scores,
    rate_error,
    spikes_per_neuron,
    synaptic_operations,
)
from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import LifBridgeError
from lif_bridge.testing import random_network


def test_agreement_counts_ties_and_silent() -> None:
    """Agreement compares arg-maxes (lowest index on ties) and counts ties and silent samples."""
    counts = np.array(
        [
            [0, 5, 1],  # label 1, ANN 1: agree
            [2, 2, 0],  # tie -> label 0, ANN 0: agree, tie
            [0, 0, 0],  # silent (and a tie) -> label 0, ANN 2: disagree
            [3, 1, 1],  # label 0, ANN 1: disagree
        ]
    )
    ann = np.array([[0.1, 0.9, 0.0], [0.5, 0.4, 0.0], [0.0, 0.1, 0.2], [0.0, 1.0, 0.5]])
    a = agreement(counts, ann)
    assert a.fraction == 0.5
    assert a.samples == 4
    assert a.ties == 2
    assert a.silent == 1


def test_agreement_shape_mismatch_and_empty() -> None:
    """Different shapes are refused; no samples gives nan."""
    with pytest.raises(ValueError, match=r"shapes differ: SNN \(2, 3\), ANN \(2, 4\)"):
        agreement(np.zeros((2, 3)), np.zeros((2, 4)))
    assert np.isnan(agreement(np.zeros((0, 3)), np.zeros((0, 3))).fraction)


def test_accuracy_labels_and_scores() -> None:
    """accuracy takes labels or 2-D scores (arg-max)."""
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    scores = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    assert accuracy(scores, np.array([1, 1, 1])) == pytest.approx(2 / 3)


def test_correlation_matches_corrcoef_both_axes() -> None:
    """Per-sample and per-neuron coefficients equal numpy.corrcoef on the same vectors."""
    rng = np.random.default_rng(0)
    r = rng.random((5, 7))
    a = 2 * r + rng.normal(0, 0.3, (5, 7))
    by_sample = correlation(r, a, axis="neurons")
    assert by_sample.axis == "neurons" and by_sample.values.shape == (5,)
    for k in range(5):
        assert by_sample.values[k] == pytest.approx(np.corrcoef(r[k], a[k])[0, 1], abs=1e-12)
    by_neuron = correlation(r, a, axis="samples")
    assert by_neuron.values.shape == (7,)
    for j in range(7):
        assert by_neuron.values[j] == pytest.approx(np.corrcoef(r[:, j], a[:, j])[0, 1], abs=1e-12)
    assert by_sample.mean == pytest.approx(np.mean(by_sample.values))
    assert by_sample.min == pytest.approx(np.min(by_sample.values))
    assert by_sample.max == pytest.approx(np.max(by_sample.values))


def test_correlation_known_values() -> None:
    """Perfect positive and negative linear relations give +1 and -1."""
    r = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    a = np.array([[10.0, 20.0, 30.0], [3.0, 2.0, 1.0]])
    np.testing.assert_allclose(correlation(r, a).values, [1.0, -1.0], atol=1e-12)


def test_correlation_constant_vectors_are_nan_and_excluded() -> None:
    """A constant vector (silent layer, constant ANN) has nan, left out of mean/min/max."""
    r = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [3.0, 2.0, 1.0]])
    a = np.array([[1.0, 2.0, 4.0], [1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    c = correlation(r, a)
    assert np.isnan(c.values[1])
    assert c.defined == 2
    expected = np.corrcoef(r[0], a[0])[0, 1]
    assert c.mean == pytest.approx((expected - 1.0) / 2)
    assert c.max == pytest.approx(expected)
    assert c.min == pytest.approx(-1.0)
    # the ANN side constant as well
    assert np.isnan(correlation(a, np.ones_like(a)).values).all()


def test_correlation_errors() -> None:
    """Shape mismatch and an unknown axis are refused."""
    with pytest.raises(ValueError, match="shapes differ"):
        correlation(np.zeros((2, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="axis must be 'neurons' or 'samples'"):
        correlation(np.zeros((2, 3)), np.zeros((2, 3)), axis="layers")  # type: ignore[arg-type]


def test_rate_error_fields() -> None:
    """rate_error reports |f - N/T| stats, the 1/T bound and the fraction within it."""
    counts = np.array([[10, 0], [4, 7]])
    rates = np.array([[10.5, 0.0], [6.0, 7.0]])  # T = 1 s -> errors 0.5, 0, 2, 0
    e = rate_error(counts, rates, duration=1.0)
    assert e["mean"] == pytest.approx(0.625)
    assert e["max"] == pytest.approx(2.0)
    assert e["bound"] == pytest.approx(1.0)
    assert e["relative_mean"] == pytest.approx(0.625 / np.mean(rates))
    assert e["within_bound"] == pytest.approx(0.75)
    silent = rate_error(np.zeros(3), np.zeros(3), duration=0.5)
    assert silent["bound"] == 2.0 and np.isnan(silent["relative_mean"])


def test_spikes_per_neuron() -> None:
    """Mean spikes per neuron and sample of each counted layer."""
    r = Result(
        counts={"a": np.array([[1, 3], [0, 0]]), "b": np.array([[6], [2]])},
        output="b",
        steps=10,
        dt=0.1,
    )
    assert spikes_per_neuron(r) == {"a": 1.0, "b": 4.0}


def test_synaptic_operations_hand_counted_dense() -> None:
    """Two dense layers: every spike costs its number of (non-zero) outgoing synapses."""
    # layer 1: 3 neurons <- 2 inputs; input 0 reaches 3 neurons, input 1 reaches 2 (a zero weight)
    w1 = np.array([[1.0, 0.5], [1.0, 0.0], [1.0, 2.0]])
    # layer 2: 2 neurons <- 3; hidden 0 reaches 2, hidden 1 reaches 1, hidden 2 reaches 2
    w2 = np.array([[1.0, 0.0, 1.0], [1.0, 3.0, 1.0]])
    net = Network(input_shape=(2,), layers=(Dense(weight=w1), Dense(weight=w2)))
    hidden = np.array([[1, 2, 0], [0, 0, 0]])
    result = Result(
        counts={"dense0": hidden, "dense1": np.zeros((2, 2), int)}, output="dense1", steps=5, dt=1
    )
    inputs = np.array([[4, 1], [0, 5]])
    ops = synaptic_operations(net, result, inputs)
    # sample 0: 4·3 + 1·2 + 1·2 + 2·1 = 18; sample 1: 5·2 = 10
    np.testing.assert_array_equal(ops, [18.0, 10.0])


def _brute_force_ops(net: Network, counts: dict[str, np.ndarray], inputs: np.ndarray) -> np.ndarray:
    """Σ over populations of source spikes x non-zero entries in their column (dense matrices)."""
    total = np.zeros(len(inputs))
    for pop in net.populations:
        src = inputs if pop.source < 0 else counts[net.populations[pop.source].name]
        src = np.asarray(src, dtype=np.float64)
        shape = pop.source_shape
        for gate in pop.gates:  # every source spike is counted once per window holding it
            win = pool_windows(gate, shape)
            gated = np.zeros((len(src), win.shape[0]))
            for u in range(win.shape[0]):
                for i in win[u]:
                    gated[:, u] += src[:, i]
            src, shape = gated, gate.output_shape(shape)
        dense = population_matrix(pop.layer, pop.linear_stages, shape).toarray()
        for j in range(dense.shape[1]):
            total += src[:, j] * np.count_nonzero(dense[:, j])
    return total


@pytest.mark.parametrize("architecture", ["conv_avg", "conv_max", "mixed"])
def test_synaptic_operations_conv_brute_force(architecture: str) -> None:
    """On conv networks the count equals a brute-force count over the dense matrices."""
    net = random_network(3, architecture)
    rng = np.random.default_rng(1)
    counts = {p.name: rng.integers(0, 4, (3, p.size)) for p in net.populations}
    inputs = rng.integers(0, 5, (3, net.n_inputs))
    result = Result(counts=counts, output=net.output.name, steps=10, dt=0.01)
    np.testing.assert_allclose(
        synaptic_operations(net, result, inputs), _brute_force_ops(net, counts, inputs), rtol=1e-12
    )


def test_synaptic_operations_small_conv_by_hand() -> None:
    """1x3x3 input, 3x3 kernel, padding 1: the centre pixel reaches 9 outputs, a corner 4."""
    net = Network(
        input_shape=(1, 3, 3),
        layers=(
            Conv2d(weight=np.ones((1, 1, 3, 3)), padding=1),
            MaxPool2d(kernel_size=3),
            Flatten(),
            Dense(weight=np.ones((2, 1))),
        ),
    )
    inputs = np.zeros((1, 9))
    inputs[0, 4] = 2  # centre: 2 spikes x 9 synapses
    inputs[0, 0] = 1  # corner: 1 spike x 4 synapses
    conv = np.zeros((1, 9), int)
    conv[0, [0, 8]] = 3  # 6 spikes, each passes one (upper bound) window, 2 synapses after it
    result = Result(
        counts={"conv0": conv, "dense3": np.zeros((1, 2), int)}, output="dense3", steps=1, dt=1
    )
    assert synaptic_operations(net, result, inputs).tolist() == [2 * 9 + 4 + 6 * 2]


def test_potential_scores_from_counts_and_final_potential() -> None:
    """S = N + (v_T - v_rest) / V_th per neuron, from the last step of the output trace."""
    net = Network(
        input_shape=(3,),
        layers=(
            Dense(
                name="out",
                weight=np.ones((2, 3)),
                neurons=Neurons(v_th=np.array([1.0, 2.0]), v_rest=np.array([0.5, 0.0])),
            ),
        ),
    )
    trace = np.zeros((1, 4, 2))
    trace[0, -1] = [0.75, -1.0]
    result = Result(
        counts={"out": np.array([[3, 2]])}, output="out", steps=4, dt=0.1, traces={"out": trace}
    )
    np.testing.assert_allclose(potential_scores(net, result), [[3.25, 1.5]])
    with pytest.raises(LifBridgeError, match="Readout\\(traces=\\('out',\\)\\)"):
        potential_scores(
            net, Result(counts={"out": np.array([[3, 2]])}, output="out", steps=4, dt=0.1)
        )
