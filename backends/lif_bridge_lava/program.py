"""Running a lowered network on Lava: many samples through one compiled process graph.

Samples are fed in chunks: the program writes the encoder's trains of a chunk to a file in its
private folder, runs ``chunk × window`` steps in one blocking ``run`` call, and reads the spike
counts that the counter processes wrote (one int64 row per sample and counted layer). No image,
weight or count goes through ``Var.get``/``Var.set`` (about 23 µs per element each way).

The Lava runtime (one forked OS process per Lava process) is stopped by :meth:`LavaProgram.close`,
which is also called on any error or ``KeyboardInterrupt`` during a run, by a finaliser when the
program is garbage-collected, and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing.util
import os
import shutil
import signal
import tempfile
import threading
import time
import weakref
from typing import Any

import numpy as np

from lif_bridge.backend import Result
from lif_bridge.errors import BackendError
from lif_bridge.network import Network, Simulation, check_inputs
from lif_bridge.progress import progress_bar

__all__ = ["LavaProgram"]


#: Seconds ``stop()`` may take before the model processes are killed.
STOP_TIMEOUT = 20.0


def _child_setup(_: object) -> None:
    """In each forked Lava process: leave Ctrl-C to the parent, die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphans if the parent is killed


class _ForkGuard:
    """Registers :func:`_child_setup` for the forks made while it is alive (runtime start).

    ``multiprocessing.util`` keeps after-fork hooks in a weak registry keyed by this object.
    """

    def __enter__(self) -> _ForkGuard:
        multiprocessing.util.register_after_fork(self, _child_setup)
        return self

    def __exit__(self, *exc: object) -> None:
        """Nothing to undo: the registry holds the guard weakly, so the hook goes with it."""


class _Runtime:
    """What must be released: the Lava runtime (via one of its processes) and the folder."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.handle: Any = None
        self.started = False

    def release(self) -> None:
        """Stop the runtime; kill its processes if ``stop()`` fails or hangs; delete the folder."""
        handle, self.handle = self.handle, None
        if handle is not None and self.started:
            self.started = False
            runtime = getattr(handle, "runtime", None)
            infra = getattr(runtime, "_messaging_infrastructure", None)
            actors = list(getattr(infra, "actors", []) or [])
            stopper = threading.Thread(target=_quiet_stop, args=(handle,), daemon=True)
            stopper.start()
            stopper.join(STOP_TIMEOUT)
            for actor in actors:
                with contextlib.suppress(Exception):
                    if actor.is_alive():
                        actor.kill()
                        actor.join(2.0)
        shutil.rmtree(self.directory, ignore_errors=True)


def _quiet_stop(handle: Any) -> None:
    with contextlib.suppress(Exception):
        handle.stop()


class LavaProgram:
    """A network compiled for Lava; runs any number of samples without rebuilding.

    Parameters
    ----------
    network, simulation
        What to run and how.
    precision
        ``"float"`` (process models tagged ``floating_pt``) or ``"fixed"`` (``fixed_pt``).
    chunk
        Samples per blocking ``run`` call.
    """

    def __init__(
        self, network: Network, simulation: Simulation, *, precision: str, chunk: int = 32
    ) -> None:
        from lif_bridge_lava.lowering import build_graph

        self.network = network
        self.simulation = simulation
        self.precision = precision
        self.chunk = max(1, int(chunk))
        self.gap = 1 if simulation.readout.traces else 0
        self.window = simulation.steps + self.gap
        self.count_layers = simulation.readout.count_layers(network)
        self._state = _Runtime(tempfile.mkdtemp(prefix="lif_bridge_lava_"))
        self._finalizer = weakref.finalize(self, self._state.release)
        atexit.register(self._finalizer)
        self._next = 0
        self.compile_seconds = 0.0
        try:
            t0 = time.perf_counter()
            self.graph = build_graph(
                network,
                simulation,
                precision=precision,
                directory=self._state.directory,
                gap=self.gap,
            )
            self.build_seconds = time.perf_counter() - t0
        except BaseException:
            self.close()
            raise
        self._state.handle = self.graph.source

    @property
    def directory(self) -> str:
        """The program's private folder (trains, counts, traces)."""
        return self._state.directory

    def _run_cfg(self) -> Any:
        from lava.magma.core.run_configs import Loihi2SimCfg

        tag = "floating_pt" if self.precision == "float" else "fixed_pt"
        return Loihi2SimCfg(select_tag=tag)

    def _steps(self, n: int) -> None:
        from lava.magma.core.run_conditions import RunSteps

        handle = self.graph.source
        if not self._state.started:
            t0 = time.perf_counter()
            self._state.started = True  # from here on, close() must stop the runtime
            with _ForkGuard():
                handle.run(condition=RunSteps(num_steps=n, blocking=True), run_cfg=self._run_cfg())
            self.compile_seconds = time.perf_counter() - t0  # first run, compile included
        else:
            handle.run(condition=RunSteps(num_steps=n, blocking=True), run_cfg=self._run_cfg())

    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Simulate samples ``x`` ``(samples, *input_shape)``; see :class:`lif_bridge.Result`."""
        if self._state.directory and not os.path.isdir(self._state.directory):
            raise BackendError("this Lava program was closed; lower the network again")
        x = check_inputs(self.network, x)
        from lif_bridge_lava.procs.models_io import trains_path

        sim = self.simulation
        t0 = time.perf_counter()
        counts = {k: [] for k in self.count_layers}  # type: dict[str, list[np.ndarray]]
        traces = {k: [] for k in sim.readout.traces}  # type: dict[str, list[np.ndarray]]
        bar = progress_bar(len(x), f"lava-{self.precision}", enabled=progress, unit="sample")
        try:
            for lo in range(0, len(x), self.chunk):
                part = x[lo : lo + self.chunk]
                b, g0 = len(part), self._next
                e = sim.encode(self.network, part, start_index + lo)
                path = trains_path(self.directory, g0)
                np.save(path, e if not sim.encoder.is_spiking else e.astype(np.uint8))
                self._steps(b * self.window)
                self._raise_model_errors()
                self._next += b
                os.unlink(path)
                for name in self.count_layers:
                    counts[name].append(self._read_counts(name, g0, b))
                for name in sim.readout.traces:
                    traces[name].append(self._read_trace(name, g0, b))
                bar.update(b)
        except BaseException as exc:
            self.close()
            if isinstance(exc, (KeyboardInterrupt, BackendError)):
                raise
            raise BackendError(f"Lava run failed ({type(exc).__name__}: {exc})") from exc
        finally:
            bar.close()
        seconds = time.perf_counter() - t0
        return Result(
            counts={k: np.concatenate(v) for k, v in counts.items()},
            traces={k: np.concatenate(v) for k, v in traces.items()},
            output=self.network.output.name,
            steps=sim.steps,
            dt=sim.dt,
            backend=f"lava-{self.precision}",
            seconds=seconds,
            info={
                "precision": self.precision,
                "chunk": self.chunk,
                "build_seconds": self.build_seconds,
                "compile_seconds": self.compile_seconds,
                "processes": self.process_count,
            },
        )

    @property
    def process_count(self) -> int:
        """Number of Lava processes (each a forked OS process when running)."""
        g = self.graph
        return 1 + len(g.neurons) + len(g.connections) + len(g.gates) + len(g.counters)

    def _raise_model_errors(self) -> None:
        errors = sorted(f for f in os.listdir(self.directory) if f.startswith("error_"))
        if errors:
            with open(os.path.join(self.directory, errors[0]), encoding="utf-8") as fh:
                first = fh.readline().strip()
            raise BackendError(f"Lava run failed in a process model ({errors[0][6:-4]}: {first})")

    def _read_counts(self, name: str, g0: int, b: int) -> np.ndarray:
        n = self.network.population(name).size
        label = list(self.graph.counters).index(name)
        path = os.path.join(self.directory, f"counts_{label}.bin")
        data = np.fromfile(path, dtype=np.int64, count=b * n, offset=g0 * n * 8)
        if data.size != b * n:
            raise BackendError(f"Lava run: counts of {name!r} incomplete ({data.size}/{b * n})")
        return data.reshape(b, n)

    def _read_trace(self, name: str, g0: int, b: int) -> np.ndarray:
        n = self.network.population(name).size
        steps = self.simulation.steps
        index = list(self.graph.neurons).index(name)
        path = os.path.join(self.directory, f"trace_{index}.bin")
        data = np.fromfile(path, dtype=np.float64, count=b * steps * n, offset=g0 * steps * n * 8)
        if data.size != b * steps * n:
            raise BackendError(f"Lava run: traces of {name!r} incomplete")
        return data.reshape(b, steps, n)

    def close(self) -> None:
        """Stop the Lava runtime (its OS processes) and delete the folder; idempotent."""
        self._finalizer()

    def __enter__(self) -> LavaProgram:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
