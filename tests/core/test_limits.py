"""Hostile network files and huge runs: declared sizes are checked before anything is allocated.

:mod:`lif_bridge.limits` and :mod:`lif_bridge.network._archive`: a small file declaring a huge
array, layer or input, a zip bomb in an unreferenced member, complex or object arrays, and runs
asking for 10^12 steps are refused with one error naming the file/parameter and the limit.
"""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lif_bridge import limits as lim
from lif_bridge.errors import FileFormatError, ValidationError
from lif_bridge.network import Dense, Network, Neurons
from lif_bridge.network.io import load_network, save_network


def _net() -> Network:
    rng = np.random.default_rng(0)
    return Network(
        input_shape=(4,),
        layers=(
            Dense(weight=rng.random((3, 4)), neurons=Neurons(), name="h"),
            Dense(weight=rng.random((2, 3)), neurons=Neurons(), name="out"),
        ),
    )


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def _write(path: Path, members: dict[str, bytes], extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in {**members, **(extra or {})}.items():
            zf.writestr(name, data)
    return path


def _npy_header_only(shape: tuple[int, ...], dtype: str = "<f8") -> bytes:
    """A .npy member that declares ``shape`` but carries no data (a lying header)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": shape}
    )
    return buf.getvalue()


def _header(path: Path) -> dict[str, Any]:
    raw = _members(path)["lif_bridge_header.npy"]
    arr = np.load(io.BytesIO(raw))
    return json.loads(str(arr))


def _with_header(path: Path, header: dict[str, Any], out: Path) -> Path:
    members = _members(path)
    buf = io.BytesIO()
    np.save(buf, np.array(json.dumps(header)))
    members["lif_bridge_header.npy"] = buf.getvalue()
    return _write(out, members)


def test_declared_huge_array_is_refused_before_allocating(tmp_path: Path) -> None:
    """A ~100-byte member declaring a 2^20 x 2^20 float64 weight (8 TiB) is refused."""
    src = save_network(tmp_path / "ok.npz", _net())
    members = _members(src)
    members["a0.npy"] = _npy_header_only((2**20, 2**20))
    bad = _write(tmp_path / "huge.npz", members)
    assert bad.stat().st_size < 20_000
    tracemalloc.start()
    try:
        with pytest.raises(FileFormatError, match=r"huge\.npz: member 'a0\.npy' .*array_bytes"):
            load_network(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20


def test_header_shorter_than_declared_is_refused(tmp_path: Path) -> None:
    src = save_network(tmp_path / "ok.npz", _net())
    members = _members(src)
    members["a0.npy"] = _npy_header_only((3, 4))
    with pytest.raises(FileFormatError, match=r"a0\.npy"):
        load_network(_write(tmp_path / "short.npz", members))


def test_zip_bomb_in_unreferenced_member_is_never_inflated(tmp_path: Path) -> None:
    """256 MiB of zeros (a ~250 KB member) that the header never references is not read."""
    src = save_network(tmp_path / "ok.npz", _net())
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (2**25,)}
    )
    payload = buf.getvalue() + bytes(2**28)
    bad = _write(tmp_path / "bomb.npz", _members(src), {"zz_bomb.npy": payload})
    assert bad.stat().st_size < 2**20
    tracemalloc.start()
    try:
        net = load_network(bad)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert net == _net()
    assert peak < 16 * 2**20, f"peak {peak} bytes: the unreferenced member was inflated"


def test_referenced_bomb_is_bounded_by_the_limit(tmp_path: Path) -> None:
    src = save_network(tmp_path / "ok.npz", _net())
    members = _members(src)
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": "<f8", "fortran_order": False, "shape": (2**22, 4)}
    )
    members["a0.npy"] = buf.getvalue() + bytes(8 * 4 * 2**22)  # 128 MiB of zeros
    bad = _write(tmp_path / "rbomb.npz", members)
    with lim.override(array_bytes=2**20), pytest.raises(FileFormatError, match="array_bytes"):
        load_network(bad)


def test_declared_huge_input_or_layers_refused(tmp_path: Path) -> None:
    src = save_network(tmp_path / "ok.npz", _net())
    header = _header(src)
    header["network"]["input_shape"] = [10**7, 10**7]
    header["network"]["layers"].insert(0, {"type": "Flatten", "name": "f"})
    bad = _with_header(src, header, tmp_path / "wide.npz")
    with pytest.raises(FileFormatError, match=r"wide\.npz: input size .* limit neurons"):
        load_network(bad)
    header = _header(src)
    header["network"]["layers"] = [{"type": "Flatten"}] * 20
    with lim.override(layers=10), pytest.raises(FileFormatError, match="limit layers = 10"):
        load_network(_with_header(src, header, tmp_path / "deep.npz"))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (np.ones((3, 4), dtype=np.complex128), "complex numbers"),
        (np.array(["a", "b"]), "dtype <U1"),
    ],
)
def test_non_real_arrays_refused(tmp_path: Path, value: np.ndarray, match: str) -> None:
    src = save_network(tmp_path / "ok.npz", _net())
    members = _members(src)
    buf = io.BytesIO()
    np.save(buf, value)
    members["a0.npy"] = buf.getvalue()
    with pytest.raises(FileFormatError, match=match):
        load_network(_write(tmp_path / "c.npz", members))


def test_unknown_encoder_named(tmp_path: Path) -> None:
    from lif_bridge.network import Simulation

    src = save_network(tmp_path / "ok.npz", _net(), Simulation(steps=5))
    header = _header(src)
    header["simulation"]["encoder"]["type"] = "Burst"
    with pytest.raises(FileFormatError, match=r"unknown type 'Burst'.*RegularRate"):
        load_network(_with_header(src, header, tmp_path / "enc.npz"))


def test_deeply_nested_header_is_a_format_error(tmp_path: Path) -> None:
    src = save_network(tmp_path / "ok.npz", _net())
    members = _members(src)
    buf = io.BytesIO()
    np.save(buf, np.array("[" * 100_000 + "]" * 100_000))
    members["lif_bridge_header.npy"] = buf.getvalue()
    with pytest.raises(FileFormatError, match="header is not valid JSON"):
        load_network(_write(tmp_path / "deep.npz", members))


def test_env_overrides_and_bad_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIF_BRIDGE_LIMIT_STEPS", "1e3")
    assert lim.current().steps == 1000
    monkeypatch.setenv("LIF_BRIDGE_LIMIT_STEPS", "lots")
    with pytest.raises(ValidationError, match=r"LIF_BRIDGE_LIMIT_STEPS must be a number"):
        lim.current()
    with pytest.raises(ValidationError, match="unknown limit"), lim.override(stepz=3):
        pass


def test_huge_run_refused_with_an_estimate() -> None:
    net = _net()
    with pytest.raises(ValidationError, match=r"--steps = 1,000,000,000,000 .*memory .* limit"):
        lim.check_run(net, 10**12, 10, what="--steps")
    with pytest.raises(ValidationError, match=r"memory_bytes"), lim.override(steps=10**13):
        lim.check_run(net, 10**12, 10, what="--steps")
    with pytest.raises(ValidationError, match=r"run_seconds"):
        lim.check_run(net, 10**7, 10**5, what="steps")
    est = lim.check_run(net, 100, 10)
    assert est.memory_bytes == 100 * 4 + 10 * 5 * 8
    assert 0 < est.seconds < 1


def test_cli_run_refuses_huge_steps_before_running(tmp_path: Path, capsys) -> None:
    from lif_bridge.cli import main

    path = save_network(tmp_path / "n.npz", _net())
    data = tmp_path / "x.npz"
    np.savez(data, x=np.full((3, 4), 0.5))
    assert main(["run", str(path), "--data", str(data), "--steps", str(10**12)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--steps" in err and "memory" in err


def test_series_of_runs_checks_the_largest_window_and_the_total_time() -> None:
    net = Network(input_shape=(10,), layers=(Dense(weight=np.ones((10, 10)), neurons=Neurons()),))
    one = lim.check_run(net, 100, 1_000)
    three = lim.check_runs(net, [100, 100, 100], 1_000)
    assert three.memory_bytes == one.memory_bytes
    assert three.seconds == pytest.approx(3 * one.seconds)
    with lim.override(run_seconds=2.5 * one.seconds):
        lim.check_runs(net, [100, 100], 1_000)
        with pytest.raises(ValidationError, match=r"\(3 runs\).*run_seconds"):
            lim.check_runs(net, [100, 100, 100], 1_000)
    assert lim.check_runs(net, [], 1_000).seconds == 0.0
