"""Fuzzing the network-file reader: whatever the bytes, a ValidationError or a valid network.

Random truncations, byte edits, member replacements and crafted JSON headers (with sizes near
and far over the limits) must give :class:`lif_bridge.errors.ValidationError` (the file
errors are a subclass), never another exception, and never allocate more than the limits
allow (checked with tracemalloc under tightened limits). A few seconds in CI: few examples,
no deadline (the machine is shared).
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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lif_bridge import limits as lim
from lif_bridge.errors import ValidationError
from lif_bridge.network import Simulation
from lif_bridge.network.io import load_network_and_simulation, save_network
from lif_bridge.testing import random_network

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
#: Tight limits during fuzzing, so an over-allocation would show in tracemalloc's peak.
TIGHT = {"array_bytes": 2**20, "file_bytes": 2**21, "header_bytes": 2**18, "neurons": 10**5}
PEAK_BYTES = 24 * 2**20


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, bytes], Any]:
    path = tmp_path_factory.mktemp("fuzz") / "net.npz"
    save_network(path, random_network(3, "mixed"), Simulation(steps=7))
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(str(np.load(io.BytesIO(members["lif_bridge_header.npy"]))))
    return data, members, header


def _load(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(data)
    tracemalloc.start()
    try:
        with lim.override(**TIGHT):
            try:
                load_network_and_simulation(path)
            except ValidationError as exc:
                assert "\n" not in str(exc), "errors are one line"
                assert str(path) in str(exc) or "input" in str(exc) or "Network" in str(exc)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak allocation {peak} bytes over the limits"


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(value: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, value)
    return buf.getvalue()


@FUZZ
@given(cut=st.floats(0.0, 1.0))
def test_truncations(tmp_path: Path, valid: Any, cut: float) -> None:
    data = valid[0]
    _load(tmp_path, data[: int(cut * len(data))])


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(0, 255)), min_size=1, max_size=8))
def test_byte_edits(tmp_path: Path, valid: Any, edits: list[tuple[float, int]]) -> None:
    data = bytearray(valid[0])
    for where, value in edits:
        data[min(int(where * len(data)), len(data) - 1)] = value
    _load(tmp_path, bytes(data))


@FUZZ
@given(
    member=st.sampled_from(["lif_bridge_header.npy", "a0.npy", "a1.npy", "a2.npy"]),
    where=st.floats(0.0, 1.0),
    payload=st.binary(max_size=64),
    mode=st.sampled_from(["replace", "insert", "truncate", "drop"]),
)
def test_member_edits(
    tmp_path: Path, valid: Any, member: str, where: float, payload: bytes, mode: str
) -> None:
    members = dict(valid[1])
    if member not in members:
        member = "a0.npy"
    raw = members[member]
    at = int(where * len(raw))
    if mode == "replace":
        members[member] = raw[:at] + payload + raw[at + len(payload) :]
    elif mode == "insert":
        members[member] = raw[:at] + payload + raw[at:]
    elif mode == "truncate":
        members[member] = raw[:at]
    else:
        del members[member]
    _load(tmp_path, _zip(members))


_SHAPES = st.lists(st.integers(-3, 2**40), min_size=0, max_size=4)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in a JSON document (the document itself excluded)."""
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    out: list[tuple[Any, ...]] = []
    for key, child in items:
        out.append((*prefix, key))
        out += _paths(child, (*prefix, key))
    return out


@settings(FUZZ, max_examples=40)
@given(which=st.integers(0, 10**6), value=_JSON | _SHAPES, drop=st.booleans())
def test_header_edits(tmp_path: Path, valid: Any, which: int, value: Any, drop: bool) -> None:
    """Replace (or delete) one value anywhere in the header with arbitrary JSON or a shape."""
    header = json.loads(json.dumps(valid[2]))
    paths = _paths(header)
    path = paths[which % len(paths)]
    node: Any = header
    for key in path[:-1]:
        node = node[key]
    if drop and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    members = dict(valid[1])
    members["lif_bridge_header.npy"] = _npy(np.array(json.dumps(header)))
    _load(tmp_path, _zip(members))


@FUZZ
@given(
    shape=st.lists(st.integers(0, 2**31), min_size=0, max_size=4),
    dtype=st.sampled_from(["<f8", "<f4", "<i8", "<c16", "|O", "<U4", "|b1", "<M8[s]"]),
    member=st.sampled_from(["a0.npy", "a1.npy", "lif_bridge_header.npy"]),
)
def test_npy_headers(tmp_path: Path, valid: Any, shape: list[int], dtype: str, member: str) -> None:
    """A member whose .npy header declares any shape and dtype (with no or little data)."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)}
    )
    members = dict(valid[1])
    members[member] = buf.getvalue() + bytes(64)
    _load(tmp_path, _zip(members))
