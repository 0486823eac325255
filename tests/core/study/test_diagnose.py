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


class _FakeProbe:
    """A probe whose agreement is 0.15 below 8 steps and 1.0 from 8 on (no simulation)."""

    def __init__(self) -> None:
        from lif_bridge.network import Dense, Network, Neurons

        self.network = Network(
            input_shape=(2,), layers=(Dense(weight=np.ones((2, 2)), neurons=Neurons()),)
        )
        self.x = np.zeros((3, 2))
        self.runs: list[int] = []

    def run(self, n: int) -> int:
        self.runs.append(n)
        return n

    def score(self, n: int, steps: int) -> dict[str, float]:
        return {"steps": steps, "agreement": 1.0 if steps >= 8 else 0.15}


def test_checks_fall_back_to_a_measured_window_that_reached_the_target():
    # The model suggests T = 1, wrongly; the curve already measured 100 % at T = 8: the checks
    # never run past 8, and when their tries run out below it, the measured 8 is the answer.
    from lif_bridge.study.diagnose import _checks

    probe = _FakeProbe()
    curve = [{"steps": 8, "agreement": 1.0}]
    tries = _checks(probe, curve, 1, lambda n: 1.0, 80, 3, 0.99)  # type: ignore[arg-type]
    assert probe.runs == [1, 2, 3]
    assert [t["steps"] for t in tries] == [1, 2, 3, 8]
    assert tries[-1]["agreement"] == 1.0
    probe = _FakeProbe()
    tries = _checks(probe, curve, 5, lambda n: 1.0, 80, 4, 0.99)  # type: ignore[arg-type]
    assert probe.runs == [5] and [t["steps"] for t in tries] == [5, 8]  # 5 × 1.5 > 8: clamped
