"""Output paths on the command line: checked before the work, one line, exit 2, nothing written.

``run --save`` equal to an input, a directory, a read-only folder, a file used as a folder;
``convert -o`` the same; ``demo`` never writes into the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import main
from lif_bridge.network import Dense, Network, Neurons
from lif_bridge.network.io import save_network


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    net = Network(input_shape=(4,), layers=(Dense(weight=rng.random((3, 4)), neurons=Neurons()),))
    return save_network(tmp_path / "net.npz", net)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "x.npz"
    np.savez(path, x=np.full((2, 4), 0.5))
    return path


def _run(net: Path, data: Path, *extra: str) -> int:
    return main(["run", str(net), "--data", str(data), "--steps", "5", "--no-progress", *extra])


def test_save_over_the_network_is_refused(
    net_file: Path, data_file: Path, one_line: Callable[..., str]
) -> None:
    before = net_file.read_bytes()
    assert _run(net_file, data_file, "--save", str(net_file)) == 2
    one_line("--save", "also an input")
    assert net_file.read_bytes() == before


def test_save_over_the_data_is_refused(
    net_file: Path, data_file: Path, one_line: Callable[..., str]
) -> None:
    assert _run(net_file, data_file, "--save", str(data_file)) == 2
    one_line("also an input")


def test_save_to_a_directory_is_refused_before_the_run(
    net_file: Path, data_file: Path, one_line: Callable[..., str], monkeypatch
) -> None:
    import lif_bridge.cli.run as run_cli

    def no_run(*a: object, **k: object) -> None:
        raise AssertionError("the backend was reached")

    monkeypatch.setattr(run_cli, "get_backend", no_run)
    assert _run(net_file, data_file, "--save", str(net_file.parent)) == 2
    one_line("is a directory")
    (net_file.parent / "f").write_text("")
    assert _run(net_file, data_file, "--save", str(net_file.parent / "f" / "out.npz")) == 2
    one_line("is not a directory")


def test_save_in_a_read_only_folder_is_refused(
    net_file: Path, data_file: Path, one_line: Callable[..., str], monkeypatch
) -> None:
    ro = net_file.parent / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere: show the check what a user would see
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: False if Path(p) == ro else real(p, m))
    try:
        assert _run(net_file, data_file, "--save", str(ro / "c.npz")) == 2
        one_line("cannot write in", "ro")
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_save_written_with_the_umask(
    net_file: Path, data_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o002)
    try:
        assert _run(net_file, data_file, "--save", str(net_file.parent / "c.npz"), "--json") == 0
    finally:
        os.umask(old)
    assert (net_file.parent / "c.npz").stat().st_mode & 0o777 == 0o664


def test_demo_writes_into_the_cache_not_the_current_folder(
    tmp_path: Path, monkeypatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lif_bridge.cli.demo import default_out

    cwd = tmp_path / "clone"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("LIF_BRIDGE_CACHE", str(tmp_path / "cache"))
    assert default_out() == tmp_path / "cache" / "demo"
    monkeypatch.delenv("LIF_BRIDGE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_out() == tmp_path / "xdg" / "lif-bridge" / "demo"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_out() == tmp_path / "home" / ".cache" / "lif-bridge" / "demo"
    assert list(cwd.iterdir()) == []


def test_demo_unknown_backend_fails_before_training(
    monkeypatch, one_line: Callable[..., str], tmp_path: Path
) -> None:
    import lif_bridge.cli.demo as demo

    def no_training(*a: object, **k: object) -> None:
        raise AssertionError("trained before checking the backend")

    monkeypatch.setattr(demo, "_network", no_training)
    assert main(["demo", "--backend", "nest", "--out", str(tmp_path)]) == 2
    one_line("'nest' is not registered", "reference")


def test_convert_output_checked_first(tmp_path: Path, one_line: Callable[..., str]) -> None:
    """-o inside a file: refused before the model is loaded (no torch needed to see it)."""
    (tmp_path / "f").write_text("")
    code = main(
        [
            "convert",
            "pkg.mod:factory",
            "--weights",
            "w.pt",
            "--input-shape",
            "4",
            "-o",
            str(tmp_path / "f" / "net.npz"),
        ]
    )
    assert code == 2
    one_line("-o/--output", "is not a directory")


def test_convert_factory_without_weights_refused(
    tmp_path: Path, one_line: Callable[..., str]
) -> None:
    code = main(
        [
            "convert",
            "lif_bridge.zoo:digits_mlp",
            "--input-shape",
            "1",
            "8",
            "8",
            "-o",
            str(tmp_path / "n.npz"),
        ]
    )
    assert code == 2
    one_line("--weights", "--factory-weights")
    assert not (tmp_path / "n.npz").exists()
