"""Tests of :mod:`lif_bridge.zoo`: factories, shipped weights, npz weight files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.data import load_dataset
from lif_bridge.errors import DataError, FileFormatError, ValidationError
from lif_bridge.zoo import MODELS, load_state_npz, save_state_npz, weights_path

MNIST_DIR = Path(
    os.environ.get("LIF_BRIDGE_DATA_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
)

EXPECTED_SHAPES = {
    "paper_mlp": {"fc1.weight": (600, 784), "fc2.weight": (10, 600)},
    "paper_cnn": {
        "conv1.weight": (12, 1, 5, 5),
        "conv2.weight": (64, 12, 5, 5),
        "fc1.weight": (100, 3136),
        "fc2.weight": (10, 100),
    },
    "digits_mlp": {"fc1.weight": (64, 64), "fc2.weight": (10, 64)},
}
# The targets the shipped weights must reach on the whole test split.
TARGET_ACCURACY = {"paper_mlp": 0.98, "paper_cnn": 0.985, "digits_mlp": 0.95}


def test_zoo_lists_the_three_models() -> None:
    assert set(MODELS) == set(EXPECTED_SHAPES)


@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_shipped_weights_exist_with_right_shapes(name: str) -> None:
    path = weights_path(name)
    assert path.is_file(), f"{path} missing; run examples/train_zoo.py {name}"
    assert path.parent == Path(__file__).resolve().parents[2] / "lif_bridge" / "zoo"
    state = load_state_npz(path)
    assert {k: v.shape for k, v in state.items()} == EXPECTED_SHAPES[name]
    for value in state.values():
        assert value.dtype == np.float32
        assert np.all(np.isfinite(value))


# Images on which the recorded figure is recomputed with NumPy: the whole split for the MLPs
# (seconds); the first 1,000 for the CNN (the whole split is a minute of NumPy convolutions).
RECOMPUTED_ON = {"paper_mlp": None, "paper_cnn": 1000, "digits_mlp": None}


@pytest.mark.parametrize("name", sorted(TARGET_ACCURACY))
def test_shipped_weights_reach_recorded_accuracy(name: str) -> None:
    """The shipped weights, run through the ANN view in NumPy, give the recorded accuracy."""
    from lif_bridge.ann import ann_forward
    from lif_bridge.zoo.raw import raw_network

    entry = MODELS[name]
    limit = RECOMPUTED_ON[name]
    data = load_dataset(entry.dataset, "test", data_dir=MNIST_DIR, limit=limit)
    assert data.y is not None
    out = ann_forward(raw_network(name), data.x, units="ann")
    acc = float(np.mean(out.argmax(1) == data.y))
    recorded = entry.test_accuracy if limit is None else entry.test_accuracy_first1000
    assert acc == pytest.approx(recorded, abs=1e-4)
    if limit is None:
        assert acc >= TARGET_ACCURACY[name]


def test_zoo_and_weights_load_without_torch() -> None:
    code = (
        "import sys\n"
        "from lif_bridge.zoo import MODELS, load_state_npz, weights_path\n"
        "for name in MODELS:\n"
        "    load_state_npz(weights_path(name))\n"
        "assert 'torch' not in sys.modules, 'importing lif_bridge.zoo imported torch'\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_weights_path_unknown_name() -> None:
    with pytest.raises(ValidationError, match="unknown zoo model 'alexnet'; known models: "):
        weights_path("alexnet")


def test_save_and_load_state_round_trip(tmp_path: Path) -> None:
    state = {"fc1.weight": np.arange(6.0).reshape(2, 3), "fc2.weight": np.ones((1, 2))}
    path = save_state_npz(state, tmp_path / "w.npz")
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temp file left behind
    loaded = load_state_npz(path)
    assert list(loaded) == ["fc1.weight", "fc2.weight"]
    assert loaded["fc1.weight"].dtype == np.float32
    np.testing.assert_array_equal(loaded["fc1.weight"], state["fc1.weight"])


def test_load_state_refuses_object_arrays(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, w=np.array([object()], dtype=object))
    with pytest.raises(FileFormatError, match="pickled Python objects"):
        load_state_npz(path)


def test_load_state_refuses_integer_arrays(tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    np.savez(path, w=np.zeros(3, dtype=np.int32))
    with pytest.raises(FileFormatError, match="weights must be floats"):
        load_state_npz(path)


def test_load_state_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_state_npz(tmp_path / "none.npz")


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_factory_matches_shipped_weights(name: str) -> None:
    import torch

    from lif_bridge.zoo import pretrained

    model = pretrained(name)
    assert not model.training
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == EXPECTED_SHAPES[name]
    assert all(getattr(m, "bias", None) is None for m in model.modules())
    out = model(torch.zeros((2, *MODELS[name].input_shape)))
    assert out.shape == (2, 10)


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(EXPECTED_SHAPES))
def test_shipped_weights_give_stated_accuracy(name: str) -> None:
    import torch

    from lif_bridge.zoo import pretrained

    entry = MODELS[name]
    data = load_dataset(entry.dataset, "test", data_dir=MNIST_DIR, limit=1000)
    model = pretrained(name)
    with torch.no_grad():
        predicted = model(torch.from_numpy(data.x)).argmax(1).numpy()
    acc = float(np.mean(predicted == data.y))
    assert acc == pytest.approx(entry.test_accuracy_first1000, abs=0.01)
