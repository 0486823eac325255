"""`lif-bridge demo`: the main job on the embedded default, with and without training."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lif_bridge import load_network
from lif_bridge.cli import main


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict:
    assert main(["demo", "--out", str(tmp_path), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_demo_with_shipped_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without training: the shipped digits net converts and agrees with its ANN."""
    out = _run(tmp_path, capsys, "--shipped-weights")
    assert out["weights"] == "shipped weights"
    assert out["samples"] == 539
    assert out["agreement"] >= 0.98
    assert out["ann_accuracy"] >= 0.95
    assert [r["steps"] for r in out["by_steps"]] == [25, 50, 100, 200, 300]
    assert Path(out["plot"]).read_bytes()[:4] == b"\x89PNG"
    assert load_network(out["network"]).output.size == 10


@pytest.mark.torch
def test_demo_trains_with_torch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With torch: the net is trained now (seed 0) and gives the same figures as shipped."""
    out = _run(tmp_path, capsys)
    assert out["weights"].startswith("trained now")
    assert out["agreement"] >= 0.98
    assert out["ann_accuracy"] == pytest.approx(0.9852, abs=0.002)
