"""Data sets for the experiments: MNIST (IDX files), scikit-learn's 8×8 digits, and ``.npz``.

Everything here is NumPy only. Images come back as float32 in [0, 1] with shape
``(N, 1, H, W)`` (the rate encoders code [0, 1] inputs, so no mean/std normalisation), labels as
int64 of shape ``(N,)``.

MNIST is never downloaded: the four IDX files (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each raw or
``.gz``) are looked up in a folder given by ``data_dir`` or by the environment variable
``LIF_BRIDGE_DATA_DIR``.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lif_bridge.errors import DataError, FileFormatError, ValidationError

__all__ = [
    "DATA_DIR_ENV",
    "Dataset",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_npz",
    "read_idx",
]

DATA_DIR_ENV = "LIF_BRIDGE_DATA_DIR"
"""Environment variable naming the folder that holds the MNIST IDX files."""

_SPLITS = ("train", "test")

# IDX element types: code -> (big-endian dtype, name).
_IDX_TYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "unsigned byte"),
    0x09: (">i1", "signed byte"),
    0x0B: (">i2", "short"),
    0x0C: (">i4", "int"),
    0x0D: (">f4", "float"),
    0x0E: (">f8", "double"),
}
_GZIP_MAGIC = b"\x1f\x8b"

_MNIST_PREFIX = {"train": "train", "test": "t10k"}
_MNIST_HINT = (
    "download the four IDX files of MNIST (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; gzip-compressed '.gz' files work too) into "
    f"one folder, then set {DATA_DIR_ENV} to that folder or pass --data-dir (data_dir=...)"
)

_DIGITS_TEST_FRACTION = 0.3
_DIGITS_SEED = 0


@dataclass(frozen=True)
class Dataset:
    """A labelled (or unlabelled) set of samples.

    Parameters
    ----------
    x
        Samples, shape ``(N, ...)``; images are float32 in [0, 1] of shape ``(N, C, H, W)``.
    y
        Integer labels of shape ``(N,)`` (int64), or ``None`` when the set has no labels.
    name
        A short human-readable name, e.g. ``"mnist/test"``.
    """

    x: np.ndarray
    y: np.ndarray | None
    name: str

    def __post_init__(self) -> None:
        if self.x.ndim < 1:
            raise ValidationError(
                f"data set {self.name!r}: x must have a sample axis, got a scalar"
            )
        if self.y is not None and self.y.shape != (self.x.shape[0],):
            raise ValidationError(
                f"data set {self.name!r}: y must have shape ({self.x.shape[0]},) to match x, "
                f"got {self.y.shape}"
            )

    def __len__(self) -> int:
        return int(self.x.shape[0])


# --------------------------------------------------------------------------------------------
# IDX files
# --------------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The content of ``path``, gunzipped when it starts with the gzip magic number."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileFormatError(
            f"{path}: corrupt or truncated gzip stream ({exc}); download the file again"
        ) from exc


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read one IDX file (the format of the MNIST files), raw or gzip-compressed.

    The header is four bytes ``0, 0, type, ndim`` followed by ``ndim`` big-endian uint32 sizes;
    the data follows in C order, big-endian.

    Parameters
    ----------
    path
        The file; gzip compression is detected from its content, not its name.

    Returns
    -------
    numpy.ndarray
        The array, with the file's shape and a native-endian dtype of the file's element type.

    Raises
    ------
    DataError
        If the file cannot be read.
    FileFormatError
        If the magic number, element type, or header is invalid, or the data is shorter or
        longer than the header declares.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise FileFormatError(
            f"{path}: file too short for an IDX header ({len(data)} bytes, need at least 4)"
        )
    if data[0] != 0 or data[1] != 0:
        raise FileFormatError(
            f"{path}: bad magic number 0x{data[:4].hex()}; an IDX file starts with two zero "
            "bytes, a type code and the number of dimensions (e.g. 0x00000803 for MNIST images)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_TYPES)
        raise FileFormatError(
            f"{path}: unknown IDX element type code 0x{type_code:02X} (known: {known})"
        )
    if ndim == 0:
        raise FileFormatError(f"{path}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise FileFormatError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header_len} bytes, "
            f"the file has {len(data)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype_str, type_name = _IDX_TYPES[type_code]
    dtype = np.dtype(dtype_str)
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_len
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise FileFormatError(
            f"{path}: file {what}: header declares shape {shape} of {type_name} "
            f"({expected} data bytes), found {actual} data bytes; download the file again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


# --------------------------------------------------------------------------------------------
# MNIST
# --------------------------------------------------------------------------------------------


def _check_split(split: str) -> str:
    if split not in _SPLITS:
        raise ValidationError(f"split must be 'train' or 'test', got {split!r}")
    return split


def _check_limit(limit: int | None) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValidationError(f"limit must be a positive integer or None, got {limit!r}")
    return int(limit)


def _resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    if data_dir is not None:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if not env:
        raise DataError(f"no MNIST folder given: {DATA_DIR_ENV} is not set. To fix: {_MNIST_HINT}")
    return Path(env).expanduser()


def _find_file(folder: Path, stem: str) -> Path | None:
    """``folder/stem`` or a variant (``.gz``, ``.`` instead of ``-`` before ``idx``), if any."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _find_mnist(root: Path, split: str) -> tuple[Path, Path]:
    prefix = _MNIST_PREFIX[split]
    images_stem = f"{prefix}-images-idx3-ubyte"
    labels_stem = f"{prefix}-labels-idx1-ubyte"
    folders = [root, root / "mnist", root / "MNIST" / "raw"]
    partial: list[str] = []
    for folder in folders:
        images = _find_file(folder, images_stem)
        labels = _find_file(folder, labels_stem)
        if images is not None and labels is not None:
            return images, labels
        if images is not None or labels is not None:
            missing = labels_stem if images is not None else images_stem
            partial.append(f"{folder} lacks {missing}[.gz]")
    searched = ", ".join(str(f) for f in folders)
    detail = f" ({'; '.join(partial)})" if partial else ""
    raise DataError(
        f"MNIST {split} files {images_stem}[.gz] and {labels_stem}[.gz] not found; "
        f"searched {searched}{detail}. To fix: {_MNIST_HINT}"
    )


def load_mnist(
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load MNIST from its IDX files.

    Parameters
    ----------
    split
        ``"train"`` (60,000 images) or ``"test"`` (10,000 images).
    data_dir
        Folder holding the files, directly or in ``mnist/`` or torchvision's ``MNIST/raw/``.
        Defaults to the environment variable ``LIF_BRIDGE_DATA_DIR``.
    limit
        Keep only the first ``limit`` samples (all of them if the set is smaller).

    Returns
    -------
    Dataset
        ``x`` float32 in [0, 1] of shape ``(N, 1, 28, 28)``, ``y`` int64 of shape ``(N,)``.

    Raises
    ------
    DataError
        If no folder is given or the files are not found (the message lists the folders
        searched and how to obtain the files).
    FileFormatError
        If a file is truncated, corrupt, or not the expected MNIST array.
    ValidationError
        If ``split`` or ``limit`` is invalid.
    """
    split = _check_split(split)
    limit = _check_limit(limit)
    images_path, labels_path = _find_mnist(_resolve_data_dir(data_dir), split)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise FileFormatError(
            f"{images_path}: expected MNIST images, unsigned bytes of shape (N, 28, 28), "
            f"got {images.dtype} of shape {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise FileFormatError(
            f"{labels_path}: expected MNIST labels, unsigned bytes of shape (N,), "
            f"got {labels.dtype} of shape {labels.shape}"
        )
    if labels.shape[0] != images.shape[0]:
        raise FileFormatError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels; the two files must belong to the same split"
        )
    if labels.size and int(labels.max()) > 9:
        raise FileFormatError(f"{labels_path}: labels must be digits 0-9, found {labels.max()}")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    x = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    return Dataset(x=x, y=labels.astype(np.int64), name=f"mnist/{split}")


# --------------------------------------------------------------------------------------------
# scikit-learn digits
# --------------------------------------------------------------------------------------------


def load_digits(
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load scikit-learn's bundled 8×8 digits (1,797 images; nothing is downloaded).

    The split is fixed: a permutation drawn with ``numpy.random.default_rng(0)``; its last
    30 % (539 images) is the test set, the first 70 % (1,258 images) the training set.

    Parameters
    ----------
    split
        ``"train"`` or ``"test"``.
    data_dir
        Unused (the data ships with scikit-learn); accepted so all loaders share a signature.
    limit
        Keep only the first ``limit`` samples of the split.

    Returns
    -------
    Dataset
        ``x`` float32 in [0, 1] of shape ``(N, 1, 8, 8)``, ``y`` int64 of shape ``(N,)``.

    Raises
    ------
    DataError
        If scikit-learn is not installed.
    ValidationError
        If ``split`` or ``limit`` is invalid.
    """
    del data_dir
    split = _check_split(split)
    limit = _check_limit(limit)
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as exc:
        raise DataError(
            "the 'digits' data set ships with scikit-learn, which is not installed; "
            "install it with: pip install scikit-learn"
        ) from exc
    bunch = _sk_load_digits()
    images = np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)
    labels = np.asarray(bunch.target, dtype=np.int64)
    n = images.shape[0]
    order = np.random.default_rng(_DIGITS_SEED).permutation(n)
    n_test = round(_DIGITS_TEST_FRACTION * n)
    idx = order[n - n_test :] if split == "test" else order[: n - n_test]
    if limit is not None:
        idx = idx[:limit]
    return Dataset(x=images[idx][:, None, :, :], y=labels[idx], name=f"digits/{split}")


# --------------------------------------------------------------------------------------------
# .npz files
# --------------------------------------------------------------------------------------------


def load_npz(
    path: str | os.PathLike[str], split: str | None = None, limit: int | None = None
) -> Dataset:
    """Load samples (and optional labels) from an ``.npz`` file, without unpickling anything.

    The file holds ``x`` (shape ``(N, ...)``, numeric) and optionally ``y`` (shape ``(N,)``,
    integers). A file with both splits may hold ``x_train``/``y_train`` and
    ``x_test``/``y_test`` instead; ``split`` then picks one.

    Parameters
    ----------
    path
        The ``.npz`` file.
    split
        ``"train"`` or ``"test"``; only used when the file has no plain ``x``.
    limit
        Keep only the first ``limit`` samples.

    Returns
    -------
    Dataset
        ``x`` as float32, ``y`` as int64 (or ``None``).

    Raises
    ------
    DataError
        If the file does not exist or cannot be read.
    FileFormatError
        If it is not an ``.npz`` archive, holds pickled objects, lacks ``x``, or its arrays
        have the wrong kind or shape.
    ValidationError
        If ``split`` or ``limit`` is invalid.
    """
    path = Path(path).expanduser()
    limit = _check_limit(limit)
    if split is not None:
        _check_split(split)
    if not path.is_file():
        raise DataError(f"data file {path} not found (expected an .npz with arrays 'x' and 'y')")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path}: not a readable .npz archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise FileFormatError(
            f"{path}: a single .npy array, not an .npz archive; save with "
            "numpy.savez(path, x=..., y=...)"
        )
    with archive:
        keys = set(archive.files)
        if "x" in keys:
            x_key, y_key = "x", "y"
        elif split is not None and f"x_{split}" in keys:
            x_key, y_key = f"x_{split}", f"y_{split}"
        else:
            hint = f" or 'x_{split}'" if split is not None else ""
            raise FileFormatError(
                f"{path}: no array 'x'{hint} (found: {', '.join(sorted(keys)) or 'none'}); "
                "save with numpy.savez(path, x=samples, y=labels)"
            )
        x = _npz_array(archive, x_key, path)
        y = _npz_array(archive, y_key, path) if y_key in keys else None
    if x.dtype.kind not in "biuf" or x.ndim < 2:
        raise FileFormatError(
            f"{path}: '{x_key}' must be a numeric array of shape (N, ...) with at least 2 "
            f"dimensions, got {x.dtype} of shape {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise FileFormatError(f"{path}: '{x_key}' contains NaN or infinite values")
    if y is not None:
        if y.dtype.kind not in "biu" or y.shape != (x.shape[0],):
            raise FileFormatError(
                f"{path}: '{y_key}' must be integer labels of shape ({x.shape[0]},), "
                f"got {y.dtype} of shape {y.shape}"
            )
        y = y.astype(np.int64)
    if limit is not None:
        x = x[:limit]
        y = None if y is None else y[:limit]
    name = path.stem if x_key == "x" else f"{path.stem}/{split}"
    return Dataset(x=x.astype(np.float32), y=y, name=name)


def _npz_array(archive: np.lib.npyio.NpzFile, key: str, path: Path) -> np.ndarray:
    try:
        return np.asarray(archive[key])
    except ValueError as exc:
        raise FileFormatError(
            f"{path}: array '{key}' holds Python objects (pickled data), which are refused for "
            "safety; store plain numeric arrays"
        ) from exc
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise FileFormatError(f"{path}: array '{key}' is corrupt ({exc})") from exc


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


def load_dataset(
    name_or_path: str | os.PathLike[str],
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load a data set by name (``"mnist"``, ``"digits"``) or from an ``.npz`` path.

    Parameters
    ----------
    name_or_path
        ``"mnist"``, ``"digits"`` (case-insensitive), or the path of an ``.npz`` file.
    split
        ``"train"`` or ``"test"``; for an ``.npz`` it only matters when the file holds
        ``x_train``/``x_test`` instead of ``x``.
    data_dir
        Folder of the MNIST files (see :func:`load_mnist`).
    limit
        Keep only the first ``limit`` samples.

    Returns
    -------
    Dataset
        The loaded set.

    Raises
    ------
    DataError
        If the name is unknown and no such file exists, or the data cannot be found.
    FileFormatError
        If a file is corrupt.
    ValidationError
        If ``split`` or ``limit`` is invalid.
    """
    text = os.fspath(name_or_path)
    key = text.strip().lower()
    if key == "mnist":
        return load_mnist(split=split, data_dir=data_dir, limit=limit)
    if key == "digits":
        return load_digits(split=split, data_dir=data_dir, limit=limit)
    path = Path(text).expanduser()
    if path.suffix.lower() == ".npz" or path.is_file():
        return load_npz(path, split=split, limit=limit)
    raise DataError(
        f"unknown data set {text!r}: use 'mnist', 'digits', or the path of an .npz file "
        "holding arrays 'x' (samples) and optionally 'y' (labels)"
    )
