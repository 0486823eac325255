"""Tests of :mod:`lif_bridge.data`: MNIST IDX files, scikit-learn digits, ``.npz`` files."""

from __future__ import annotations

import gzip
import os
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.data import (
    DATA_DIR_ENV,
    Dataset,
    load_dataset,
    load_digits,
    load_mnist,
    load_npz,
    read_idx,
)
from lif_bridge.errors import DataError, FileFormatError, ValidationError

# The MNIST copy: $LIF_BRIDGE_DATA_DIR, read once at import (the autouse fixture below then
# hides the variable from the tests), else the shared copy beside the repository.
MNIST_DIR = Path(
    os.environ.get(DATA_DIR_ENV)
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
)
TEST_FILES = ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
FIRST_TEST_LABELS = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
FIRST_TRAIN_LABELS = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


@pytest.fixture(autouse=True)
def _no_env_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not depend on the caller's LIF_BRIDGE_DATA_DIR."""
    monkeypatch.delenv(DATA_DIR_ENV, raising=False)


def _write_idx(path: Path, array: np.ndarray, type_code: int = 0x08) -> Path:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(array.dtype.newbyteorder(">")).tobytes())
    return path


def _raw_copy(folder: Path) -> Path:
    """Decompress the MNIST test files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TEST_FILES:
        with gzip.open(MNIST_DIR / f"{name}.gz", "rb") as src, open(folder / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    return folder


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def test_mnist_test_split_shapes_dtypes_range_labels() -> None:
    data = load_mnist("test", data_dir=MNIST_DIR)
    assert isinstance(data, Dataset)
    assert len(data) == 10_000
    assert data.x.shape == (10_000, 1, 28, 28)
    assert data.x.dtype == np.float32
    assert data.y is not None
    assert data.y.shape == (10_000,)
    assert data.y.dtype == np.int64
    assert data.x.min() == 0.0
    assert data.x.max() == 1.0
    assert data.y[:10].tolist() == FIRST_TEST_LABELS
    assert np.bincount(data.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert data.name == "mnist/test"


def test_mnist_train_split_with_limit() -> None:
    data = load_mnist("train", data_dir=MNIST_DIR, limit=10)
    assert data.x.shape == (10, 1, 28, 28)
    assert data.y is not None
    assert data.y.tolist() == FIRST_TRAIN_LABELS


def test_mnist_limit_larger_than_set_returns_all() -> None:
    data = load_mnist("test", data_dir=MNIST_DIR, limit=20_000)
    assert len(data) == 10_000


def test_mnist_raw_files_match_gzip(tmp_path: Path) -> None:
    raw_dir = _raw_copy(tmp_path / "raw")
    raw = load_mnist("test", data_dir=raw_dir, limit=50)
    gz = load_mnist("test", data_dir=MNIST_DIR, limit=50)
    np.testing.assert_array_equal(raw.x, gz.x)
    np.testing.assert_array_equal(raw.y, gz.y)


@pytest.mark.parametrize("layout", ["mnist", "MNIST/raw"])
def test_mnist_found_in_subfolders(tmp_path: Path, layout: str) -> None:
    _raw_copy(tmp_path / layout)
    data = load_mnist("test", data_dir=tmp_path, limit=10)
    assert data.y is not None
    assert data.y.tolist() == FIRST_TEST_LABELS


def test_mnist_data_dir_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(MNIST_DIR))
    data = load_mnist("test", limit=3)
    assert data.y is not None
    assert data.y.tolist() == FIRST_TEST_LABELS[:3]


def test_mnist_missing_folder_names_folders_and_fix(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found; searched") as info:
        load_mnist("test", data_dir=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    assert str(tmp_path / "mnist") in message
    assert DATA_DIR_ENV in message
    assert "--data-dir" in message
    assert "download the four IDX files" in message


def test_mnist_without_folder_or_environment() -> None:
    with pytest.raises(DataError, match=f"{DATA_DIR_ENV} is not set"):
        load_mnist("test")


def test_mnist_half_present_split_is_reported(tmp_path: Path) -> None:
    shutil.copy(MNIST_DIR / "t10k-images-idx3-ubyte.gz", tmp_path)
    with pytest.raises(DataError, match="lacks t10k-labels-idx1-ubyte"):
        load_mnist("test", data_dir=tmp_path)


def test_mnist_truncated_file_raises_file_format_error(tmp_path: Path) -> None:
    folder = _raw_copy(tmp_path)
    images = folder / "t10k-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-100])
    with pytest.raises(FileFormatError, match="t10k-images-idx3-ubyte: file truncated"):
        load_mnist("test", data_dir=folder)


def test_mnist_truncated_gzip_raises_file_format_error(tmp_path: Path) -> None:
    shutil.copy(MNIST_DIR / "t10k-labels-idx1-ubyte.gz", tmp_path)
    data = (MNIST_DIR / "t10k-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "t10k-images-idx3-ubyte.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match="corrupt or truncated gzip"):
        load_mnist("test", data_dir=tmp_path)


def test_mnist_bad_magic_raises_file_format_error(tmp_path: Path) -> None:
    folder = _raw_copy(tmp_path)
    labels = folder / "t10k-labels-idx1-ubyte"
    labels.write_bytes(b"\x12\x34" + labels.read_bytes()[2:])
    with pytest.raises(FileFormatError, match="t10k-labels-idx1-ubyte: bad magic number"):
        load_mnist("test", data_dir=folder)


def test_mnist_swapped_files_are_rejected(tmp_path: Path) -> None:
    folder = _raw_copy(tmp_path)
    images = folder / "t10k-images-idx3-ubyte"
    labels = folder / "t10k-labels-idx1-ubyte"
    tmp = folder / "tmp"
    images.rename(tmp)
    labels.rename(images)
    tmp.rename(labels)
    with pytest.raises(FileFormatError, match="expected MNIST images"):
        load_mnist("test", data_dir=folder)


@pytest.mark.parametrize("split", ["validation", "TEST", ""])
def test_mnist_bad_split(split: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="split must be 'train' or 'test'"):
        load_mnist(split, data_dir=tmp_path)


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_bad_limit(limit: object, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="limit must be a positive integer"):
        load_mnist("test", data_dir=tmp_path, limit=limit)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# read_idx
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dtype", "code"),
    [
        (np.uint8, 0x08),
        (np.int8, 0x09),
        (np.int16, 0x0B),
        (np.int32, 0x0C),
        (np.float32, 0x0D),
        (np.float64, 0x0E),
    ],
)
def test_read_idx_round_trip(tmp_path: Path, dtype: type, code: int) -> None:
    array = np.arange(24).reshape(2, 3, 4).astype(dtype)
    out = read_idx(_write_idx(tmp_path / "a.idx", array, code))
    assert out.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(out, array)


def test_read_idx_unknown_type_code(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(bytes([0, 0, 0x07, 1]) + struct.pack(">I", 1) + b"\x00")
    with pytest.raises(FileFormatError, match="unknown IDX element type code 0x07"):
        read_idx(path)


def test_read_idx_truncated_header(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">I", 10))
    with pytest.raises(FileFormatError, match="truncated IDX header"):
        read_idx(path)


def test_read_idx_trailing_bytes(tmp_path: Path) -> None:
    path = _write_idx(tmp_path / "a.idx", np.zeros(4, dtype=np.uint8))
    path.write_bytes(path.read_bytes() + b"\x00")
    with pytest.raises(FileFormatError, match="has trailing bytes"):
        read_idx(path)


def test_read_idx_too_short(tmp_path: Path) -> None:
    path = tmp_path / "a.idx"
    path.write_bytes(b"\x00\x00")
    with pytest.raises(FileFormatError, match="too short for an IDX header"):
        read_idx(path)


# --------------------------------------------------------------------------------------------
# digits
# --------------------------------------------------------------------------------------------


def test_digits_split_is_fixed_and_disjoint() -> None:
    train = load_digits("train")
    test = load_digits("test")
    assert train.x.shape == (1258, 1, 8, 8)
    assert test.x.shape == (539, 1, 8, 8)
    for data in (train, test):
        assert data.x.dtype == np.float32
        assert data.y is not None
        assert data.y.dtype == np.int64
        assert data.x.min() >= 0.0
        assert data.x.max() == 1.0
    again = load_digits("test")
    np.testing.assert_array_equal(test.x, again.x)
    np.testing.assert_array_equal(test.y, again.y)
    # No image of the test split is also in the training split (the data set has no duplicates
    # that would make this fail).
    train_rows = {row.tobytes() for row in train.x.reshape(len(train), -1)}
    assert not any(row.tobytes() in train_rows for row in test.x.reshape(len(test), -1))


def test_digits_limit() -> None:
    assert len(load_digits("train", limit=7)) == 7


# --------------------------------------------------------------------------------------------
# npz
# --------------------------------------------------------------------------------------------


def test_npz_with_labels(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    x = np.random.default_rng(0).random((5, 1, 3, 3))
    np.savez(path, x=x, y=np.arange(5, dtype=np.int32))
    data = load_npz(path)
    assert data.x.dtype == np.float32
    assert data.x.shape == (5, 1, 3, 3)
    assert data.y is not None
    assert data.y.dtype == np.int64
    assert data.y.tolist() == [0, 1, 2, 3, 4]
    assert data.name == "set"
    assert len(load_npz(path, limit=2)) == 2


def test_npz_without_labels(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, x=np.zeros((3, 4)))
    assert load_npz(path).y is None


def test_npz_with_both_splits(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, x_train=np.zeros((4, 2)), y_train=np.zeros(4, int), x_test=np.ones((2, 2)))
    test = load_dataset(path, split="test")
    assert test.x.shape == (2, 2)
    assert test.y is None
    assert load_dataset(str(path), split="train").x.shape == (4, 2)


def test_npz_object_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, x=np.array([{"a": 1}, None], dtype=object))
    with pytest.raises(FileFormatError, match="pickled data"):
        load_npz(path)


def test_npz_missing_x(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, images=np.zeros((3, 4)))
    with pytest.raises(FileFormatError, match=r"no array 'x'.*found: images"):
        load_npz(path)


def test_npz_bad_labels_shape(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, x=np.zeros((3, 4)), y=np.zeros(2, dtype=int))
    with pytest.raises(FileFormatError, match=r"'y' must be integer labels of shape \(3,\)"):
        load_npz(path)


def test_npz_non_finite_x(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    np.savez(path, x=np.array([[0.0, np.nan]]))
    with pytest.raises(FileFormatError, match="NaN or infinite"):
        load_npz(path)


def test_npz_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "set.npz"
    path.write_bytes(b"this is not a zip file")
    with pytest.raises(FileFormatError, match=r"not a readable \.npz archive"):
        load_npz(path)


def test_npz_single_npy_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "set.npy"
    np.save(path, np.zeros((3, 4)))
    with pytest.raises(FileFormatError, match=r"not an \.npz archive"):
        load_npz(path)


def test_npz_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        load_npz(tmp_path / "nope.npz")


# --------------------------------------------------------------------------------------------
# dispatch and Dataset
# --------------------------------------------------------------------------------------------


def test_load_dataset_dispatch() -> None:
    mnist = load_dataset("MNIST", "test", data_dir=MNIST_DIR, limit=4)
    assert mnist.name == "mnist/test"
    assert len(mnist) == 4
    digits = load_dataset("digits", "train", limit=4)
    assert digits.x.shape == (4, 1, 8, 8)


def test_load_dataset_unknown_name() -> None:
    with pytest.raises(DataError, match="unknown data set 'cifar10'"):
        load_dataset("cifar10", "test")


def test_dataset_rejects_mismatched_labels() -> None:
    with pytest.raises(ValidationError, match=r"y must have shape \(3,\)"):
        Dataset(x=np.zeros((3, 2)), y=np.zeros(2, dtype=np.int64), name="bad")
