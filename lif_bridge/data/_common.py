"""Shared pieces of the data loaders: the Dataset type and the argument checks.

Public through :mod:`lif_bridge.data` (``Dataset``, ``check_split``, ``check_limit``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lif_bridge.errors import ValidationError

DATA_DIR_ENV = "LIF_BRIDGE_DATA_DIR"
"""Environment variable naming the folder that holds the MNIST IDX files."""

_SPLITS = ("train", "test")


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


def check_split(split: str) -> str:
    """``split`` if it is ``"train"`` or ``"test"``; else :class:`ValidationError`."""
    if split not in _SPLITS:
        raise ValidationError(f"split must be 'train' or 'test', got {split!r}")
    return split


def check_limit(limit: int | None) -> int | None:
    """``limit`` as an ``int`` (or ``None``) if it is a positive integer; else
    :class:`ValidationError` naming the value."""
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise ValidationError(f"limit must be a positive integer or None, got {limit!r}")
    return int(limit)
