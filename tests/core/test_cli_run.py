"""Tests of ``lif-bridge run``: JSON output, saved counts, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge import (
    Dense,
    Flatten,
    Network,
    Neurons,
    accuracy,
    agreement,
    ann_forward,
    load_network,
    save_network,
)
from lif_bridge.cli import main
from lif_bridge.data import load_digits


@pytest.fixture(scope="module")
def digits_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small ReLU MLP on 8x8 digits: random hidden features, least-squares readout."""
    train = load_digits("train", limit=400)
    x = train.x.reshape(len(train.x), -1).astype(np.float64)
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.4, (32, 64))
    hidden = np.maximum(x @ w1.T, 0.0)
    target = np.eye(10)[train.y]
    w2 = np.linalg.lstsq(hidden, target, rcond=None)[0].T
    net = Network(
        input_shape=(1, 8, 8),
        layers=(
            Flatten(),
            Dense(name="hidden", weight=w1, neurons=Neurons(v_th=1.0)),
            Dense(name="out", weight=w2, neurons=Neurons(v_th=1.0), ann_activation="identity"),
        ),
        max_rate=100.0,
    )
    return save_network(tmp_path_factory.mktemp("cli") / "digits.npz", net)


def test_run_json_and_saved_counts(
    digits_net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """run --json prints the documented keys; --save writes counts and ANN outputs that match."""
    out = tmp_path / "res" / "run.npz"
    args = ["run", str(digits_net), "--data", "digits", "--steps", "50", "--json"]
    code = main([*args, "--limit", "20", "--save", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    payload = json.loads(captured.out)
    keys = {"ann_accuracy", "snn_accuracy", "agreement", "samples", "steps", "backend", "seconds"}
    assert keys <= set(payload)
    assert payload["samples"] == 20 and payload["steps"] == 50
    assert payload["backend"] == "reference"
    assert payload["seconds"] >= 0
    assert payload["saved"] == str(out)

    with np.load(out) as saved:
        counts, ann = saved["counts"], saved["ann"]
    assert counts.shape == (20, 10) and ann.shape == (20, 10)
    assert (counts >= 0).all() and (counts <= 50).all()
    test = load_digits("test", limit=20)
    # the saved arrays are the ones the printed figures were computed from
    assert payload["snn_accuracy"] == pytest.approx(accuracy(counts, test.y))
    assert payload["ann_accuracy"] == pytest.approx(accuracy(ann, test.y))
    assert payload["agreement"] == pytest.approx(agreement(counts, ann).fraction)
    # the ANN outputs are the network's ANN view in trained units at the run's rate
    want = ann_forward(load_network(digits_net), test.x, max_rate=100.0, units="ann")
    np.testing.assert_allclose(ann, want, rtol=1e-12)
    assert payload["ann_accuracy"] > 0.5  # the least-squares readout works on digits


def test_run_text_output(digits_net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json a short human summary is printed."""
    code = main(["run", str(digits_net), "--steps", "20", "--limit", "5", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("reference: 5 samples x 20 steps")
    assert "agreement" in out and "ANN accuracy" in out


def _assert_one_line_error(capsys: pytest.CaptureFixture[str], *patterns: str) -> str:
    """stderr is exactly one 'lif-bridge: error:' line with the patterns and no traceback."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("lif-bridge: error: ")
    assert "Traceback" not in captured.err + captured.out
    for pattern in patterns:
        assert pattern in lines[0]
    return lines[0]


def test_missing_network_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing NET file: exit 2, one line naming the file."""
    code = main(["run", str(tmp_path / "absent.npz"), "--steps", "5", "--limit", "2"])
    assert code == 2
    _assert_one_line_error(capsys, "absent.npz", "no such network file")


def test_corrupt_network_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A corrupt NET file: exit 2, one line."""
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip archive at all" * 10)
    code = main(["run", str(bad), "--steps", "5", "--limit", "2"])
    assert code == 2
    _assert_one_line_error(capsys, "bad.npz", "corrupt or truncated")


def test_unknown_backend(digits_net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown backend: exit 2, one line listing the registered backends."""
    code = main(["run", str(digits_net), "--backend", "nope", "--steps", "5", "--limit", "2"])
    assert code == 2
    _assert_one_line_error(capsys, "'nope' is not registered", "reference")


def test_unknown_data_set(digits_net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown data set name: exit 2, one line."""
    code = main(["run", str(digits_net), "--data", "no_such_set", "--steps", "5"])
    assert code == 2
    _assert_one_line_error(capsys, "no_such_set")


def test_invalid_simulation_settings(digits_net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--max-rate above 1/dt with a spike encoder: exit 2, one line (a ValidationError)."""
    code = main(["run", str(digits_net), "--max-rate", "1000", "--steps", "5", "--limit", "2"])
    assert code == 2
    _assert_one_line_error(capsys, "exceeds 1/dt")


@pytest.mark.parametrize("option", [["--precision", "float"], ["--device", "cython"]])
def test_option_of_another_backend(
    digits_net: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """A backend option the reference backend does not take: exit 2, one line, no traceback."""
    code = main(["run", str(digits_net), *option, "--steps", "5", "--limit", "2"])
    assert code == 2
    _assert_one_line_error(capsys, "reference")


@pytest.mark.parametrize("option", [["--steps", "0"], ["--dt", "0"]])
def test_zero_steps_or_dt_refused(
    digits_net: Path, capsys: pytest.CaptureFixture[str], option: list[str]
) -> None:
    """--steps 0 / --dt 0 are invalid settings, not 'use the default': exit 2, one line."""
    code = main(["run", str(digits_net), *option, "--limit", "2", "--no-progress", "--json"])
    assert code == 2
    _assert_one_line_error(capsys, "must be")


def test_run_potential_readout(
    digits_net: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--readout potential reports the count agreement unchanged and, beside it, the agreement
    of count + (v_T - v_rest)/V_th, the saved scores being the ones it was computed from."""
    out = tmp_path / "pot.npz"
    args = ["run", str(digits_net), "--steps", "30", "--limit", "20", "--json"]
    assert main([*args, "--save", str(tmp_path / "count.npz")]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "potential_agreement" not in plain
    assert main([*args, "--readout", "potential", "--save", str(out)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["agreement"] == plain["agreement"]  # the count figure is not replaced
    with np.load(out) as saved:
        counts, ann, scores = saved["counts"], saved["ann"], saved["potential"]
    assert payload["potential_agreement"] == pytest.approx(agreement(scores, ann).fraction)
    assert scores.shape == counts.shape and np.isfinite(scores).all()
    # negative input after the spikes shows as scores below the counts
    assert (scores < counts).any()


def test_run_potential_readout_text(digits_net: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The text summary names the potential readout on its own line."""
    code = main(["run", str(digits_net), "--steps", "20", "--limit", "5", "--readout", "potential"])
    out = capsys.readouterr().out
    assert code == 0
    assert "potential readout (count + (v_T - v_rest)/V_th): agreement" in out
