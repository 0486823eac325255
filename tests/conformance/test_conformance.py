"""One conformance suite for every backend: spike counts identical to the reference backend.

Each backend variant is a parameter with the marker of the framework it needs; an environment
without that framework deselects it with ``-m`` (see the README's test command), nothing is
skipped. Networks come from :mod:`lif_bridge.testing` (dense, conv + avg pool, conv + spiking max
pool, mixed; both reset modes; leak and bias current; per-layer and per-neuron parameters).

Three tiers:

* the whole matrix (architecture × reset × encoder × seed, 32 cases) on the paths that build in
  a second: the batched reference (its default, compiled path), the reference's NumPy step path
  (``compiled=False``) and Brian2 runtime with NumPy code generation;
* Brian2 runtime with Cython code generation on the ``dense`` architecture over an orthogonal
  array of reset × encoder × seed (:data:`CYTHON_COVERING`; per-neuron parameters and
  refractoriness with odd seeds): the Cython code differs from the NumPy code only in its
  target, and every code object is one Cython compilation (the ``mixed`` net's ~30 took 6
  minutes of a loaded 2-core CI), so the layer kinds' code is checked by the NumPy matrix and
  the compiled tier, and the target by the two-population net;
* the compiled targets (Brian2 ``cpp_standalone``, Lava) on a covering subset, one program per
  architecture: the four cases of :data:`COVERING` form an orthogonal array, so every value of
  reset, encoder and seed (per-layer vs per-neuron parameters with refractoriness) is met, and
  every pair of values of two of them. cpp_standalone runs with two OpenMP threads (the serial
  build is covered in ``tests/backends/brian2``). Each program is built once and runs several input
  batches (different samples, a later ``start_index`` for new Poisson trains); a standalone
  project is compiled once and re-executed with new input tables.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lif_bridge.backend import Result, get_backend
from lif_bridge.network import Network, Poisson, Readout, RegularRate, Simulation
from lif_bridge.testing import ARCHITECTURES, random_inputs, random_network

FULL_MATRIX = [
    pytest.param("reference", {"batch_size": 2}, id="reference-batched"),
    pytest.param("reference", {"compiled": False}, id="reference-numpy"),
    pytest.param("brian2", {"device": "runtime"}, marks=pytest.mark.brian2, id="brian2-numpy"),
]

COMPILED = [
    pytest.param(
        "brian2",
        {"device": "cpp_standalone", "samples_per_run": 3, "threads": 2},
        marks=[pytest.mark.brian2, pytest.mark.slow],
        id="brian2-cpp_standalone-openmp2",
    ),
    pytest.param("lava", {"precision": "float"}, marks=pytest.mark.lava, id="lava-float"),
]

#: (architecture, reset, encoder, seed): an orthogonal array L4(2^3) over one architecture each.
COVERING = [
    ("dense", "subtract", "regular", 0),
    ("conv_avg", "subtract", "poisson", 1),
    ("conv_max", "zero", "regular", 1),
    ("mixed", "zero", "poisson", 0),
]

#: (reset, encoder, seed) for Cython on ``dense``: every pair of values of two of them.
CYTHON_COVERING = [
    ("subtract", "regular", 0),
    ("subtract", "poisson", 1),
    ("zero", "regular", 1),
    ("zero", "poisson", 0),
]

ENCODERS = {"regular": RegularRate(), "poisson": Poisson(seed=7)}


def _case(architecture: str, reset: str, encoder: str, seed: int) -> tuple[Network, Simulation]:
    network = random_network(
        seed,
        architecture,
        reset=reset,
        per_neuron=bool(seed % 2),
        refractory=0.02 if seed % 2 else 0.0,
    )
    sim = Simulation(steps=60, dt=0.01, encoder=ENCODERS[encoder], readout=Readout(counts="all"))
    return network, sim


def _run(backend: str, options: dict[str, Any], network: Network, sim: Simulation, x: np.ndarray,
         start_index: int = 0) -> Result:  # fmt: skip
    program = get_backend(backend, **options).lower(network, sim)
    try:
        return program.run(x, start_index=start_index)
    finally:
        program.close()


def _assert_identical(got: Result, want: Result) -> None:
    assert set(got.counts) == set(want.counts)
    total = sum(int(c.sum()) for c in want.counts.values())
    assert total > 0, "the test network is silent; it proves nothing"
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)


def test_covering_subset_covers_every_value_pair() -> None:
    assert {case[0] for case in COVERING} == set(ARCHITECTURES)
    for cases in (COVERING, [("dense", *case) for case in CYTHON_COVERING]):
        for i in range(1, 4):
            for j in range(i + 1, 4):
                pairs = {(case[i], case[j]) for case in cases}
                assert len(pairs) == 4, (i, j, pairs)


@pytest.mark.parametrize(("backend", "options"), FULL_MATRIX)
@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize("reset", ["subtract", "zero"])
@pytest.mark.parametrize("encoder", sorted(ENCODERS))
@pytest.mark.parametrize("seed", [0, 1])
def test_counts_identical_to_reference(
    backend: str, options: dict, architecture: str, reset: str, encoder: str, seed: int
) -> None:
    network, sim = _case(architecture, reset, encoder, seed)
    x = random_inputs(network, 3, seed=seed)
    want = _run("reference", {}, network, sim, x)
    _assert_identical(_run(backend, options, network, sim, x), want)


@pytest.mark.brian2
@pytest.mark.parametrize(("reset", "encoder", "seed"), CYTHON_COVERING)
def test_cython_counts_identical_to_reference(reset: str, encoder: str, seed: int) -> None:
    network, sim = _case("dense", reset, encoder, seed)
    x = random_inputs(network, 3, seed=seed)
    want = _run("reference", {}, network, sim, x)
    _assert_identical(_run("brian2", {"device": "cython"}, network, sim, x), want)


@pytest.mark.parametrize(("backend", "options"), COMPILED)
@pytest.mark.parametrize(("architecture", "reset", "encoder", "seed"), COVERING)
def test_compiled_counts_identical_to_reference_one_build_many_inputs(
    backend: str, options: dict, architecture: str, reset: str, encoder: str, seed: int
) -> None:
    network, sim = _case(architecture, reset, encoder, seed)
    reference = get_backend("reference")
    program = get_backend(backend, **options).lower(network, sim)
    projects = set()
    try:
        # 3 samples, then 4 others from sample index 3 on (standalone: a full and a padded batch)
        for x, start in ((random_inputs(network, 3, seed=seed), 0),
                         (random_inputs(network, 4, seed=seed + 10), 3)):  # fmt: skip
            got = program.run(x, start_index=start)
            projects.add(got.info.get("project"))
            ref = reference.lower(network, sim)
            try:
                want = ref.run(x, start_index=start)
            finally:
                ref.close()
            _assert_identical(got, want)
    finally:
        program.close()
    assert len(projects) == 1, f"one build for all inputs, got {projects}"
