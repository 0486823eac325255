"""Shared pieces of the experiments: run context, atomic writes, table rows (internal)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "SEED",
    "Context",
    "confusion_matrix",
    "jsonable",
    "limit_threads",
    "row",
    "write_json",
    "write_text",
]

#: Seed of every random choice the experiments make (rates of S2, ERR).
SEED = 0


@dataclass(frozen=True)
class Context:
    """Where and how an experiment runs.

    Attributes
    ----------
    out_dir
        Folder receiving figures (and, from the caller, ``report.md``/``results.json``).
    data_dir
        Folder with the MNIST IDX files, or ``None`` for ``$LIF_BRIDGE_DATA_DIR``.
    quick
        Reduced sizes (smoke tests); the full sizes are the paper's.
    progress
        Show progress bars.
    backend
        Backend name for the network experiments (FC, CNN, ERR).
    seed
        Seed of the random choices.
    """

    out_dir: Path
    data_dir: str | None = None
    quick: bool = False
    progress: bool = True
    backend: str = "reference"
    seed: int = SEED

    def pick(self, full: Any, quick: Any) -> Any:
        """``quick`` in quick mode, else ``full``."""
        return quick if self.quick else full


def _atomic_write(path: Path, data: bytes) -> Path:
    """Write ``data`` atomically, umask honoured (:func:`lif_bridge.fileio.atomic_write`)."""
    from lif_bridge.fileio import atomic_write

    return atomic_write(path, data)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (temp file, then ``os.replace``)."""
    return _atomic_write(Path(path), text.encode("utf-8"))


def jsonable(value: Any) -> Any:
    """``value`` with numpy arrays/scalars, paths and tuples turned into JSON types.

    Non-finite floats become ``None`` (JSON has no NaN).
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Path):
        return str(value)
    return value


def write_json(path: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as indented JSON atomically."""
    text = json.dumps(jsonable(payload), indent=2) + "\n"
    return _atomic_write(Path(path), text.encode("utf-8"))


def row(
    quantity: str,
    ours: Any,
    *,
    paper: Any = None,
    spec: Any = None,
    note: str = "",
) -> dict[str, Any]:
    """One line of a comparison table: the paper's number (typed in), the spec's, and ours.

    ``ours`` must be a measured value; ``paper`` and ``spec`` are references (``None``: not
    given there).
    """
    return {"quantity": quantity, "paper": paper, "spec": spec, "ours": ours, "note": note}


@contextlib.contextmanager
def limit_threads(n: int = 1) -> Iterator[None]:
    """Limit BLAS/OpenMP threads while the experiments run (small matrices, shared cores).

    Does nothing when ``threadpoolctl`` is not installed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional
        yield
        return
    with threadpool_limits(limits=n):
        yield


class Stopwatch:
    """Wall time since creation, in seconds."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        """Seconds elapsed."""
        return time.perf_counter() - self.start


def confusion_matrix(snn: np.ndarray, ann: np.ndarray, n: int = 10) -> np.ndarray:
    """``(n, n)`` counts of (ANN label, SNN label) pairs; labels are the arg-max of each row."""
    m = np.zeros((n, n), dtype=np.int64)
    np.add.at(m, (np.argmax(ann, axis=1), np.argmax(snn, axis=1)), 1)
    return m
