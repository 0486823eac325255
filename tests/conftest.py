"""Shared fixtures: where the MNIST IDX files are.

MNIST is not downloaded; the tests read the canonical IDX files from ``$LIF_BRIDGE_DATA_DIR``
or from ``../shared/data/mnist`` beside the repository. A missing copy is an error of the
test environment, reported as such (never a skip).

Ctrl-C: the interrupt tests send SIGINT to the test process, as a terminal would. A shell
starts a background job (``nohup ... &``, many CI runners) with SIGINT *ignored*, which Python
then keeps, and Brian2 wraps whatever handler it finds at import; so the suite gives itself the
handler of an interactive Python (``signal.default_int_handler``) before anything is imported.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

SHARED_MNIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def find_mnist() -> Path:
    """The MNIST folder, or a clear failure saying where it was looked for."""
    env = os.environ.get("LIF_BRIDGE_DATA_DIR")
    for candidate in (Path(env) if env else None, SHARED_MNIST):
        if candidate is not None and any(candidate.glob("t10k-images-idx3-ubyte*")):
            return candidate
    pytest.fail(
        f"MNIST IDX files not found in $LIF_BRIDGE_DATA_DIR ({env!r}) nor in {SHARED_MNIST}: "
        "the tests need the four canonical IDX files there"
    )


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    """Folder with the MNIST IDX files."""
    return str(find_mnist())
