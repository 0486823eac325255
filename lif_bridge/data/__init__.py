"""Data sets for the experiments: MNIST (IDX files), the shipped 8×8 digits, and ``.npz``.

Everything here is NumPy only. Images come back as float32 in [0, 1] with shape
``(N, 1, H, W)`` (the rate encoders code [0, 1] inputs, so no mean/std normalisation), labels as
int64 of shape ``(N,)``.

MNIST is never downloaded: the four IDX files (``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each raw or
``.gz``) are looked up in a folder given by ``data_dir`` or by the environment variable
``LIF_BRIDGE_DATA_DIR``.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from lif_bridge.data._common import DATA_DIR_ENV, Dataset, check_limit, check_split
from lif_bridge.data.idx import read_idx
from lif_bridge.data.mnist import load_mnist, resolve_data_dir
from lif_bridge.errors import DataError, FileFormatError

__all__ = [
    "DATA_DIR_ENV",
    "Dataset",
    "check_limit",
    "check_split",
    "load_dataset",
    "load_digits",
    "load_mnist",
    "load_npz",
    "read_idx",
    "resolve_data_dir",
]

_DIGITS_TEST_FRACTION = 0.3
_DIGITS_SEED = 0
_DIGITS_FILE = Path(__file__).resolve().parent / "digits.npz"


def load_digits(
    split: str = "test",
    data_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
) -> Dataset:
    """Load the 8×8 digits shipped in the package (1,797 images; nothing is downloaded).

    The images are the UCI "Optical Recognition of Handwritten Digits" set as scikit-learn
    bundles it (``sklearn.datasets.load_digits``, same order; CC BY 4.0, Alpaydin & Kaynak
    1998), stored in ``lif_bridge/data/digits.npz`` as uint8 counts 0..16, so neither
    scikit-learn nor a download is needed.

    The split is fixed: a permutation drawn with ``numpy.random.default_rng(0)``; its last
    30 % (539 images) is the test set, the first 70 % (1,258 images) the training set.

    Parameters
    ----------
    split
        ``"train"`` or ``"test"``.
    data_dir
        Unused (the data ship with the package); accepted so all loaders share a signature.
    limit
        Keep only the first ``limit`` samples of the split.

    Returns
    -------
    Dataset
        ``x`` float32 in [0, 1] of shape ``(N, 1, 8, 8)``, ``y`` int64 of shape ``(N,)``.

    Raises
    ------
    ValidationError
        If ``split`` or ``limit`` is invalid.
    """
    del data_dir
    split = check_split(split)
    limit = check_limit(limit)
    with np.load(_DIGITS_FILE, allow_pickle=False) as archive:
        images = archive["images"].astype(np.float32) / np.float32(16.0)
        labels = archive["labels"].astype(np.int64)
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
    limit = check_limit(limit)
    if split is not None:
        check_split(split)
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
