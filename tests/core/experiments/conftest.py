"""Shared fixtures of the experiment tests: where MNIST is (skip when absent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_FALLBACK = Path("/work/shared/data/mnist")


@pytest.fixture(scope="session")
def mnist_dir() -> str:
    """Folder with the MNIST IDX files ($LIF_BRIDGE_DATA_DIR or the shared copy), else skip."""
    env = os.environ.get("LIF_BRIDGE_DATA_DIR")
    for candidate in (Path(env) if env else None, _FALLBACK):
        if candidate is not None and any(candidate.glob("t10k-images-idx3-ubyte*")):
            return str(candidate)
    pytest.skip("MNIST IDX files not found (set LIF_BRIDGE_DATA_DIR)")
