"""MNIST from its four IDX files, found in a folder (never downloaded)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, overload

import numpy as np

from lif_bridge.data._common import DATA_DIR_ENV, Dataset, check_limit, check_split
from lif_bridge.data.idx import read_idx
from lif_bridge.errors import DataError, FileFormatError

__all__ = ["load_mnist", "resolve_data_dir"]

_MNIST_PREFIX = {"train": "train", "test": "t10k"}
_MNIST_HINT = (
    "download the four IDX files of MNIST (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; gzip-compressed '.gz' files work too) into "
    f"one folder, then set {DATA_DIR_ENV} to that folder or pass --data-dir (data_dir=...)"
)


@overload
def resolve_data_dir(data_dir: str | os.PathLike[str] | None = ...) -> Path: ...
@overload
def resolve_data_dir(
    data_dir: str | os.PathLike[str] | None = ..., *, required: Literal[False]
) -> Path | None: ...
def resolve_data_dir(
    data_dir: str | os.PathLike[str] | None = None, *, required: bool = True
) -> Path | None:
    """The folder of the MNIST IDX files: the one resolver every tool, example and test uses.

    Parameters
    ----------
    data_dir
        The folder given explicitly (``--data-dir``, ``data_dir=``); wins when not ``None``/empty.
    required
        Without a folder and without ``$LIF_BRIDGE_DATA_DIR``: raise (``True``) or return
        ``None`` (``False``, for commands that need MNIST only for some inputs).

    Returns
    -------
    Path or None
        ``data_dir``, else ``$LIF_BRIDGE_DATA_DIR`` (``~`` expanded); the folder's content is
        checked by :func:`load_mnist`.

    Raises
    ------
    DataError
        If ``required`` and neither is given, with how to fix it.
    """
    if data_dir is not None and str(data_dir).strip():
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    if required:
        raise DataError(f"no MNIST folder given: {DATA_DIR_ENV} is not set. To fix: {_MNIST_HINT}")
    return None


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
    split = check_split(split)
    limit = check_limit(limit)
    images_path, labels_path = _find_mnist(resolve_data_dir(data_dir), split)
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
