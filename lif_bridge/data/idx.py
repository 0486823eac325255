"""Reading IDX files (the MNIST format), raw or gzip-compressed, with validated headers."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from lif_bridge.errors import DataError, FileFormatError

__all__ = ["read_idx"]

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
