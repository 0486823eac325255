"""`lif-bridge run --backend lava --precision float|fixed` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lif_bridge.cli import main
from lif_bridge.convert import convert_network
from lif_bridge.data import load_digits
from lif_bridge.network.io import save_network
from lif_bridge.zoo import raw_network

pytestmark = pytest.mark.lava


@pytest.mark.parametrize("precision", ["float", "fixed"])
def test_cli_run_on_lava(
    precision: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The digits net runs on Lava from the CLI; float counts equal the reference's."""
    cal = load_digits("train", limit=200).x
    net = convert_network(raw_network("digits_mlp"), normalize="percentile", calibration=cal)
    path = save_network(tmp_path / "net.npz", net)
    common = ["run", str(path), "--data", "digits", "--steps", "60", "--limit", "6", "--json"]
    assert main([*common, "--backend", "lava", "--precision", precision, "--save",
                 str(tmp_path / "lava.npz")]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["backend"].startswith("lava")
    assert out["samples"] == 6
    assert out["agreement"] >= 0.8
    if precision == "float":
        assert main([*common, "--save", str(tmp_path / "ref.npz")]) == 0
        capsys.readouterr()
        import numpy as np

        lava = np.load(tmp_path / "lava.npz")["counts"]
        ref = np.load(tmp_path / "ref.npz")["counts"]
        np.testing.assert_array_equal(lava, ref)
