"""from_torch on bad input: one clear LifBridgeError each, wording pinned."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lif_bridge as lb

pytestmark = pytest.mark.torch

# torch is imported when a test of this module runs (the autouse fixture below), not when the
# module is collected: an environment without torch deselects these tests with -m "not torch".
torch: Any = None
nn: Any = None
F: Any = None


@pytest.fixture(autouse=True)
def _torch() -> None:
    global torch, nn, F
    import torch

    nn, F = torch.nn, torch.nn.functional


def _residual() -> Any:
    """A model with a residual add (refused)."""

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(4, 4)
            self.fc2 = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = torch.relu(self.fc1(x))
            return self.fc2(h + x)

    return Residual()


def _attention() -> Any:
    """A model with an attention block (refused)."""

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.block = nn.Sequential(nn.Linear(4, 4), nn.MultiheadAttention(4, 1))

    return Attention()


def test_unsupported_module_names_path_type_and_supported_list() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2))
    with pytest.raises(
        lb.UnsupportedLayerError, match=r"layer '1' of type Sigmoid is not supported; supported"
    ) as info:
        lb.from_torch(model, input_shape=(4,))
    assert info.value.layer == "1"
    assert "Linear" in info.value.supported


def test_unsupported_nested_module_and_function() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.Sequential(nn.ReLU(), nn.Tanh()), nn.Linear(3, 2))
    with pytest.raises(lb.UnsupportedLayerError, match=r"'1\.1' of type Tanh"):
        lb.from_torch(model, input_shape=(4,))

    class Sig(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.sigmoid(self.fc(x))

    with pytest.raises(lb.UnsupportedLayerError, match=r"of type sigmoid is not supported"):
        lb.from_torch(Sig(), input_shape=(4,))


def test_residual_add_feeding_a_linear_is_refused() -> None:
    with pytest.raises(lb.ConversionError, match=r"node 'fc2' \(Linear\): its input has no ReLU"):
        lb.from_torch(_residual(), input_shape=(4,))


def test_value_changing_layer_after_last_weighted_layer() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2))
    with pytest.raises(lb.UnsupportedLayerError, match=r"after the last weighted layer '0'"):
        lb.from_torch(model, input_shape=(1, 6, 6))
    # a trailing flatten / relu / dropout is fine
    ok = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Dropout())
    net = lb.from_torch(ok, input_shape=(1, 6, 6))
    assert net.layers[-1].ann_activation == "relu"


def test_structural_errors() -> None:
    hidden = nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2))
    with pytest.raises(lb.ConversionError, match=r"hidden layer '0' has no ReLU"):
        lb.from_torch(hidden, input_shape=(4,))
    avg_first = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2)
    )
    with pytest.raises(lb.ConversionError, match=r"AvgPool2d '1' sits between '0' and its ReLU"):
        lb.from_torch(avg_first, input_shape=(1, 6, 6))
    bn_late = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.BatchNorm1d(3), nn.Linear(3, 2))
    with pytest.raises(lb.ConversionError, match=r"BatchNorm1d '2' must directly follow"):
        lb.from_torch(bn_late, input_shape=(4,))
    padded = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(2, padding=1))
    with pytest.raises(lb.ConversionError, match=r"MaxPool2d '1': padding=1 is not supported"):
        lb.from_torch(padded, input_shape=(1, 6, 6))
    ceil = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.ReLU(),
        nn.MaxPool2d(3, ceil_mode=True),
        nn.Flatten(),
        nn.Linear(8, 2),
    )
    with pytest.raises(lb.ConversionError, match=r"ceil_mode=True is not supported"):
        lb.from_torch(ceil, input_shape=(1, 6, 6))


def test_nan_weights_name_the_parameter() -> None:
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[2].weight[0, 1] = float("nan")
    with pytest.raises(lb.ConversionError, match=r"parameter '2\.weight' holds 1 NaN"):
        lb.from_torch(model, input_shape=(4,))


def test_bad_options() -> None:
    model = nn.Sequential(nn.Linear(4, 2))
    with pytest.raises(lb.ConversionError, match=r"needs a calibration set"):
        lb.from_torch(model, input_shape=(4,), normalize="max")
    with pytest.raises(lb.ConversionError, match=r"unknown bias_mode 'bogus'"):
        lb.from_torch(model, input_shape=(4,), bias_mode="bogus")  # type: ignore[arg-type]
    with pytest.raises(lb.ConversionError, match=r"unknown normalize 'mean'"):
        lb.from_torch(model, input_shape=(4,), normalize="mean")  # type: ignore[arg-type]
    with pytest.raises(lb.ConversionError, match=r"must lie in \[0, 1\]"):
        lb.from_torch(model, input_shape=(4,), normalize="max", calibration=np.full((2, 4), 3.0))
    with pytest.raises(lb.ConversionError, match=r"does not run on inputs of shape \(N, 5\)"):
        lb.from_torch(model, input_shape=(5,))


# ------------------------------------------------------------------------------ files


def test_text_file_is_not_a_model(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, not a model\n")
    with pytest.raises(lb.FileFormatError, match=r"notes\.txt: not a TorchScript model"):
        lb.from_torch(str(path), input_shape=(4,))
    with pytest.raises(lb.FileFormatError, match=r"unknown weights file type '\.txt'"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=path)


def test_missing_files_and_bad_factory(tmp_path: Path) -> None:
    with pytest.raises(lb.DataError, match=r"model file .*nope\.pt not found"):
        lb.from_torch(str(tmp_path / "nope.pt"), input_shape=(4,))
    with pytest.raises(lb.DataError, match=r"weights file .*w\.pt not found"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=tmp_path / "w.pt")
    with pytest.raises(lb.ConversionError, match=r"module 'lif_bridge\.zoo' has no 'nothing'"):
        lb.from_torch("lif_bridge.zoo:nothing", input_shape=(1, 8, 8))
    with pytest.raises(lb.ConversionError, match=r"must be callable without arguments"):
        lb.from_torch("lif_bridge.zoo:load_state_npz", input_shape=(1, 8, 8))
    with pytest.raises(lb.ConversionError, match=r"returned a \w+, not a torch\.nn\.Module"):
        lb.from_torch("lif_bridge.backend:available_backends", input_shape=(1, 8, 8))


def test_pickle_that_is_not_a_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pt"
    torch.save([torch.zeros(3)], path)
    with pytest.raises(lb.FileFormatError, match=r"holds a list, not a state_dict"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=path)


def test_truncated_pt(tmp_path: Path) -> None:
    from lif_bridge.zoo import digits_mlp

    path = tmp_path / "cut.pt"
    torch.save(digits_mlp().state_dict(), path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(lb.FileFormatError, match=r"cut\.pt: not a readable PyTorch weights file"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=path)


class _Exploit:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        import os

        return (os.system, ("touch PWNED_MARKER",))


def test_malicious_pickle_is_not_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"fc1.weight": torch.zeros(64, 64), "payload": _Exploit()}, path)
    with pytest.raises(lb.FileFormatError, match=r"evil\.pt: refused to load.*state_dict"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=path)
    assert not (tmp_path / "PWNED_MARKER").exists()
    # a plain pickle file under a .pth name is refused the same way
    raw = tmp_path / "evil.pth"
    raw.write_bytes(pickle.dumps(_Exploit()))
    with pytest.raises(lb.FileFormatError, match=r"evil\.pth: (refused|not a readable)"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=raw)
    assert not (tmp_path / "PWNED_MARKER").exists()


def test_state_dict_that_does_not_fit_names_keys(tmp_path: Path) -> None:
    from lif_bridge.zoo import digits_mlp

    state = digits_mlp().state_dict()
    state["extra.bias"] = torch.zeros(2)
    del state["fc2.weight"]
    state["fc1.weight"] = torch.zeros(5, 64)
    path = tmp_path / "w.pt"
    torch.save(state, path)
    with pytest.raises(
        lb.FileFormatError,
        match=r"do not fit the model: missing keys \['fc2\.weight'\]; unexpected keys "
        r"\['extra\.bias'\]; shape mismatch fc1\.weight \(file \(5, 64\), model \(64, 64\)\)",
    ):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=path)


def test_torchscript_with_functional_forward_is_read_from_its_graph(tmp_path: Path) -> None:
    class Fn(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(torch.relu(self.a(x)))

    class Gated(Fn):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(torch.sigmoid(self.a(x)))

    path = tmp_path / "fn.pt"
    model = Fn().eval()
    torch.jit.save(torch.jit.script(model), str(path))
    net = lb.from_torch(str(path), input_shape=(4,))
    x = torch.rand(5, 4)
    with torch.no_grad():
        np.testing.assert_allclose(lb.ann_forward(net, x.numpy(), units="ann"), model(x), atol=1e-5)
    torch.jit.save(torch.jit.script(Gated()), str(path))
    with pytest.raises(lb.UnsupportedLayerError, match=r"'sigmoid'.*is not supported"):
        lb.from_torch(str(path), input_shape=(4,))


def test_cli_error_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from lif_bridge.cli import main

    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid())
    path = tmp_path / "sig.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    code = main(["convert", str(path), "--input-shape", "4", "-o", str(tmp_path / "n.npz")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "of type Sigmoid is not supported" in err
