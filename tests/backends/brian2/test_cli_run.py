"""`lif-bridge run --backend brian2 --device runtime|cython` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import main
from lif_bridge.convert import convert_network
from lif_bridge.data import load_digits
from lif_bridge.network.io import save_network
from lif_bridge.zoo import raw_network

pytestmark = pytest.mark.brian2


def test_cli_run_on_brian2_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The digits net runs on Brian2 (numpy target) from the CLI, counts equal the reference's."""
    cal = load_digits("train", limit=200).x
    net = convert_network(raw_network("digits_mlp"), normalize="percentile", calibration=cal)
    path = save_network(tmp_path / "net.npz", net)
    common = ["run", str(path), "--data", "digits", "--steps", "60", "--limit", "6", "--json"]
    assert main([*common, "--backend", "brian2", "--device", "runtime", "--save",
                 str(tmp_path / "b2.npz")]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["backend"].startswith("brian2")
    assert main([*common, "--save", str(tmp_path / "ref.npz")]) == 0
    capsys.readouterr()
    np.testing.assert_array_equal(
        np.load(tmp_path / "b2.npz")["counts"], np.load(tmp_path / "ref.npz")["counts"]
    )


def test_cli_unknown_device_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A device Brian2 does not have: exit 2 and one line naming the devices."""
    net = convert_network(raw_network("digits_mlp"))
    path = save_network(tmp_path / "net.npz", net)
    code = main(["run", str(path), "--data", "digits", "--limit", "2", "--backend", "brian2",
                 "--device", "gpu9000"])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gpu9000" in err
