"""The two graph acceptance nets (issue 8) on Brian2: counts identical to the reference's.

The nets of :mod:`lif_bridge.zoo.graph_nets` (a ResNet with an identity and a strided 1×1
projection shortcut, and an Inception-style concatenation) are built untrained, with seeded
random weights and batch-norm statistics, and converted by ``from_torch`` as the acceptance
converts the trained ones (bias as current, percentile normalisation). Both are put side by
side into one network (their populations renamed, the input shared), so one Brian2 build covers
both: the NumPy runtime and one ``cpp_standalone`` compilation (marked slow: its compilation
alone costs minutes of CPU). The window is short but every population spikes (asserted), so
every projection kind (Conv2d, Identity, strided 1×1, concatenation, average pooling into a
Dense) is exercised. The trained nets at T = 300 were run by hand (README).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lif_bridge.backend import get_backend
from lif_bridge.network import Network, Readout, Simulation

pytestmark = [pytest.mark.torch, pytest.mark.brian2]

STEPS = 24
SAMPLES = 2


def _converted(name: str) -> Network:
    import torch

    import lif_bridge as lb
    from lif_bridge.zoo.graph_nets import GRAPH_NETS

    torch.manual_seed(0)
    model = GRAPH_NETS[name]()
    gen = torch.Generator().manual_seed(3)
    for mod in model.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=gen) * 0.2 - 0.1)
            mod.running_var.copy_(torch.rand(n, generator=gen) * 0.5 + 0.5)
            mod.bias.data.copy_(torch.rand(n, generator=gen) * 0.2)
    calib = np.random.default_rng(0).random((16, 1, 28, 28))
    return lb.from_torch(
        model.eval(),
        input_shape=(1, 28, 28),
        bias_mode="current",
        normalize="percentile",
        calibration=calib,
    )


def _side_by_side(nets: dict[str, Network]) -> Network:
    """One network holding every net's populations as ``PREFIX/name``, sharing the input."""
    nodes = []
    for prefix, net in nets.items():
        for node in net.nodes:
            projs = tuple(
                dataclasses.replace(
                    p, source=p.source if p.source == "input" else f"{prefix}/{p.source}"
                )
                for p in node.projections
            )
            nodes.append(node.replace(name=f"{prefix}/{node.name}", projections=projs))
    first = next(iter(nets.values()))
    return Network(input_shape=first.input_shape, nodes=tuple(nodes), max_rate=first.max_rate)


@pytest.fixture(scope="module")
def case() -> tuple[Network, np.ndarray, dict[str, np.ndarray]]:
    net = _side_by_side({"res": _converted("mnist_resnet"), "inc": _converted("mnist_inception")})
    x = np.random.default_rng(1).random((SAMPLES, 1, 28, 28))
    program = get_backend("reference").lower(net, _simulation())
    want = program.run(x).counts
    return net, x, want


def _simulation() -> Simulation:
    return Simulation(steps=STEPS, dt=0.01, readout=Readout(counts="all"))


def _check(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


def test_every_population_of_both_nets_spikes(case: Any) -> None:
    net, _, want = case
    assert {n.split("/")[0] for n in want} == {"res", "inc"}
    silent = [name for name, c in want.items() if c.sum() == 0]
    assert not silent, f"silent populations prove nothing: {silent}"
    kinds = {type(p.map).__name__ for node in net.nodes for p in node.projections}
    assert kinds == {"Conv2d", "Identity", "Dense"}


def test_runtime_counts_identical_to_reference(case: Any) -> None:
    net, x, want = case
    program = get_backend("brian2", device="runtime").lower(net, _simulation())
    try:
        got = program.run(x).counts
    finally:
        program.close()
    _check(got, want)


@pytest.mark.slow  # one compilation of ~100 code objects: minutes of CPU, over a test's budget
def test_cpp_standalone_counts_identical_to_reference(case: Any, tmp_path: Path) -> None:
    net, x, want = case
    backend = get_backend("brian2", device="cpp_standalone", build_dir=tmp_path)
    program = backend.lower(net, _simulation())
    try:
        got = program.run(x).counts
    finally:
        program.close()
    _check(got, want)
