"""Diagnosis of the shipped digits net: files, per-layer figures, a suggested T that holds."""

from __future__ import annotations

import json

import numpy as np

from lif_bridge.cli import main
from lif_bridge.study.diagnose import margin_model, suggest_steps


def test_margin_model_pessimistic_on_measured_points():
    margins = np.array([1.0, 2.0, 5.0, 10.0, 50.0])
    measured = {10: 0.6, 40: 1.0}
    kappa, predict = margin_model(margins, measured, dt=0.01)
    for steps, agree in measured.items():
        assert predict(steps) <= agree
    t = suggest_steps(margins, kappa, 0.01, target=1.0)
    assert predict(t) == 1.0 and predict(t - 1) < 1.0


def test_diagnose_digits_writes_report_and_suggested_t_holds(tmp_path, capsys):
    out = tmp_path / "d"
    code = main(
        [
            "diagnose",
            "zoo:digits_mlp",
            "--limit",
            "120",
            "--calibration",
            "200",
            "--steps",
            "8,16,32",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    for name in ("report.md", "diagnosis.json", "agreement_vs_T.png", "layers.png"):
        assert (out / name).is_file()
    assert [lay["layer"] for lay in d["layers"]] == ["fc1", "fc2"]
    hidden = d["layers"][0]
    assert 0.9 < hidden["correlation_mean"] <= 1.0
    assert hidden["synops_per_sample"] > 0 and hidden["spikes_per_neuron"] > 0
    assert d["near_ties"] <= d["disagreements"]
    # the suggested T was run and reaches the target and the agreement the model predicted
    assert d["suggested_steps"] is not None
    check = d["checks"][-1]
    assert check["steps"] == d["suggested_steps"]
    assert check["agreement"] >= d["target_agreement"]
    assert check["agreement"] >= check["predicted"]
    assert "Suggestions" in (out / "report.md").read_text()
