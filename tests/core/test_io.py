"""Tests of the network file format: exact round trips, corrupt files, atomic saves, no pickle."""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lif_bridge.network.io as nio
from lif_bridge import (
    FORMAT_VERSION,
    ConstantCurrent,
    Dense,
    FileFormatError,
    LifBridgeError,
    Network,
    Neurons,
    Poisson,
    Readout,
    RegularRate,
    Simulation,
    load_network,
    save_network,
)
from lif_bridge.network.io import load_network_and_simulation
from lif_bridge.testing import ARCHITECTURES, random_network


def _small() -> Network:
    """A one-layer network with per-neuron parameters and metadata."""
    return Network(
        input_shape=(3,),
        layers=(
            Dense(
                name="out",
                weight=[[1.0, -2.0, 0.5], [0.25, 0.0, 3.0]],
                neurons=Neurons(v_th=[1.0, 2.0], g_l=0.5, refractory=0.02),
                ann_bias=[0.1, -0.1],
                ann_activation="identity",
                rate_scale=7.5,
            ),
        ),
        max_rate=80.0,
        metadata={"source": "test", "nested": {"k": [1, 2]}},
    )


def _header_zip(path: Path, header: Any, **arrays: np.ndarray) -> Path:
    """Write an npz whose header member holds ``header`` as JSON (crafted files)."""
    np.savez(path, lif_bridge_header=np.array(json.dumps(header)), **arrays)
    return path


def _valid_header(tmp_path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The header and arrays of a real saved file, for crafting variants."""
    f = save_network(tmp_path / "ref.npz", _small())
    with np.load(f) as z:
        header = json.loads(str(z["lif_bridge_header"]))
        arrays = {k: z[k] for k in z.files if k != "lif_bridge_header"}
    return header, arrays


@pytest.mark.parametrize("architecture", ARCHITECTURES)
@pytest.mark.parametrize(
    ("per_neuron", "refractory", "reset"), [(False, 0.0, "subtract"), (True, 0.03, "zero")]
)
def test_round_trip_random_networks(
    tmp_path: Path, architecture: str, per_neuron: bool, refractory: float, reset: str
) -> None:
    """save -> load gives an equal network (arrays bit for bit), with no simulation stored."""
    net = random_network(5, architecture, per_neuron=per_neuron, refractory=refractory, reset=reset)
    path = save_network(tmp_path / "net.npz", net)
    loaded, sim = load_network_and_simulation(path)
    assert sim is None
    assert loaded == net
    for a, b in zip(loaded.layers, net.layers, strict=True):
        assert type(a) is type(b) and a.name == b.name
        for field in ("stride", "padding", "dilation", "kernel_size"):
            if hasattr(b, field):
                assert getattr(a, field) == getattr(b, field)
                assert isinstance(getattr(a, field), tuple)
    assert loaded.populations[-1].layer.neurons.refractory == refractory


@pytest.mark.parametrize(
    "simulation",
    [
        Simulation(
            steps=123,
            dt=0.002,
            encoder=Poisson(seed=42),
            max_rate=300.0,
            readout=Readout(counts=("conv0",), traces=("conv0", "dense5")),
        ),
        Simulation(steps=7, encoder=RegularRate(), readout=Readout(counts="all")),
        Simulation(steps=1, dt=0.5, encoder=ConstantCurrent(), max_rate=9.0),
    ],
)
def test_round_trip_with_simulation(tmp_path: Path, simulation: Simulation) -> None:
    """The stored simulation (encoder, seed, readout, max_rate) comes back equal."""
    net = random_network(1, "mixed", per_neuron=True)
    path = save_network(tmp_path / "with_sim.npz", net, simulation)
    loaded, sim = load_network_and_simulation(path)
    assert loaded == net
    assert sim == simulation
    assert load_network(path) == net


def test_round_trip_metadata_ann_fields_and_suffix(tmp_path: Path) -> None:
    """Metadata, max_rate, ann_bias, rate_scale survive; '.npz' is appended when missing."""
    path = save_network(tmp_path / "sub" / "model", _small())
    assert path == tmp_path / "sub" / "model.npz" and path.is_file()
    loaded = load_network(path)
    assert loaded == _small()
    assert loaded.metadata == {"source": "test", "nested": {"k": [1, 2]}}
    assert loaded.max_rate == 80.0
    assert loaded.layers[0].rate_scale == 7.5
    assert loaded.layers[0].ann_activation == "identity"
    np.testing.assert_array_equal(loaded.layers[0].ann_bias, [0.1, -0.1])


def test_header_is_documented_json(tmp_path: Path) -> None:
    """The header member is JSON with format tag and version; arrays are referenced by '@key'."""
    header, arrays = _valid_header(tmp_path)
    assert header["format"] == "lif-bridge-network"
    assert FORMAT_VERSION == 2
    assert header["version"] == 1  # a chain is written as version 1 (0.1 reads it)
    layer = header["network"]["layers"][0]
    assert layer["type"] == "Dense"
    key = layer["weight"]
    assert key.startswith("@")
    np.testing.assert_array_equal(arrays[key[1:]], _small().layers[0].weight)
    assert all(a.dtype == np.float64 for a in arrays.values())


def test_unserialisable_metadata_refused(tmp_path: Path) -> None:
    """Metadata that is not JSON gives a LifBridgeError naming the file, and writes nothing."""
    net = Network(input_shape=(3,), layers=_small().layers, metadata={"f": object()})
    with pytest.raises(LifBridgeError, match=r"bad\.npz: network metadata must be JSON"):
        save_network(tmp_path / "bad.npz", net)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- broken files


def test_missing_file(tmp_path: Path) -> None:
    """A missing file is a FileFormatError naming it."""
    with pytest.raises(FileFormatError, match=r"absent\.npz: no such network file"):
        load_network(tmp_path / "absent.npz")


def test_corrupt_bytes(tmp_path: Path) -> None:
    """Random bytes are refused as corrupt, naming the file."""
    path = tmp_path / "garbage.npz"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(FileFormatError, match=r"garbage\.npz: corrupt or truncated network file"):
        load_network(path)


def test_truncated_file(tmp_path: Path) -> None:
    """A real network file cut in half is refused as corrupt or truncated."""
    path = save_network(tmp_path / "full.npz", random_network(0, "mixed"))
    data = path.read_bytes()
    cut = tmp_path / "half.npz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match=r"half\.npz: corrupt or truncated"):
        load_network(cut)


def test_plain_npz_without_header(tmp_path: Path) -> None:
    """An ordinary .npz is not a network file; the message says how to make one."""
    path = tmp_path / "weights.npz"
    np.savez(path, w=np.ones((2, 2)))
    with pytest.raises(
        FileFormatError,
        match=r"weights\.npz: not a lif-bridge network file \(no 'lif_bridge_header' member\)",
    ):
        load_network(path)


def test_future_version_refused(tmp_path: Path) -> None:
    """A file of a newer format version asks to upgrade lif-bridge."""
    header, arrays = _valid_header(tmp_path)
    header["version"] = FORMAT_VERSION + 1
    path = _header_zip(tmp_path / "future.npz", header, **arrays)
    with pytest.raises(
        FileFormatError,
        match=rf"future\.npz: written by a newer lif-bridge \(format version {FORMAT_VERSION + 1}"
        r".*upgrade lif-bridge",
    ):
        load_network(path)


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"format": "something-else"}, r"not a lif-bridge network file \(wrong format tag\)"),
        ({"version": 0}, r"invalid format version 0"),
        ({"version": "1"}, r"invalid format version '1'"),
    ],
)
def test_bad_format_tag_or_version(tmp_path: Path, change: dict, pattern: str) -> None:
    """Wrong format tags and non-integer or zero versions are refused."""
    header, arrays = _valid_header(tmp_path)
    header.update(change)
    path = _header_zip(tmp_path / "odd.npz", header, **arrays)
    with pytest.raises(FileFormatError, match=r"odd\.npz: " + pattern):
        load_network(path)


def test_missing_array_reference(tmp_path: Path) -> None:
    """A header referencing an array that is not in the archive names the array and file."""
    header, arrays = _valid_header(tmp_path)
    header["network"]["layers"][0]["weight"] = "@a99"
    path = _header_zip(tmp_path / "holes.npz", header, **arrays)
    with pytest.raises(FileFormatError, match=r"holes\.npz: array 'a99' referenced but missing"):
        load_network(path)


def test_header_not_json_and_bad_description(tmp_path: Path) -> None:
    """Non-JSON headers, unknown layer types and invalid fields are FileFormatErrors."""
    path = tmp_path / "notjson.npz"
    np.savez(path, lif_bridge_header=np.array("{not json"))
    with pytest.raises(FileFormatError, match=r"notjson\.npz: corrupt"):
        load_network(path)

    header, arrays = _valid_header(tmp_path)
    header["network"]["layers"][0]["type"] = "Recurrent"
    with pytest.raises(FileFormatError, match=r"unknown layer type"):
        load_network(_header_zip(tmp_path / "rec.npz", header, **arrays))

    header, arrays = _valid_header(tmp_path)
    header["network"]["layers"][0]["neurons"]["c_m"] = -1.0
    with pytest.raises(FileFormatError, match=r"bad\.npz: invalid network description .*c_m"):
        load_network(_header_zip(tmp_path / "bad.npz", header, **arrays))

    header, arrays = _valid_header(tmp_path)
    del header["network"]
    with pytest.raises(FileFormatError, match=r"nonet\.npz: invalid network description"):
        load_network(_header_zip(tmp_path / "nonet.npz", header, **arrays))


class _Marker:
    """Unpickling this creates a folder: proof that a pickle was executed."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return (os.mkdir, (self.path,))


def test_object_arrays_are_never_unpickled(tmp_path: Path) -> None:
    """Object arrays (pickles) in the header or an array member are refused, never executed."""
    marker = tmp_path / "pwned"
    obj = np.empty(1, dtype=object)
    obj[0] = _Marker(str(marker))

    as_header = tmp_path / "obj_header.npz"
    np.savez(as_header, lif_bridge_header=obj)
    with pytest.raises(FileFormatError, match=r"obj_header\.npz: corrupt"):
        load_network(as_header)

    header, arrays = _valid_header(tmp_path)
    arrays["a0"] = obj
    as_array = _header_zip(tmp_path / "obj_array.npz", header, **arrays)
    with pytest.raises(FileFormatError, match=r"obj_array\.npz"):
        load_network(as_array)
    assert not marker.exists()


# --------------------------------------------------------------------------- atomic save


def _failing_savez(written: list[int]) -> Any:
    """A savez_compressed that writes part of an archive, then fails."""

    def fake(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK\x03\x04partial archive")
        written.append(1)
        raise OSError("disk full (simulated)")

    return fake


def test_interrupted_save_creates_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A save that fails midway leaves no target and no temporary file."""
    written: list[int] = []
    monkeypatch.setattr(nio.np, "savez_compressed", _failing_savez(written))
    with pytest.raises(OSError, match="disk full"):
        save_network(tmp_path / "net.npz", _small())
    assert written == [1]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("exc", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_save_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exc: BaseException
) -> None:
    """Overwriting fails midway: the previous file is intact and still loads; no temp file."""
    path = save_network(tmp_path / "net.npz", _small())
    before = path.read_bytes()

    def fake(file: Any, *args: Any, **kwargs: Any) -> None:
        file.write(b"PK\x03\x04partial")
        raise exc

    monkeypatch.setattr(nio.np, "savez_compressed", fake)
    with pytest.raises(type(exc)):
        save_network(path, random_network(0, "dense"))
    assert path.read_bytes() == before
    assert load_network(path) == _small()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_saved_file_is_a_valid_zip(tmp_path: Path) -> None:
    """The archive passes zip CRC checks and has the header plus a0, a1, ... members."""
    path = save_network(tmp_path / "net.npz", random_network(2, "conv_avg", per_neuron=True))
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as z:
        assert z.testzip() is None
        names = sorted(n.removesuffix(".npy") for n in z.namelist())
    assert "lif_bridge_header" in names
    assert all(n == "lif_bridge_header" or n.startswith("a") for n in names)


def test_flipped_bytes_in_member(tmp_path: Path) -> None:
    """Damage inside a compressed member is caught (CRC or inflate error), not returned."""
    path = save_network(tmp_path / "net.npz", random_network(0, "dense"))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("a0.npy")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 20, start + 60):
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"net\.npz: corrupt or truncated"):
        load_network(path)
