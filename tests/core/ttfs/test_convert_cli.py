"""TTFS conversion and the CLI: windows from data, clear errors, the figures of a run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge import ConversionError, Dense, Network, load_network, save_network
from lif_bridge.cli import main
from lif_bridge.data import load_digits
from lif_bridge.ttfs import convert_ttfs, simulate_ttfs, ttfs_coding
from lif_bridge.zoo.raw import raw_network


def _raw() -> Network:
    rng = np.random.default_rng(0)
    return Network(
        input_shape=(4,),
        layers=(
            Dense(name="h", weight=rng.normal(0, 1, (3, 4)), ann_bias=np.full(3, 0.1)),
            Dense(name="o", weight=rng.normal(0, 1, (2, 3)), ann_activation="identity"),
        ),
    )


def test_windows_come_from_calibration_with_safety() -> None:
    x = np.random.default_rng(1).random((30, 4))
    net = convert_ttfs(_raw(), calibration=x, safety=2.0, tau_c=1e-3)
    coding = ttfs_coding(net)
    peak = coding.max_activation["h"]
    assert peak > 0
    assert coding.windows["h"] == pytest.approx(2.0 * peak * 1e-3)
    assert coding.input_window == pytest.approx(1e-3)


def test_errors_are_clear() -> None:
    x = np.random.default_rng(1).random((30, 4))
    with pytest.raises(ConversionError, match="calibration"):
        convert_ttfs(_raw(), calibration=None)
    with pytest.raises(ConversionError, match="time budget"):
        convert_ttfs(_raw(), calibration=x, time_budget=1e-4)
    with pytest.raises(ConversionError, match="safety must be >= 1"):
        convert_ttfs(_raw(), calibration=x, safety=0.5)
    bad = Network(
        input_shape=(4,),
        layers=(
            Dense(name="h", weight=np.ones((3, 4)), ann_activation="identity"),
            Dense(name="o", weight=np.ones((2, 3))),
        ),
    )
    with pytest.raises(ConversionError, match="'h' is a hidden layer without ReLU"):
        convert_ttfs(bad, calibration=x)


def test_saved_network_runs_the_same(tmp_path: Path) -> None:
    x = np.random.default_rng(2).random((20, 4))
    net = convert_ttfs(_raw(), calibration=x)
    path = save_network(tmp_path / "t.npz", net)
    again = load_network(path)
    np.testing.assert_array_equal(simulate_ttfs(again, x).output, simulate_ttfs(net, x).output)


@pytest.fixture(scope="module")
def digits_ttfs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cal = load_digits("train", limit=300).x
    net = convert_ttfs(raw_network("digits_mlp"), calibration=cal)
    return save_network(tmp_path_factory.mktemp("ttfs") / "digits.npz", net)


def test_cli_run_reports_spikes_and_latency(
    digits_ttfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(digits_ttfs), "--data", "digits", "--json", "--no-progress"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["coding"] == "ttfs"
    assert out["agreement"] == 1.0
    assert out["snn_accuracy"] == out["ann_accuracy"]
    assert out["max_abs_output_error"] < 1e-9
    assert out["max_spikes_per_neuron"] <= 1
    assert 0 < out["mean_spikes_per_neuron"] < 1
    assert out["latency_seconds"] > 0 and out["latency_steps"] is None
    assert (
        main(
            ["run", str(digits_ttfs), "--data", "digits", "--json", "--dt", "1e-5", "--no-progress"]
        )
        == 0
    )
    grid = json.loads(capsys.readouterr().out)
    assert grid["latency_steps"] == round(grid["latency_seconds"] / 1e-5)
    assert grid["agreement"] >= 0.99


def test_cli_run_refuses_rate_options(
    digits_ttfs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(digits_ttfs), "--data", "digits", "--steps", "100"]) == 2
    err = capsys.readouterr().err
    assert "--steps does not apply to a TTFS network" in err and "Traceback" not in err

    assert main(["run", str(digits_ttfs), "--data", "digits", "--readout", "potential"]) == 2
    err = capsys.readouterr().err
    assert "--readout does not apply to a TTFS network" in err and "Traceback" not in err


def test_cli_convert_ttfs_needs_calibration(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "convert",
            "lif_bridge.zoo:digits_mlp",
            "--factory-weights",
            "--input-shape",
            "1",
            "8",
            "8",
            "--coding",
            "ttfs",
            "-o",
            "never.npz",
        ]
    )
    assert code == 2
    assert "--coding ttfs needs a calibration set" in capsys.readouterr().err


def test_ttfs_backends_are_registered() -> None:
    from lif_bridge.errors import BackendUnavailableError
    from lif_bridge.ttfs import available_ttfs_backends, get_ttfs_backend

    assert {"reference", "brian2", "lava"} <= set(available_ttfs_backends())
    with pytest.raises(BackendUnavailableError, match="no TTFS implementation"):
        get_ttfs_backend("no_such_backend")
