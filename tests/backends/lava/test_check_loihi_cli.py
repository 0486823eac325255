"""``lif-bridge check-loihi``: report, JSON, exit status (no Lava needed)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import main
from lif_bridge.network.io import save_network
from lif_bridge.testing import random_inputs, random_network


def _run(argv: list[str]) -> int:
    """``lif-bridge ARGV``: check-loihi is the command the Lava backend contributes."""
    return main(argv)


def test_check_loihi_text_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = random_network(0, "conv_avg")
    path = save_network(tmp_path / "net.npz", net)
    np.savez(tmp_path / "calib.npz", x=random_inputs(net, 3))
    assert _run(["check-loihi", str(path)]) == 0
    assert "fits on Loihi 2: yes" in capsys.readouterr().out
    status = _run(
        [
            "check-loihi",
            str(path),
            "--json",
            "--calibrate-on",
            str(tmp_path / "calib.npz"),
            "--calibration-samples",
            "2",
            "--steps",
            "20",
        ]
    )
    doc = json.loads(capsys.readouterr().out)
    assert status == 0 and doc["fits"] is True
    assert doc["calibration"] == {"samples": 2, "steps": 20}
    assert len(doc["layers"]) == len(net.populations)


def test_check_loihi_exit_1_when_it_does_not_fit(tmp_path: Path) -> None:
    from lif_bridge.network import Dense, Network, Neurons

    net = Network(
        input_shape=(3,),
        layers=(Dense(weight=np.ones((2, 3)), neurons=Neurons(v_th=np.array([1e9, 1.0]))),),
    )
    path = save_network(tmp_path / "bad.npz", net)
    assert _run(["check-loihi", str(path)]) == 1
