"""lif-bridge convert: the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lif_bridge as lb
from lif_bridge.cli import main

pytestmark = pytest.mark.torch

WEIGHTS = Path(lb.__file__).parent / "zoo" / "digits_mlp.npz"


def _calibration(tmp_path: Path) -> Path:
    path = tmp_path / "calib.npz"
    np.savez(path, x=np.random.default_rng(0).random((40, 1, 8, 8)))
    return path


def test_convert_json_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    code = main(
        [
            "convert", "lif_bridge.zoo:digits_mlp", "--weights", str(WEIGHTS),
            "--input-shape", "1", "8", "8", "-o", str(out), "--normalize", "percentile",
            "--percentile", "99", "--calibrate-on", str(_calibration(tmp_path)),
            "--calibration-samples", "30", "--max-rate", "50", "--g-l", "0.5",
            "--reset", "zero", "--json",
        ]
    )  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["neurons"] == 74
    assert summary["synapses"] == 64 * 64 + 64 * 10
    assert summary["calibration_samples"] == 30
    assert set(summary["normalization_factors"]) == {"fc1", "fc2"}
    net = lb.load_network(out)
    assert net.max_rate == 50.0
    assert net.layers[1].neurons.reset == "zero"
    assert float(net.layers[1].neurons.g_l) == 0.5
    assert net.metadata["conversion"]["percentile"] == 99.0


def test_convert_text_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "net.npz"
    args = ["convert", "lif_bridge.zoo:digits_mlp", "--weights", str(WEIGHTS)]
    assert main([*args, "--input-shape", "1", "8", "8", "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    code = main([*args, "--input-shape", "1", "8", "8", "-o", str(out), "--normalize", "max"])
    assert code == 2
    assert "needs a calibration set: add --calibrate-on" in capsys.readouterr().err
    code = main([*args, "--input-shape", "1", "9", "9", "-o", str(out)])
    assert code == 2
    assert "does not run on inputs of shape (N, 1, 9, 9)" in capsys.readouterr().err


def test_convert_v_rest_sets_the_initial_potential(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "net.npz"
    args = ["convert", "lif_bridge.zoo:digits_mlp", "--weights", str(WEIGHTS)]
    args += ["--input-shape", "1", "8", "8", "-o", str(out)]
    assert main([*args, "--v-rest", "0.5"]) == 0
    net = lb.load_network(out)
    assert [float(p.neurons.v_rest) for p in net.populations] == [0.5, 0.5]
    assert [float(p.neurons.g_l) for p in net.populations] == [0.0, 0.0]
    capsys.readouterr()
    for extra in (["--g-l", "0.5"], ["--bias-mode", "leak"]):
        assert main([*args, "--v-rest", "0.5", *extra]) == 2
        assert "--v-rest is the initial potential of neurons without a leak" in (
            capsys.readouterr().err
        )


def test_installed_script(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "lif-bridge"
    assert exe.exists(), "the lif-bridge console script is not installed (pip install -e .)"
    out = tmp_path / "net.npz"
    proc = subprocess.run(
        [str(exe), "convert", "lif_bridge.zoo:digits_mlp", "--weights", str(WEIGHTS),
         "--input-shape", "1", "8", "8", "-o", str(out), "--json"],
        capture_output=True, text=True, timeout=120, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["output"] == str(out)
    assert out.is_file()
