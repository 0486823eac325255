"""Tests of :mod:`lif_bridge.fileio`: atomic writes that honour the umask, output-path checks."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.errors import ValidationError
from lif_bridge.fileio import atomic_path, atomic_write, check_writable


@pytest.fixture
def umask_027():
    old = os.umask(0o027)
    try:
        yield 0o027
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        p = atomic_write(tmp_path / "a.txt", "hello")
        assert _mode(p) == 0o644
        os.umask(0o002)
        q = atomic_write(tmp_path / "b.txt", b"x")
        assert _mode(q) == 0o664
    finally:
        os.umask(old)
    assert p.read_text() == "hello"


def test_every_writer_honours_the_umask(tmp_path: Path, umask_027: int) -> None:
    """Network files, run --save, plots, zoo weights and sweep rows: mode 0o640 under 027."""
    from lif_bridge.cli.run import write_npz
    from lif_bridge.network.io import save_network
    from lif_bridge.plots import new_figure, save_figure
    from lif_bridge.study.store import SweepStore
    from lif_bridge.testing import random_network
    from lif_bridge.zoo import save_state_npz

    written = [
        save_network(tmp_path / "net.npz", random_network(seed=0)),
        write_npz(tmp_path / "counts.npz", counts=np.zeros(3)),
        save_state_npz({"w": np.ones(2)}, tmp_path / "w.npz"),
    ]
    fig, _ = new_figure()
    written.append(save_figure(fig, tmp_path / "fig.png"))
    SweepStore(tmp_path / "sweep", {"network": "n", "data": "d"})
    written.append(tmp_path / "sweep" / "sweep.json")
    for path in written:
        assert _mode(path) == 0o640, path
    assert not [p for p in tmp_path.rglob(".*") if p.name.startswith(".")], "temp files left"


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_check_writable_refuses_an_input_as_output(tmp_path: Path) -> None:
    net = tmp_path / "net.npz"
    net.write_bytes(b"x")
    with pytest.raises(ValidationError, match=r"--save .*also an input"):
        check_writable(tmp_path / "." / "net.npz", what="--save", inputs=[net])


def test_check_writable_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="is a directory"):
        check_writable(tmp_path, what="--out")


def test_check_writable_refuses_a_file_as_folder(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ValidationError, match="is not a directory"):
        check_writable(tmp_path / "file" / "sub" / "x.npz", what="--save")


def test_check_writable_refuses_a_read_only_folder(tmp_path: Path, monkeypatch) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: make the permission check see what a user sees
        real = os.access
        monkeypatch.setattr(
            os, "access", lambda p, m: False if Path(p) == ro else real(p, m), raising=True
        )
    try:
        with pytest.raises(ValidationError, match=r"cannot write in .*ro"):
            check_writable(ro / "x.npz", what="--save")
    finally:
        ro.chmod(0o755)


def test_check_writable_accepts_a_new_nested_path(tmp_path: Path) -> None:
    assert check_writable(tmp_path / "a" / "b" / "x.npz", what="-o") == tmp_path / "a" / "b" / (
        "x.npz"
    )
    assert not (tmp_path / "a").exists(), "checking must not create folders"
