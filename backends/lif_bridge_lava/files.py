"""The file protocol between a :class:`~lif_bridge_lava.program.LavaProgram` and its processes.

No image, weight or count goes through Lava's ``Var.get``/``Var.set`` (about 23 µs per element
each way). Instead the program and the process models share a private folder:

``trains_<g0>.npy``
    Written by the program before it runs a chunk: the encoder's output for samples
    ``g0 .. g0+b-1``, shape ``(b, steps, n_inputs)`` (uint8 spikes or float64 currents).
    Read by every process that consumes the input (:func:`trains_path`).
``counts_<label>.bin``
    Written by a population's model at the last counted step of sample ``g``: its ``n`` int64
    counts at byte offset ``g·n·8`` (:func:`counts_path`, :func:`write_row`).
``trace_<label>.bin``
    The voltage [V] after every step of sample ``g``: ``steps·n`` float64 at offset
    ``g·steps·n·8`` (:func:`trace_path`).

This module imports only the standard library and NumPy.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = [
    "counts_path",
    "read_rows",
    "trace_path",
    "trains_path",
    "write_row",
]


def trains_path(directory: str, first: int) -> str:
    """File holding the trains of the chunk that starts at sample ``first``."""
    return os.path.join(directory, f"trains_{first}.npy")


def counts_path(directory: str, label: str) -> str:
    """File of the count rows of the population labelled ``label``."""
    return os.path.join(directory, f"counts_{label}.bin")


def trace_path(directory: str, label: str) -> str:
    """File of the voltage traces of the population labelled ``label``."""
    return os.path.join(directory, f"trace_{label}.bin")


def write_row(path: str, row: np.ndarray, index: int) -> None:
    """Write ``row`` (its bytes) as record ``index`` of ``path`` (created owner-only)."""
    data = np.ascontiguousarray(row).tobytes()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.pwrite(fd, data, index * len(data))
    finally:
        os.close(fd)


def read_rows(path: str, dtype: type, first: int, count: int, size: int) -> np.ndarray | None:
    """Records ``first .. first+count-1`` of ``size`` items each, or ``None`` if incomplete."""
    itemsize = np.dtype(dtype).itemsize
    try:
        data: np.ndarray = np.fromfile(
            path, dtype=dtype, count=count * size, offset=first * size * itemsize
        )
    except OSError:
        return None
    return data if data.size == count * size else None
