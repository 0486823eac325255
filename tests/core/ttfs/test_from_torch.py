"""from_torch(..., coding="ttfs") and ``lif-bridge convert --coding ttfs`` on torch models."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import lif_bridge as lb
from lif_bridge.cli import main
from lif_bridge.ttfs import simulate_ttfs

pytestmark = pytest.mark.torch


def test_bn_maxpool_avgpool_model_is_exact() -> None:
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1),
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(3, 4, 3),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(4, 5),
    )
    with torch.no_grad():
        bn = model[1]
        bn.running_mean.uniform_(-0.2, 0.2)
        bn.running_var.uniform_(0.5, 1.5)
        bn.weight.uniform_(0.5, 1.5)
    model.eval()
    x = np.random.default_rng(0).random((40, 1, 10, 10))
    net = lb.from_torch(model, input_shape=(1, 10, 10), coding="ttfs", calibration=x)
    with torch.no_grad():
        want = model(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_allclose(simulate_ttfs(net, x).output, want, atol=1e-5)


def test_rate_options_refused_with_ttfs() -> None:
    from lif_bridge.zoo import paper_mlp

    with pytest.raises(lb.ConversionError, match="drop normalize"):
        lb.from_torch(
            paper_mlp(),
            input_shape=(1, 28, 28),
            coding="ttfs",
            normalize="max",
            calibration=np.zeros((2, 1, 28, 28)),
        )
    with pytest.raises(lb.ConversionError, match="calibration data"):
        lb.from_torch(paper_mlp(), input_shape=(1, 28, 28), coding="ttfs")


def test_cli_convert_and_run_digits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    weights = Path(lb.__file__).parent / "zoo" / "digits_mlp.npz"
    out = tmp_path / "d.npz"
    code = main(
        [
            "convert",
            "lif_bridge.zoo:digits_mlp",
            "--weights",
            str(weights),
            "--input-shape",
            "1",
            "8",
            "8",
            "--coding",
            "ttfs",
            "--calibrate-on",
            "digits",
            "-o",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["coding"] == "ttfs" and summary["latency_seconds"] > 0
    assert main(["run", str(out), "--data", "digits", "--json", "--no-progress"]) == 0
    assert json.loads(capsys.readouterr().out)["agreement"] == 1.0


@pytest.mark.parametrize("name", ["mnist_resnet", "mnist_inception"])
def test_graph_models_are_exact_on_the_reference(name: str) -> None:
    """A residual and an inception model: windows by depth, decoded output = the model."""
    import torch

    from lif_bridge.zoo.graph_nets import GRAPH_NETS

    torch.manual_seed(0)
    model = GRAPH_NETS[name]().eval()
    x = np.random.default_rng(1).random((8, 1, 28, 28))
    net = lb.from_torch(model, input_shape=(1, 28, 28), coding="ttfs", calibration=x)
    assert not net.is_chain
    res = simulate_ttfs(net, x)
    with torch.no_grad():
        want = model.double()(torch.from_numpy(x)).numpy()  # the float32 weights, in float64
    np.testing.assert_allclose(res.output, want, rtol=1e-9, atol=1e-10)
    assert res.spikes_per_neuron()["max"] <= 1
