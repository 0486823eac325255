"""FC and CNN at the paper's full settings (minutes each): the acceptance numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from lif_bridge.experiments import cnn, fc
from lif_bridge.experiments._common import Context

pytestmark = pytest.mark.slow


def test_fc_full_paper_settings(tmp_path: Path, mnist_dir: str) -> None:
    res = fc.run(Context(out_dir=tmp_path, data_dir=mnist_dir, progress=False))
    data = res["data"]
    assert data["n_test"] == 10_000
    assert data["agreement"] >= 0.9938
    assert data["corr20_mean"] >= 0.94


def test_cnn_full_paper_settings(tmp_path: Path, mnist_dir: str) -> None:
    res = cnn.run(Context(out_dir=tmp_path, data_dir=mnist_dir, progress=False))
    data = res["data"]
    assert data["n_test"] == 2_000
    assert data["agreement"] >= 0.999
