"""The queue-free propagation of zero-delay pathways (``lif_bridge_brian2.walk``).

Compared with Brian2's own spike queue in one ``cpp_standalone`` project: the same synapses,
weights spread over sixteen orders of magnitude (so that any change of summation order shows in
the last bits), several synapses per pair, sources without synapses; the potentials must be
bit-identical at every step, serially and split over two OpenMP threads. A walked pathway whose
synapses are not sorted by source (split over threads: by source, then target) is refused by the
binary in one line.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.brian2

N_SRC, N_TGT, STEPS = 40, 30, 60


def _synapses(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random synapses sorted by source (sources 0-3 have none), repeated pairs included."""
    pre = rng.integers(4, N_SRC, 900)
    post = rng.integers(0, N_TGT, 900)
    order = np.lexsort((post, pre))
    weights = rng.normal(size=900) * 10.0 ** rng.uniform(-8, 8, 900)
    return pre[order].astype(np.int32), post[order].astype(np.int32), weights


def _project(folder: Path, pre: np.ndarray, post: np.ndarray, w: np.ndarray, *, order: np.ndarray
             ) -> tuple[Any, Any, Any]:  # fmt: skip
    """Build (not run) a project with one queued and one walked copy of the synapses."""
    import brian2 as b2
    from lif_bridge_brian2.walk import SourceWalkCodeObject, enable_walk, walk_code_object_class

    rng = np.random.default_rng(1)
    trains = b2.TimedArray((rng.random((STEPS, N_SRC)) < 0.3).astype(float), dt=b2.defaultclock.dt)
    src = b2.NeuronGroup(N_SRC, "", threshold="trains(t, i) > 0.5", namespace={"trains": trains})
    queued, walked = (b2.NeuronGroup(N_TGT, "v : 1") for _ in range(2))
    s_queue = b2.Synapses(src, queued, "w : 1", on_pre="v_post += w")
    cls = walk_code_object_class(src, 0, "v_post += w")
    assert cls is SourceWalkCodeObject
    s_walk = b2.Synapses(src, walked, "w : 1", on_pre="v_post += w", codeobj_class=cls)
    enable_walk(s_walk)
    s_queue.connect(i=pre, j=post)
    s_walk.connect(i=pre[order], j=post[order])
    s_queue.w, s_walk.w = w, w[order]
    mons = [b2.StateMonitor(g, "v", record=True) for g in (queued, walked)]
    net = b2.Network(src, queued, walked, s_queue, s_walk, *mons)
    net.run(STEPS * b2.defaultclock.dt)
    b2.device.build(directory=str(folder), compile=True, run=False, with_output=False)
    return mons[0], mons[1], s_walk


def _in_standalone(
    tmp_path: Path, threads: int, unsorted: str = ""
) -> tuple[np.ndarray, np.ndarray, str, str]:
    """Potentials of both copies (empty if the binary failed), its stderr, the walked name.

    ``unsorted``: ``"sources"`` (walked synapses in reverse order) or ``"targets"`` (sorted by
    source, each source's targets reversed), else sorted by source, then target.
    """
    import brian2 as b2
    from lif_bridge_brian2.toolchain import codegen_prefs

    rng = np.random.default_rng(0)
    pre, post, w = _synapses(rng)
    order = np.arange(len(pre))
    if unsorted == "sources":
        order = order[::-1]
    elif unsorted == "targets":
        order = np.lexsort((-post, pre))
    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        b2.device.reinit()
        b2.device.activate(build_on_run=False)
        with codegen_prefs(None, threads=threads):
            m_queue, m_walk, s_walk = _project(tmp_path, pre, post, w, order=order)
        push = (tmp_path / "code_objects" / f"{s_walk.pre.name}_push_spikes.cpp").read_text()
        assert "nothing to queue" in push  # the walked pathway has no spike queue push
        if unsorted:
            proc = subprocess.run(["./main"], cwd=tmp_path, capture_output=True, text=True)
            assert proc.returncode != 0
            return np.empty(0), np.empty(0), proc.stderr, s_walk.name
        b2.device.run(str(tmp_path), with_output=False, run_args=None)
        return np.asarray(m_queue.v), np.asarray(m_walk.v), "", s_walk.name
    finally:
        b2.device.reinit()
        b2.set_device("runtime")


@pytest.mark.parametrize("threads", [0, 2], ids=["serial", "openmp2"])
def test_walk_is_bit_identical_to_brian2s_queue(tmp_path: Path, threads: int) -> None:
    queued, walked, _, _ = _in_standalone(tmp_path, threads)
    assert queued.shape == (N_TGT, STEPS) and np.abs(queued).max() > 1e6
    np.testing.assert_array_equal(walked, queued)


@pytest.mark.parametrize(
    ("threads", "unsorted", "message"),
    [(0, "sources", "sorted by source ("), (2, "targets", "sorted by source and target")],
)
def test_walk_refuses_unsorted_synapses(
    tmp_path: Path, threads: int, unsorted: str, message: str
) -> None:
    """Serial: sorted by source is enough; split over threads: by source, then target."""
    queued, _, stderr, name = _in_standalone(tmp_path, threads, unsorted)
    assert queued.size == 0
    assert stderr.startswith(f"{name}: ") and f"no longer {message}" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_walk_applies_only_where_exact() -> None:
    """Runtime mode, CUDA (not the C++ class), delays, subgroups and code that writes other than
    post-synaptic variables keep Brian2's queue."""
    import brian2 as b2
    from lif_bridge_brian2.walk import SourceWalkCodeObject, walk_code_object_class

    group = b2.NeuronGroup(4, "v : 1")
    code = "v_post += w"
    assert walk_code_object_class(group, 0, code) is None  # runtime device
    b2.set_device("cpp_standalone", build_on_run=False)
    try:
        assert walk_code_object_class(group, 0, code) is SourceWalkCodeObject
        assert walk_code_object_class(group, 2, code) is None
        assert walk_code_object_class(group[1:3], 0, code) is None
        assert walk_code_object_class(group, 0, f"{code}\nv_pre += 1") is None
        assert walk_code_object_class(group, 0, f"{code}\nw += 1") is None
    finally:
        b2.device.reinit()
        b2.set_device("runtime")
