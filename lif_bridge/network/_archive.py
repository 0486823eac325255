"""Reading a network file's ``.npz`` archive safely: sizes checked before anything is read.

``numpy.load`` trusts the file: it inflates whatever member is asked for and allocates what
each ``.npy`` header declares. Here (internal to :mod:`lif_bridge.network.io`):

* the archive's directory is read, nothing else, until a member is asked for;
* only members the header references are ever read (:class:`ArchiveArrays` is lazy), so a zip
  bomb in an unreferenced member is never inflated;
* a member's ``.npy`` header is parsed first: pickled objects and non-numeric or complex
  dtypes are refused, and ``prod(shape) · itemsize`` is checked against the limits
  (:mod:`lif_bridge.limits`: ``header_bytes``, ``array_bytes``, ``file_bytes``) and against the
  size the zip directory declares, before the data are allocated;
* exactly that many bytes are decompressed (a member that inflates to more is refused), and
  the member's CRC is checked.

Every failure is a :class:`lif_bridge.errors.FileFormatError` naming the file and the member.
"""

from __future__ import annotations

import json
import lzma
import math
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from lif_bridge.errors import FileFormatError
from lif_bridge.limits import Limits, current, format_bytes

__all__ = ["ArchiveArrays", "read_archive"]

#: What the zip and npy layers raise on malformed bytes.
_MALFORMED = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    OSError,
    EOFError,
    ValueError,
    KeyError,
    NotImplementedError,
    RuntimeError,  # encrypted members
    OverflowError,
    SyntaxError,
    TypeError,
)

#: Array dtype kinds a network file may hold (floats, ints, bools); 'U' only for the header.
_NUMERIC = "fiub"


def _fail(path: Path, message: str) -> FileFormatError:
    return FileFormatError(
        f"{path}: corrupt or truncated network file ({message}); re-create it with "
        "`lif-bridge convert`"
    )


class ArchiveArrays(Mapping[str, np.ndarray]):
    """The arrays of an open archive by key (``a0`` for member ``a0.npy``), read on demand.

    Each array is read once (the archive is reopened for it, nothing stays open), with its size
    checked first; the total read is bounded by ``limits.file_bytes``.
    """

    def __init__(self, path: Path, infos: list[zipfile.ZipInfo], limits: Limits) -> None:
        self._path = path
        self._limits = limits
        self._members = {
            name[: -len(".npy")]: info for info in infos if (name := info.filename).endswith(".npy")
        }
        self._cache: dict[str, np.ndarray] = {}
        self._total = 0

    def __contains__(self, key: object) -> bool:
        return key in self._members

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __getitem__(self, key: str) -> np.ndarray:
        if key in self._cache:
            return self._cache[key]
        if key not in self._members:
            raise _fail(self._path, f"array {key!r} referenced but missing")
        left = self._limits.file_bytes - self._total
        one = self._limits.array_bytes
        try:
            zf = zipfile.ZipFile(self._path)
        except _MALFORMED as exc:
            raise _fail(self._path, f"cannot reopen the archive ({exc})") from exc
        with zf:
            arr = read_member(
                self._path,
                zf,
                self._members[key],
                kinds=_NUMERIC,
                max_bytes=min(one, left),
                limit_name="array_bytes" if one <= left else "file_bytes",
            )
        self._total += arr.nbytes
        self._cache[key] = arr
        return arr


def read_member(
    path: Path,
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    *,
    kinds: str,
    max_bytes: int,
    limit_name: str,
) -> np.ndarray:
    """One ``.npy`` member, its header checked before its data are read."""
    member = info.filename
    try:
        with zf.open(info) as fh:
            shape, fortran, dtype = _npy_header(fh)
            if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
                what = "complex numbers" if dtype.kind == "c" else f"dtype {dtype}"
                if kinds == "U":
                    raise _fail(path, f"the header member {member!r} holds {what}, not text")
                raise FileFormatError(
                    f"{path}: member {member!r} holds {what}; network arrays must be real "
                    "numbers (pickled objects are never loaded)"
                )
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            if nbytes > max_bytes:
                raise FileFormatError(
                    f"{path}: member {member!r} declares shape {shape} ({format_bytes(nbytes)}), "
                    f"over the limit {limit_name} ({format_bytes(max_bytes)} left); raise it "
                    f"with LIF_BRIDGE_LIMIT_{limit_name.upper()} if the file is trusted"
                )
            if nbytes > info.file_size:
                raise _fail(path, f"member {member!r} is shorter than its header declares")
            data = _read_exactly(fh, nbytes)
            if len(data) != nbytes:
                raise _fail(path, f"member {member!r} is truncated")
            if fh.read(1):  # reading to the end also checks the CRC
                raise _fail(path, f"member {member!r} holds more data than its header declares")
    except FileFormatError:
        raise
    except _MALFORMED as exc:
        raise _fail(path, f"member {member!r}: {type(exc).__name__}: {exc}") from exc
    arr = np.frombuffer(data, dtype=dtype, count=count)
    return arr.reshape(shape, order="F" if fortran else "C")


def _npy_header(fh: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype[Any]]:
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    else:
        raise ValueError(f"unsupported .npy format version {version}")
    return tuple(int(d) for d in shape), bool(fortran), np.dtype(dtype)


def _read_exactly(fh: IO[bytes], n: int) -> bytes:
    chunks, left = [], n
    while left > 0:
        chunk = fh.read(min(left, 1 << 24))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_archive(
    path: Path, header_member: str, *, limits: Limits | None = None
) -> tuple[Any, ArchiveArrays]:
    """Read and parse the JSON header member of ``path``; the arrays stay unread.

    Returns
    -------
    tuple
        The parsed header and the lazily read arrays.

    Raises
    ------
    FileFormatError
        If the file is missing, not a zip archive, has no header member, or the header is
        over ``limits.header_bytes`` or not JSON.
    """
    lim = limits or current()
    if not path.is_file():
        raise FileFormatError(f"{path}: no such network file")
    try:
        zf = zipfile.ZipFile(path)
    except _MALFORMED as exc:
        raise _fail(path, f"not a zip archive: {type(exc).__name__}: {exc}") from exc
    with zf:
        info = next((i for i in zf.infolist() if i.filename == header_member + ".npy"), None)
        if info is None:
            raise FileFormatError(
                f"{path}: not a lif-bridge network file (no {header_member!r} member); "
                "create one with `lif-bridge convert` or lif_bridge.save_network"
            )
        arr = read_member(
            path, zf, info, kinds="U", max_bytes=lim.header_bytes, limit_name="header_bytes"
        )
        try:
            header = json.loads(str(arr.reshape(-1)[0]) if arr.size == 1 else "")
        except (ValueError, RecursionError) as exc:
            raise _fail(path, f"the header is not valid JSON: {exc}") from exc
        return header, ArchiveArrays(path, zf.infolist(), lim)
