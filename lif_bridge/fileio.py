"""The one way lif-bridge writes a file: atomically, with the permissions the umask gives.

Every writer of the package (network files, ``run --save``, plots, zoo weights, sweep rows and
reports) goes through :func:`atomic_write` or :func:`atomic_path`: the data go to a temporary
file in the target's folder, are flushed and ``fsync``-ed, the file gets mode ``0o666 & ~umask``
(what ``open()`` would give; :func:`tempfile.mkstemp` alone gives ``0o600``), and it is renamed
over the target. An interrupted write leaves the old file (or none), never half a file.

:func:`check_writable` checks an output path *before* the work that produces it, so a read-only
folder, a directory given as the target or an output that is also an input fail at once in one
line instead of after a long run.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from lif_bridge.errors import ValidationError

__all__ = ["atomic_path", "atomic_write", "check_writable", "check_writable_folder", "umask"]


def umask() -> int:
    """The process's current umask (read without changing it for longer than one call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed over ``path`` when the block ends normally.

    For writers that need a file name (``matplotlib.savefig``, ``numpy.savez``): write to the
    yielded path inside the ``with`` block. On an exception the temporary file is removed and
    ``path`` is untouched. The folder is created if missing.

    Parameters
    ----------
    path
        The final file.

    Yields
    ------
    pathlib.Path
        The temporary file to write (same folder, same suffix, hidden name).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` (``str`` as UTF-8) to ``path`` atomically, umask honoured.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return Path(path)


def check_writable(
    path: str | os.PathLike[str],
    *,
    what: str,
    inputs: Iterable[str | os.PathLike[str] | None] = (),
) -> Path:
    """Check, before any work, that ``path`` can be written as a file.

    Parameters
    ----------
    path
        The output file.
    what
        The option or parameter naming it in errors (e.g. ``"--save"``).
    inputs
        Files the same command reads; an output equal to one of them is refused (the write
        would destroy the input).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValidationError
        If ``path`` is a directory, is one of ``inputs``, or its folder cannot be created or
        written to.
    """
    path = Path(path)
    target = path.resolve()
    for src in inputs:
        if src is not None and Path(src).resolve() == target:
            raise ValidationError(
                f"{what} {path}: is also an input of this command; writing it would destroy "
                "the input, choose another file"
            )
    if path.is_dir():
        raise ValidationError(f"{what} {path}: is a directory; give a file name")
    folder = _existing_parent(path.parent)
    if not folder.is_dir():
        raise ValidationError(f"{what} {path}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK) or not _can_create_in(folder):
        raise ValidationError(
            f"{what} {path}: cannot write in {folder} (read-only or no permission); choose "
            "a writable folder"
        )
    return path


def check_writable_folder(folder: str | os.PathLike[str], *, what: str) -> Path:
    """Check, before any work, that an output folder exists or can be created, and is writable.

    Parameters
    ----------
    folder
        The output folder (created later by the command, with its parents).
    what
        The option naming it in errors (e.g. ``"--out"``).

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    ValidationError
        If ``folder`` (or the nearest existing ancestor) is a file, or no file can be created
        in it.
    """
    folder = Path(folder)
    existing = _existing_parent(folder)
    if not existing.is_dir():
        raise ValidationError(
            f"{what} {folder}: {existing} is a file, not a folder; choose a folder name"
        )
    if not os.access(existing, os.W_OK | os.X_OK) or not _can_create_in(existing):
        raise ValidationError(
            f"{what} {folder}: cannot write in {existing} (read-only or no permission); "
            "choose a writable folder"
        )
    return folder


def _can_create_in(folder: Path) -> bool:
    """Whether a file can really be created in ``folder`` (catches read-only mounts, ACLs)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".lif-bridge-probe.", dir=folder)
    except OSError:
        return False
    os.close(fd)
    os.unlink(name)
    return True


def _existing_parent(folder: Path) -> Path:
    """``folder`` or the nearest ancestor that exists (where the missing folders would go)."""
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder
