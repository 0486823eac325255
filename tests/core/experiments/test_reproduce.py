"""``lif-bridge reproduce --quick`` end to end, and the API's checks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import main
from lif_bridge.errors import ValidationError
from lif_bridge.experiments import resolve_names, run_experiments

PNG = b"\x89PNG\r\n\x1a\n"


def _check_pngs(out: Path, prefix: str) -> None:
    pngs = sorted(out.glob(f"{prefix}*.png"))
    assert pngs, f"no {prefix}*.png written"
    for png in pngs:
        data = png.read_bytes()
        assert data.startswith(PNG) and len(data) > 5_000, png


@pytest.mark.slow  # every experiment end to end: ~2 min of CPU (once, in the main stage)
def test_quick_all_end_to_end(tmp_path: Path, mnist_dir: str) -> None:
    out = tmp_path / "rep"
    code = main(
        ["reproduce", "all", "--out", str(out), "--quick", "--data-dir", mnist_dir, "--no-progress"]
    )
    assert code == 0
    report = (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    for key, prefix in (
        ("S1", "s1_"),
        ("S2", "s2_"),
        ("FC", "fc_"),
        ("CNN", "cnn_"),
        ("ERR", "err_"),
        ("STUDY", "study/*/"),
        ("TTFS", "ttfs_"),
    ):
        assert f"## {key}" in report
        _check_pngs(out, prefix)
        for fig in results["experiments"][key]["figures"]:
            assert f"]({fig})" in report
    s1 = results["experiments"]["S1"]["data"]
    assert s1["onset"] == pytest.approx(4.3281, abs=0.01)
    assert f"{s1['onset']:.4g}" in report  # the measured number, not a typed one
    fc = results["experiments"]["FC"]["data"]
    assert f"{fc['agreement']:.4g}" in report
    assert 0.5 < fc["agreement"] <= 1.0
    study = results["experiments"]["STUDY"]["table"]
    assert any("leak − current" in r["quantity"] for r in study)
    assert any(r["quantity"].startswith("norm_paper_mlp [l4") for r in study)
    assert "Not reproduced" in report and "DEEP" in report
    assert not list(out.glob(".*.tmp"))  # atomic writes left no temp files


def test_single_neuron_without_mnist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LIF_BRIDGE_DATA_DIR", raising=False)
    payload = run_experiments(["s1"], tmp_path, quick=True, progress=False)
    assert list(payload["experiments"]) == ["S1"]
    assert (tmp_path / "report.md").stat().st_size > 0
    json.dumps(payload)  # JSON-able
    _check_pngs(tmp_path, "s1_")


def test_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "S1", "--out", str(tmp_path), "--quick", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["meta"]["quick"] is True
    assert payload["experiments"]["S1"]["id"] == "S1"


def test_names() -> None:
    assert resolve_names(["all"]) == ["S1", "S2", "FC", "CNN", "ERR", "STUDY", "TTFS"]
    assert resolve_names(["err", "S1"]) == ["S1", "ERR"]
    with pytest.raises(ValidationError, match="CIFAR"):
        resolve_names(["DEEP"])
    with pytest.raises(ValidationError, match="unknown experiment"):
        resolve_names(["S9"])


def test_unknown_experiment_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["reproduce", "S9", "--out", str(tmp_path)]) == 2
    assert "unknown experiment" in capsys.readouterr().err


def test_study_biased_net_is_inside_the_leak_domain() -> None:
    from lif_bridge.convert.scale import convert_network
    from lif_bridge.data import load_dataset
    from lif_bridge.experiments.study import biased_digits_mlp

    raw = biased_digits_mlp()
    fc1 = raw.layers[1]
    assert (fc1.ann_bias < 0).any() and not (fc1.ann_bias > 0).any()
    calib = load_dataset("digits", "train").x
    leak = convert_network(raw, bias_mode="leak", normalize="percentile", calibration=calib)
    current = convert_network(raw, bias_mode="current", normalize="percentile", calibration=calib)
    g = leak.layers[1].neurons.g_l
    assert np.any(np.asarray(g) > 0)  # the negative biases became leaks
    assert not np.any(np.asarray(current.layers[1].neurons.g_l) > 0)


def test_study_rows_come_from_sweeps(tmp_path: Path, mnist_dir: str) -> None:
    from lif_bridge.experiments._common import Context
    from lif_bridge.experiments.study import Study, run_study, summary_rows

    ctx = Context(out_dir=tmp_path, data_dir=mnist_dir, quick=True, progress=False)
    study = Study("biased_digits_mlp", {"bias_mode": ["leak", "current"], "steps": [16]}, "q")
    first = run_study(ctx, "q", study)
    assert [r["status"] for r in first["rows"]] == ["ok", "ok"]
    assert (tmp_path / "study" / "q" / "report.md").is_file()
    lines = summary_rows("q", study, first["rows"])
    assert any("leak − current" in r["quantity"] for r in lines)
    again = run_study(ctx, "q", study)  # resumed: nothing recomputed, same rows
    assert again["rows"] == first["rows"]


@pytest.mark.torch
def test_bn_cnn_raw_folds_like_the_torch_import() -> None:
    """The NumPy batch-norm fold of the STUDY's BN CNN computes the trained torch model."""
    import importlib.util

    import torch

    from lif_bridge.ann import ann_forward
    from lif_bridge.experiments.study import bn_cnn_raw
    from lif_bridge.zoo import load_state_npz

    root = Path(__file__).resolve().parents[3]
    spec = importlib.util.spec_from_file_location(
        "convert_bn_cnn", root / "examples/convert_bn_cnn.py"
    )
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    model = example.bn_cnn()
    state = {k: torch.from_numpy(v.copy()) for k, v in load_state_npz(example.WEIGHTS).items()}
    state = {k: v.long() if k.endswith("num_batches_tracked") else v for k, v in state.items()}
    model.load_state_dict(state)
    x = np.random.default_rng(0).random((5, 1, 28, 28))
    with torch.no_grad():
        want = model.eval()(torch.from_numpy(x).float()).double().numpy()
    got = ann_forward(bn_cnn_raw(), x, units="ann")
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
