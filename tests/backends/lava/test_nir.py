"""A NIR graph of another tool (snnTorch-style, no lif_bridge metadata) on Lava (float): the
reference's counts exactly."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.backend import simulate
from lif_bridge.network import Readout, Simulation
from lif_bridge.testing import random_inputs, snntorch_style_graph

pytestmark = [pytest.mark.lava, pytest.mark.nir]


def test_imported_graph_counts_equal_the_reference() -> None:
    from lif_bridge import from_nir

    net = from_nir(snntorch_style_graph(0))
    sim = Simulation(steps=100, dt=1e-3, readout=Readout(counts="all"))
    x = random_inputs(net, 2, seed=1)
    want = simulate(net, x, sim, "reference")
    got = simulate(net, x, sim, "lava", precision="float")
    assert int(want.counts[want.output].sum()) > 0
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)


def test_snntorch_written_file_counts_equal_the_reference() -> None:
    """``tests/data/snntorch_mlp.nir``, written by snnTorch (tests/core/test_nir_snntorch.py)."""
    from pathlib import Path

    from lif_bridge import from_nir

    data = Path(__file__).resolve().parents[2] / "data"
    net = from_nir(data / "snntorch_mlp.nir", spike_dt=1e-4)
    x = np.load(data / "snntorch_mlp.npz")["x"][:2]
    sim = Simulation(steps=200, dt=1e-4, readout=Readout(counts="all"))
    want = simulate(net, x, sim, "reference")
    got = simulate(net, x, sim, "lava", precision="float")
    assert int(want.counts[want.output].sum()) > 0
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)


@pytest.mark.parametrize(
    ("file", "spike_dt", "dt"),
    # written by Norse's and sinabs' own exporters (tests/core/test_nir_{norse,sinabs}.py)
    [("norse_mlp.nir", 1e-3, 1e-3), ("sinabs_cnn.nir", None, 1.0)],
)
def test_norse_and_sinabs_written_files_count_as_the_reference(
    file: str, spike_dt: float | None, dt: float
) -> None:
    from pathlib import Path

    from lif_bridge import from_nir

    net = from_nir(Path(__file__).resolve().parents[2] / "data" / file, spike_dt=spike_dt)
    sim = Simulation(steps=100, dt=dt, readout=Readout(counts="all"))
    x = random_inputs(net, 2, seed=1)
    want = simulate(net, x, sim, "reference")
    got = simulate(net, x, sim, "lava", precision="float")
    assert int(want.counts[want.output].sum()) > 0
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name], err_msg=name)
