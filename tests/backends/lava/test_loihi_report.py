"""The Loihi 2 fit report and the fixed-point formats: pure NumPy, no Lava needed."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from lif_bridge_lava import LoihiLimits, loihi_report
from lif_bridge_lava.lowering import population_jumps
from lif_bridge_lava.quantize import (
    V_MAX,
    WEIGHT_MANT_MAX,
    fixed_input,
    fixed_leak,
    quantize_jumps,
)

from lif_bridge.network import Dense, Network, Neurons, Poisson, Simulation
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network


def test_import_does_not_import_lava() -> None:
    code = (
        "import sys, lif_bridge_lava, lif_bridge_lava.loihi, lif_bridge_lava.fixedsim;"
        "print(any(m == 'lava' or m.startswith('lava.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_quantisation_formats(architecture: str) -> None:
    net = random_network(1, architecture, per_neuron=True)
    for pop, (_, jumps) in zip(net.populations, population_jumps(net), strict=True):
        params = pop.layer.neurons.broadcast(pop.size)
        q = quantize_jumps(jumps, params, 0.01)
        assert np.abs(q.weight_mant.data).max() <= WEIGHT_MANT_MAX
        assert q.weights_clipped == 0
        assert q.weight_rel_error < 0.03  # 8-bit mantissa: a few per mille to ~1 % RMS error
        jump = jumps.toarray()
        np.testing.assert_allclose(
            q.weight_mant.toarray() * 2.0**q.weight_exp, jump, atol=2.0 ** (q.weight_exp - 1)
        )
        assert np.all(np.abs(q.vth * q.q_v - params["v_th"]) <= 2.0**q.weight_exp)
        assert np.all((q.dv >= 0) & (q.dv <= 4096))
        assert np.all(np.abs(q.bias_mant) < 2**12)


def test_report_text_and_dict() -> None:
    net = random_network(0, "mixed")
    x = random_inputs(net, 2)
    report = loihi_report(net, x, Simulation(steps=30, encoder=Poisson(seed=1)))
    d = report.to_dict()
    json.dumps(d)
    assert d["fits"] is True and report.fits
    assert [ly["name"] for ly in d["layers"]] == [p.name for p in net.populations]
    for layer, pop in zip(report.layers, net.populations, strict=True):
        assert layer.neurons == pop.size
        assert layer.synapses > 0 and layer.fan_in > 0
        assert layer.saturated_high == 0
        assert 0 <= layer.v_range_fraction <= 1
    text = report.to_text()
    assert "fits on Loihi 2: yes" in text
    assert "calibration: 2 samples" in text


def test_report_without_calibration() -> None:
    report = loihi_report(random_network(0, "dense"))
    assert report.calibration_samples == 0
    assert report.layers[0].saturated_high is None
    assert "calibration: none" in report.to_text()


def test_report_flags_too_small_chip() -> None:
    net = random_network(0, "conv_avg")
    report = loihi_report(net, limits=LoihiLimits(neurons_per_core=10, cores_per_chip=4))
    assert not report.fits
    assert any("cores" in p for p in report.problems)


def test_report_flags_saturation() -> None:
    # A strong positive drive on an IF neuron with a huge threshold range: v climbs to the rail.
    w = np.full((2, 3), 50.0)
    w[1] = 0.01
    net = Network(
        input_shape=(3,),
        layers=(Dense(weight=w, neurons=Neurons(v_th=np.array([1e9, 1.0]))),),
    )
    report = loihi_report(net, np.ones((1, 3)), Simulation(steps=50))
    layer = report.layers[0]
    assert layer.vth_clipped or layer.saturated_high
    assert not report.fits


def test_fixed_voltage_saturates_at_24_bits() -> None:
    # v is a signed 24-bit register: the largest value kept is 2**23 - 1, one more is clipped.
    top = 2**23 - 1
    v, high, low = fixed_input(
        np.array([top - 64, top - 63, -top + 64, -top]), np.array([1, 1, -1, -1])
    )
    np.testing.assert_array_equal(v, [top, top, -top, -top])
    assert (high, low) == (1, 1)
    v, high, low = fixed_leak(np.array([top, -top, 5]), np.zeros(3, np.int64), np.array([1, -1, 0]))
    np.testing.assert_array_equal(v, [top, -top, 5])
    assert (high, low) == (1, 1)
    assert top == V_MAX  # the bound the fit report divides by


def test_synapse_counts_agree_with_convert_and_name_the_folded_pool() -> None:
    from lif_bridge.connectivity import synapse_count

    net = random_network(0, "conv_avg")
    report = loihi_report(net)
    folded = 0
    lowered = population_jumps(net)
    for layer, pop, (_, matrix) in zip(report.layers, net.populations, lowered, strict=True):
        assert layer.synapses == synapse_count(pop.layer, pop.input_shape)  # convert's count
        assert layer.stored_synapses == matrix.nnz
        assert layer.input_axons == int(np.count_nonzero(matrix.getnnz(axis=0)))
        if layer.stored_synapses != layer.synapses:
            folded += 1
            assert any("average pool" in n for n in layer.notes)
    assert folded, "conv_avg folds an average pool into a layer"
    assert "stored" in report.to_text() and "average pool" in report.to_text()


@pytest.mark.parametrize("graph", ["projection_skip2", "concat3_max"])
def test_graph_report_counts_every_projection(graph: str) -> None:
    """Synapses, axons and weight error per projection; axons per core counted brute force."""
    import math

    from lif_bridge_lava.lowering import lowered_edges

    from lif_bridge.connectivity import synapse_count
    from lif_bridge.testing import random_graph

    net = random_graph(2, graph)
    limits = LoihiLimits(neurons_per_core=20)  # several cores per population
    report = loihi_report(net, limits=limits)
    edges = lowered_edges(net)
    reach: list[list[set[int]]] = [[set() for _ in range(p.size)] for p in net.populations]
    for pop, layer, es in zip(net.populations, report.layers, edges, strict=True):
        assert len(layer.projections) == len(pop.projections) == len(es)
        for proj, row, edge in zip(pop.projections, layer.projections, es, strict=True):
            assert row["source"] == proj.source_name
            assert row["synapses"] == synapse_count(proj.map, proj.input_shape)  # convert's
            assert row["stored_synapses"] == edge.jumps.nnz
        assert layer.synapses == sum(r["synapses"] for r in layer.projections)
        assert layer.input_axons == sum(r["input_axons"] for r in layer.projections)
        # the blocks' errors make up the layer's (sum of squares)
        norms = [float(np.sum(e.jumps.data**2)) for e in es]
        sq = sum(
            r["weight_rel_error"] ** 2 * n for r, n in zip(layer.projections, norms, strict=True)
        )
        assert math.isclose(sq, layer.weight_rel_error**2 * sum(norms), rel_tol=1e-9)
        # brute force: which target core does each source neuron reach, one neuron at a time
        per_core = math.ceil(layer.neurons / layer.cores)
        dense = [e.jumps.toarray() != 0 for e in es]
        cols = np.concatenate([d.any(axis=0) for d in dense]) if dense else np.zeros(0)
        assert layer.input_axons == int(cols.sum())
        rows_in = [np.concatenate([d[c * per_core : (c + 1) * per_core].any(axis=0) for d in dense])
                   for c in range(layer.cores)]  # fmt: skip
        assert layer.core_input_axons == max(int(r.sum()) for r in rows_in)
        for edge, d in zip(es, dense, strict=True):
            if edge.source < 0:
                continue
            for j in range(edge.n_source):
                units = np.zeros(edge.n_source, bool)
                units[j] = True
                for w in edge.windows:
                    units = units[w].any(axis=1)
                hit = np.flatnonzero(d[:, units].any(axis=1)) // per_core
                reach[edge.source][j] |= {(layer.name, int(c)) for c in hit}
    for layer, sets in zip(report.layers, reach, strict=True):
        per_core = math.ceil(layer.neurons / layer.cores)
        want = max(sum(len(s) for s in sets[c * per_core : (c + 1) * per_core])
                   for c in range(layer.cores))  # fmt: skip
        assert layer.core_output_axons == want, layer.name
    assert report.layers[-1].core_output_axons == 0  # nothing leaves the output population
    assert "weight error" in report.to_text()


def _two_inputs(scale: float) -> Network:
    """A population fed by the input (Dense) and by a hidden layer scaled by ``scale``."""
    from lif_bridge.network import INPUT, Node, Projection

    rng = np.random.default_rng(3)
    hidden = Node(name="h", neurons=Neurons(), projections=(
        Projection(source=INPUT, map=Dense(weight=rng.normal(0.2, 0.5, (5, 4)))),))  # fmt: skip
    out = Node(name="out", neurons=Neurons(), projections=(
        Projection(source=INPUT, map=Dense(weight=rng.normal(0.2, 0.5, (3, 4)))),
        Projection(source="h", map=Dense(weight=scale * rng.normal(0.2, 0.5, (3, 5)))),
    ))  # fmt: skip
    return Network(input_shape=(4,), nodes=(hidden, out))


@pytest.mark.parametrize(("scale", "spread"), [(2.0**-3, 3), (2.0**-10, 7)])
def test_each_projection_has_its_own_weight_exponent(scale: float, spread: int) -> None:
    """A small projection keeps its 8-bit mantissa (its own exponent, up to 7 steps finer);
    the membrane sums both exactly in the finest unit (shift = Lava's weight_exp)."""
    from lif_bridge_lava.lowering import lowered_edges, quantize_edges

    net = _two_inputs(scale)
    pop, es = net.populations[1], lowered_edges(net)[1]
    q = quantize_edges(es, pop.neurons.broadcast(pop.size), 0.01)
    big, small = q.block_exps
    assert big - small == spread and q.weight_exp == small and q.shifts == (spread, 0)
    assert q.q_v == 2.0 ** (small - 7)
    blocks = q.stored_blocks()
    assert all(np.abs(b.data).max() <= 2 * WEIGHT_MANT_MAX for b in blocks)
    want = np.hstack([blocks[0].toarray() << spread, blocks[1].toarray()])
    np.testing.assert_array_equal(q.stored_weights.toarray(), want)
    jumps = [e.jumps.toarray() for e in es]
    for j, b, k in zip(jumps, blocks, q.block_exps, strict=True):
        np.testing.assert_allclose(b.toarray() / 2 * 2.0**k, j, atol=2.0 ** (k - 1))
    report = loihi_report(net)
    rows = report.layers[1].projections
    assert [r["weight_exp"] for r in rows] == [big, small]
    assert rows[1]["weight_rel_error"] < (0.03 if spread < 7 else 1.0)
    if spread < 7:  # a shared exponent would have cost the small projection 3 bits
        assert np.abs(blocks[1].data).max() >= WEIGHT_MANT_MAX  # its mantissas use the range


def test_projection_that_rounds_to_zero_is_refused_by_name() -> None:
    from lif_bridge_lava.lowering import lowered_edges, quantize_edges, refuse_vanished

    from lif_bridge import ValidationError

    net = _two_inputs(2.0**-20)
    pop, es = net.populations[1], lowered_edges(net)[1]
    q = quantize_edges(es, pop.neurons.broadcast(pop.size), 0.01)
    assert q.vanished == (1,)
    with pytest.raises(ValidationError, match=r"projection 'h' -> 'out' rounds to zero"):
        refuse_vanished("out", q, es)
    report = loihi_report(net)
    assert not report.fits
    assert "out: every weight of its projection from 'h' rounds to zero" in report.problems
