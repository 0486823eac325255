"""Shared fixtures of the core tests: the CLI's one-line error contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

__all__ = ["one_line"]


@pytest.fixture
def one_line(capsys: pytest.CaptureFixture[str]) -> Callable[..., str]:
    """Check the command's stderr: one ``lif-bridge: error:`` line naming every needle.

    Returns ``check(*needles)``, which reads the captured stderr, asserts that it is exactly
    one line, that line the ``lif-bridge: error:`` message, without a traceback, containing
    every needle, and returns it.
    """

    def check(*needles: str) -> str:
        err = capsys.readouterr().err
        errors = [ln for ln in err.splitlines() if ln.startswith("lif-bridge: error:")]
        assert len(errors) == 1, err
        assert err.count("\n") == 1, err
        assert "Traceback" not in err
        for n in needles:
            assert n in err, err
        return err

    return check


@pytest.fixture
def same_nir_file() -> Callable[[Path, Path], None]:
    """``check(want, got)``: two NIR files hold the same edges, node kinds and arrays."""

    def check(want_path: Path, got_path: Path) -> None:
        import nir

        want = nir.read(want_path, type_check=False)
        got = nir.read(got_path, type_check=False)
        assert sorted(want.edges) == sorted(got.edges)
        for name, node in got.nodes.items():
            assert type(want.nodes[name]) is type(node), name
            for field, value in node.to_dict().items():
                if isinstance(value, np.ndarray):
                    np.testing.assert_array_equal(want.nodes[name].to_dict()[field], value, name)

    return check
