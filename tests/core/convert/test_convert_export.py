"""from_torch on torch.export programs: ExportedProgram and .pt2 files, checks and refusals."""

from __future__ import annotations

import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lif_bridge as lb

pytestmark = pytest.mark.torch

torch: Any = None
nn: Any = None
F: Any = None


@pytest.fixture(autouse=True)
def _torch() -> None:
    global torch, nn, F
    import torch

    nn, F = torch.nn, torch.nn.functional


def _model() -> Any:
    """Conv + BN + functional relu / max pool, 'same' padding, adaptive pool, dropout, fc."""

    class Small(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(1, 4, 3, padding="same")
            self.bn1 = nn.BatchNorm2d(4)
            self.c2 = nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2)
            self.pool = nn.AdaptiveAvgPool2d(2)
            self.drop = nn.Dropout(0.2)
            self.fc = nn.Linear(24, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.max_pool2d(F.relu(self.bn1(self.c1(x))), 2)
            x = self.pool(torch.relu(self.c2(x)))
            return self.fc(self.drop(torch.flatten(x, 1)))

    torch.manual_seed(0)
    model = Small().eval()
    model.bn1.running_mean.uniform_(-0.3, 0.3)
    model.bn1.running_var.uniform_(0.5, 2.0)
    return model


def _export(model: Any, batch: int = 2) -> Any:
    return torch.export.export(model, (torch.zeros(batch, 1, 16, 16),))


def test_exported_program_and_pt2_equal_the_fx_conversion(tmp_path: Path) -> None:
    model = _model()
    path = tmp_path / "m.pt2"
    torch.export.save(_export(model), str(path))
    x = torch.rand((6, 1, 16, 16), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected = model(x).numpy()
    from_fx = lb.from_torch(model, input_shape=(1, 16, 16))
    for source in (_export(model), str(path)):
        net = lb.from_torch(source, input_shape=(1, 16, 16), bias_mode="current")
        assert [layer.name for layer in net.layers] == [layer.name for layer in from_fx.layers]
        for a, b in zip(net.layers, from_fx.layers, strict=True):
            if hasattr(a, "weight"):
                np.testing.assert_allclose(a.weight, b.weight, rtol=1e-12)
        got = lb.ann_forward(net, x.numpy(), units="ann")
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_cli_converts_a_pt2_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from lif_bridge.cli import main

    path = tmp_path / "m.pt2"
    torch.export.save(_export(_model()), str(path))
    out = tmp_path / "n.npz"
    code = main(["convert", str(path), "--input-shape", "1", "16", "16", "-o", str(out), "--json"])
    assert code == 0, capsys.readouterr().err
    summary = json.loads(capsys.readouterr().out)
    assert [layer["name"] for layer in summary["layers"]] == ["c1", "c2", "fc"]
    assert lb.load_network(out).input_shape == (1, 16, 16)


def test_nan_weights_and_wrong_input_shape_are_refused() -> None:
    model = _model()
    with torch.no_grad():
        model.c2.weight[0, 0, 0, 0] = float("nan")
    with pytest.raises(lb.ConversionError, match=r"parameter 'c2\.weight' holds 1 NaN"):
        lb.from_torch(_export(model), input_shape=(1, 16, 16))
    with pytest.raises(lb.ConversionError, match=r"per-sample inputs of shape \(1, 16, 16\).*"):
        lb.from_torch(_export(_model()), input_shape=(1, 28, 28))


def test_unsupported_aten_op_names_the_node() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(256, 4), nn.Sigmoid()).eval()
    with pytest.raises(lb.UnsupportedLayerError, match=r"'sigmoid'.*aten\.sigmoid\.default"):
        lb.from_torch(_export(model), input_shape=(1, 16, 16))


class _Exploit:
    def __reduce__(self) -> Any:
        return (os.system, ("touch PWNED_MARKER",))


def _rewrite(src: Path, dst: Path, edit: Any) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            zout.writestr(info, data)


def test_pt2_with_pickled_entries_is_refused_unexecuted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.pt2"
    torch.export.save(_export(_model()), str(good))

    def pickled_weight(name: str, data: bytes) -> bytes:
        if name.endswith("_weights_config.json"):
            config = json.loads(data)
            first = next(iter(config["config"].values()))
            first["use_pickle"] = True
            return json.dumps(config).encode()
        if name.endswith("weights/weight_0"):
            return pickle.dumps(_Exploit())
        return data

    def pickled_sample(name: str, data: bytes) -> bytes:
        return pickle.dumps(_Exploit()) if "/sample_inputs/" in name else data

    for edit, why in [(pickled_weight, "stored with pickle"), (pickled_sample, "Unpickl")]:
        bad = tmp_path / "evil.pt2"
        _rewrite(good, bad, edit)
        with pytest.raises(lb.FileFormatError, match=rf"evil\.pt2: refused to load: .*{why}"):
            lb.from_torch(str(bad), input_shape=(1, 16, 16))
        assert not (tmp_path / "PWNED_MARKER").exists()
    text = tmp_path / "text.pt2"
    text.write_text("not a zip")
    with pytest.raises(lb.FileFormatError, match=r"text\.pt2: refused to load: BadZipFile"):
        lb.from_torch(str(text), input_shape=(1, 16, 16))
