"""Progress bars for long work (tqdm), safe next to frameworks that fork.

tqdm guards its output with a ``multiprocessing`` lock by default; creating one fixes Python's
multiprocessing start method, after which Lava's import (which sets the start method to
``fork``) fails. The bars made here use a threading lock instead, and nothing at all is created
when the bar is disabled.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["progress_bar"]


class _NoBar:
    """Stands in for a disabled bar."""

    def update(self, n: int = 1) -> None:
        """Do nothing."""

    def set_postfix_str(self, s: str) -> None:
        """Do nothing."""

    def close(self) -> None:
        """Do nothing."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def progress_bar(total: int | None, desc: str, *, enabled: bool = True, unit: str = "it") -> Any:
    """A tqdm bar (threading lock), or a no-op stand-in when ``enabled`` is false."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    tqdm.set_lock(threading.RLock())
    return tqdm(total=total, desc=desc, unit=unit)
