"""FC and CNN acceptance: the paper's networks and settings, on a prefix of the MNIST test set.

The networks are built exactly as :mod:`lif_bridge.experiments.fc` and ``cnn`` build their main
result (normalisation, rates, window; the FC's calibration images too); only fewer test images are
simulated here: 2,000 for FC (the paper's 99.38 % then allows 12 differing labels) and 500 for
the CNN (at most one), whose normalisation is calibrated on 1,000 training images instead of
5,000 (the ConvNet's ANN pass over the calibration set is the slow part). The whole-test-set
figures of the README come from
``lif-bridge reproduce`` at full settings, not from CI; the sweeps of both experiments run in
reduced form in ``test_reproduce.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.analysis import agreement, correlation
from lif_bridge.ann import ann_activations
from lif_bridge.backend import simulate
from lif_bridge.data import load_mnist
from lif_bridge.experiments import cnn, fc
from lif_bridge.network import Network, Readout, RegularRate, Simulation
from lif_bridge.zoo.nets import normalized_factors, paper_network

pytestmark = pytest.mark.slow


def _normalised(name: str, calibration: np.ndarray, **kwargs: float) -> Network:
    """The experiments' normalisation: percentile 99.9 for hidden layers, max for the output."""
    pct = normalized_factors(name, calibration, "percentile", 99.9)
    top = normalized_factors(name, calibration, "max")
    return paper_network(name, factors=[*pct[:-1], top[-1]], **kwargs)  # type: ignore[arg-type]


def test_fc_paper_settings_on_2000_images(mnist_dir: str) -> None:
    calib = load_mnist("train", mnist_dir, limit=10_000).x
    x = load_mnist("test", mnist_dir, limit=2_000).x
    rate = 1.0 / fc.DT
    net = _normalised("paper_mlp", calib, max_rate=rate)
    sim = Simulation(
        steps=fc.STEPS,
        dt=fc.DT,
        encoder=RegularRate(),
        max_rate=rate,
        readout=Readout(counts="all"),
    )
    res = simulate(net, x, sim, "reference")
    ann = ann_activations(net, x, max_rate=rate)
    assert agreement(res.output_counts, ann["fc2"]).fraction >= fc.PAPER["agreement"]
    assert correlation(res.rates("fc1")[:20], ann["fc1"][:20]).mean >= 0.94


def test_cnn_paper_settings_on_500_images(mnist_dir: str) -> None:
    calib = load_mnist("train", mnist_dir, limit=1_000).x
    x = load_mnist("test", mnist_dir, limit=500).x
    net = _normalised("paper_cnn", calib, max_rate=cnn.MAX_RATE, layer_rate=cnn.LAYER_RATE)
    sim = Simulation(
        steps=cnn.STEPS, dt=cnn.DT, encoder=RegularRate(), max_rate=cnn.MAX_RATE,
        readout=Readout(counts="output"),
    )  # fmt: skip
    res = simulate(net, x, sim, "reference")
    ann = ann_activations(net, x, max_rate=cnn.MAX_RATE)
    assert agreement(res.output_counts, ann["fc2"]).fraction >= 0.998
