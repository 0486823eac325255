"""Sweeps: grid parsing, results equal to one process and to Dask, resume, failing points."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lif_bridge import Readout, Simulation, simulate
from lif_bridge.cli import main
from lif_bridge.convert.scale import convert_network
from lif_bridge.data import load_dataset
from lif_bridge.errors import ValidationError
from lif_bridge.network import Poisson
from lif_bridge.study import grid_points, parse_grid, run_sweep
from lif_bridge.zoo import raw_network

KEYS = ("agreement", "ties", "silent", "snn_accuracy", "spikes_per_neuron", "synops")


@pytest.fixture(scope="module")
def digits():
    test = load_dataset("digits", split="test", limit=24)
    calib = load_dataset("digits", split="train", limit=100)
    return raw_network("digits_mlp"), test.x, test.y, calib.x


def test_parse_grid_types_and_errors():
    grid = parse_grid(["steps=32,100", "encoder=regular,poisson:1", "percentile=99.9"])
    assert grid == {"steps": [32, 100], "encoder": ["regular", "poisson:1"], "percentile": [99.9]}
    for bad in ("steps=0", "steps", "colour=red", "encoder=poisson:x", "percentile=101"):
        with pytest.raises(ValidationError):
            parse_grid([bad])


def test_points_canonical_and_converted_refused():
    pts = grid_points({"normalize": ["max", "percentile"], "percentile": [99, 100]}, raw=True)
    assert len(pts) == 3  # max drops the percentile: one point, not two
    with pytest.raises(ValidationError, match="already converted"):
        grid_points({"bias_mode": ["leak"]}, raw=False)


def test_inprocess_equals_plain_simulate(digits, tmp_path):
    raw, x, y, calib = digits
    grid = {"steps": [16], "encoder": ["poisson:3"], "percentile": [99.0]}
    out = run_sweep(
        raw, x, grid, tmp_path, labels=y, calibration=calib, workers=0, shard_size=7, progress=False
    )
    row = out.rows[0]
    net = convert_network(raw, normalize="percentile", percentile=99.0, calibration=calib)
    res = simulate(
        net, x, Simulation(steps=16, encoder=Poisson(seed=3), readout=Readout(counts="all"))
    )
    assert row["status"] == "ok"
    assert row["snn_accuracy"] == pytest.approx(np.mean(res.predictions() == y))
    total = sum(c.sum() for c in res.counts.values())
    neurons = sum(c.shape[1] for c in res.counts.values())
    assert row["spikes_per_neuron"] == pytest.approx(total / neurons / len(x))


def test_dask_two_workers_equals_inprocess(digits, tmp_path):
    raw, x, y, calib = digits
    grid = {
        "steps": [8, 16],
        "percentile": [99.0, 100.0],
        "bias_mode": ["leak", "current"],
        "encoder": ["poisson:0", "poisson:1"],
    }
    kw = dict(labels=y, calibration=calib, shard_size=10, progress=False)
    local = run_sweep(raw, x, grid, tmp_path / "a", workers=0, **kw)
    dask = run_sweep(raw, x, grid, tmp_path / "b", workers=2, **kw)
    assert len(local.rows) == len(dask.rows) == 16
    assert all(r["status"] == "ok" for r in dask.rows)
    assert max(r["workers"] for r in dask.rows) >= 1
    for a, b in zip(local.rows, dask.rows, strict=True):
        assert {k: a[k] for k in KEYS} == {k: b[k] for k in KEYS}


def test_interrupted_sweep_resumes_only_missing(digits, tmp_path):
    raw, x, y, calib = digits
    grid = {"steps": [4, 8, 12], "encoder": ["regular", "poisson:0"]}
    seen = []

    def stop_after_two(row):
        seen.append(row["id"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    kw = dict(labels=y, calibration=calib, workers=0, shard_size=12, progress=False)
    with pytest.raises(KeyboardInterrupt):
        run_sweep(raw, x, grid, tmp_path, on_row=stop_after_two, **kw)
    again = []
    out = run_sweep(raw, x, grid, tmp_path, on_row=lambda r: again.append(r["id"]), **kw)
    assert (out.reused, out.computed) == (2, 4)
    assert not set(again) & set(seen) and len(again) == 4
    assert len(json.loads((tmp_path / "table.json").read_text())) == 6
    assert not list(tmp_path.glob("**/*.tmp"))


def test_failing_point_reported_others_go_on(digits, tmp_path):
    raw, x, y, calib = digits
    grid = {"steps": [8], "backend": ["reference", "no_such_backend"]}
    out = run_sweep(raw, x, grid, tmp_path, labels=y, calibration=calib, workers=0, progress=False)
    ok, bad = out.rows
    assert ok["status"] == "ok" and bad["status"] == "error"
    assert "no_such_backend" in bad["error"] and bad["backend"] == "no_such_backend"


def test_other_network_in_same_folder_refused(digits, tmp_path):
    raw, x, _, calib = digits
    run_sweep(raw, x, {"steps": [4]}, tmp_path, calibration=calib, workers=0, progress=False)
    with pytest.raises(ValidationError, match="another network"):
        run_sweep(
            raw, x[:10], {"steps": [4]}, tmp_path, calibration=calib, workers=0, progress=False
        )


def test_cli_sweep_json_report(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(
        [
            "sweep",
            "zoo:digits_mlp",
            "--limit",
            "16",
            "--calibration",
            "64",
            "--grid",
            "steps=4,8",
            "bias_mode=leak,current",
            "--workers",
            "0",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert len(rows) == 4
    assert {"agreement", "snn_accuracy", "ann_accuracy", "spikes_per_neuron", "synops"} <= set(
        rows[0]
    )
    assert {"convert_s", "run_s", "wall_s"} <= {k for k in rows[0] if k.endswith("_s")}
    for name in (
        "report.md",
        "table.csv",
        "agreement_vs_T.png",
        "cost_vs_agreement.png",
        "leak_vs_current.png",
    ):
        assert (out / name).is_file()
    assert "Leak vs current" in (out / "report.md").read_text()


def test_cli_sweep_bad_grid_one_line(tmp_path, capsys):
    code = main(
        [
            "sweep",
            "zoo:digits_mlp",
            "--grid",
            "steps=zero",
            "--workers",
            "0",
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "steps" in err


def test_cli_sweep_converted_file(tmp_path, capsys):
    from lif_bridge import save_network
    from lif_bridge.convert.scale import convert_network

    calib = load_dataset("digits", split="train", limit=64).x
    net = convert_network(raw_network("digits_mlp"), normalize="max", calibration=calib)
    path = tmp_path / "net.npz"
    save_network(path, net)
    code = main(
        [
            "sweep",
            str(path),
            "--limit",
            "8",
            "--grid",
            "steps=4",
            "encoder=regular,poisson:2",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "a"),
            "--no-progress",
        ]
    )
    assert code == 0
    assert "2 points: 2 computed" in capsys.readouterr().out
    code = main(
        [
            "sweep",
            str(path),
            "--grid",
            "bias_mode=leak",
            "--workers",
            "0",
            "--out",
            str(tmp_path / "b"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "already converted" in err
