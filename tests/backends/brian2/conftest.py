"""Brian2 tests that run the returned ``brian2`` objects themselves use NumPy code generation.

``to_brian2`` hands a lab plain Brian2 objects; running them uses Brian2's global
``codegen.target`` (``"auto"``: Cython when a compiler is found), which would compile every
code object into Brian2's own Cython cache, cold on a fresh machine, for minutes. Those tests
check what the objects do, not a code target: NumPy here, restored afterwards. The programs of
the backend set their target themselves (``device="runtime" | "cython"``), and the Cython
target is checked against the reference in ``tests/conformance``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def numpy_codegen_for_raw_brian2_objects() -> Iterator[None]:
    import brian2 as b2

    before = b2.prefs["codegen.target"]
    b2.prefs["codegen.target"] = "numpy"
    try:
        yield
    finally:
        b2.prefs["codegen.target"] = before
