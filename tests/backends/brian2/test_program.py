"""Standalone programs without a compiler: Ctrl-C while compiling, and windows per run.

Ctrl-C (issue 12): make is stopped, reported as an interrupt, no half build is left. The
"compiler" is a makefile that starts a long ``sleep`` (its pid written to a file); SIGINT is sent
to the main thread while ``make`` runs, as a terminal's Ctrl-C would be.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from lif_bridge.network import Readout, Simulation
from lif_bridge.testing import random_network

pytestmark = pytest.mark.brian2

MAKEFILE = "all:\n\tsleep 60 & echo $$! > sleeper.pid; wait\n"


def _ctrl_c_after(seconds: float) -> threading.Timer:
    main = threading.main_thread().ident
    assert main is not None
    timer = threading.Timer(seconds, signal.pthread_kill, (main, signal.SIGINT))
    timer.start()
    return timer


def _gone(pid: int) -> bool:
    for _ in range(50):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def test_interrupted_make_is_stopped_and_reported_as_interrupt(tmp_path: Path) -> None:
    from lif_bridge_brian2.toolchain import CompileInterrupted, run_make

    (tmp_path / "makefile").write_text(MAKEFILE)
    timer = _ctrl_c_after(1.0)
    with pytest.raises(CompileInterrupted, match="compilation interrupted"):
        run_make(tmp_path, "test")
    timer.join()
    assert _gone(int((tmp_path / "sleeper.pid").read_text()))


def test_interrupted_standalone_build_leaves_no_folder(tmp_path: Path) -> None:
    import brian2 as b2
    from brian2.devices.device import RuntimeDevice, get_device
    from lif_bridge_brian2.devices import CppStandalone
    from lif_bridge_brian2.toolchain import CompileInterrupted

    from lif_bridge.backend import get_backend

    timers = []

    class SlowMake(CppStandalone):
        def compile(self, project: Path) -> None:
            (project / "makefile").write_text(MAKEFILE)
            assert project.name.endswith(".partial")
            timers.append(_ctrl_c_after(1.0))  # Ctrl-C once make runs
            super().compile(project)

    program = get_backend("brian2", device=SlowMake(), build_dir=tmp_path).lower(
        random_network(0, "dense"), Simulation(steps=10, dt=0.01, readout=Readout())
    )
    with pytest.raises(KeyboardInterrupt) as err:
        program.compile()
    timers[0].join()
    assert isinstance(err.value, CompileInterrupted)
    assert [p.name for p in tmp_path.iterdir() if p.name != "cython_cache"] == []
    assert isinstance(get_device(), RuntimeDevice)
    b2.set_device("runtime")


def test_standalone_default_runs_the_whole_batch_in_one_binary_run(tmp_path: Path) -> None:
    """Without samples_per_run a standalone program is built for its first batch (one run of
    the binary for all its images, not one per 100), later larger batches are chunked."""
    import numpy as np
    from lif_bridge_brian2.devices import CppStandalone
    from lif_bridge_brian2.spec import BuildSpec

    from lif_bridge.backend import get_backend

    class Recorder:
        def __init__(self, spec: BuildSpec) -> None:
            self.samples = spec.samples
            self.info = {"compile_seconds": 0.0}
            self.runs: list[int] = []

        def run(self, values: np.ndarray) -> tuple[dict, dict]:
            self.runs.append(len(values))
            return {p: np.zeros((self.samples, 5), np.int64) for p in ("dense1",)}, {}

        def close(self) -> None:
            pass

    built: list[Recorder] = []

    class FakeStandalone(CppStandalone):
        def build(self, spec: BuildSpec) -> Recorder:  # type: ignore[override]
            built.append(Recorder(spec))
            return built[-1]

    net = random_network(0, "dense")
    program = get_backend("brian2", device=FakeStandalone(), build_dir=tmp_path).lower(
        net, Simulation(steps=10, dt=0.01, readout=Readout())
    )
    x = np.full((250, 12), 0.5)
    assert program.run(x).output_counts.shape == (250, 5)
    assert program.run(np.concatenate([x, x])).output_counts.shape == (500, 5)
    assert len(built) == 1 and built[0].samples == 250
    assert built[0].runs == [250, 250, 250]  # the first batch in one run, then 2 chunks
