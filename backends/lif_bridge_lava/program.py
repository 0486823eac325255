"""Running a lowered network on Lava: many samples through one compiled process graph.

Samples are fed in chunks: the program writes the encoder's trains of a chunk to a file in its
private folder, runs ``chunk × window`` steps in one blocking ``run`` call, and reads the spike
counts that the populations wrote (one int64 row per sample and counted layer): the file
protocol of :mod:`lif_bridge_lava.files`.

The Lava runtime (one forked OS process per Lava process) is stopped by :meth:`LavaProgram.close`,
which is also called on any error or ``KeyboardInterrupt`` during a run, by a finaliser when the
program is garbage-collected, and at interpreter exit.

A watchdog guards every run: Lava 0.10 waits forever when one of its processes dies (its
runtime joins every process while the others wait on their ports), whether the process is one
of ours or one of Lava's own (``Dense``, ``Sparse``). The blocking ``run`` call therefore runs
in a helper thread while the calling thread checks, every :data:`WATCH_INTERVAL` seconds,
that every Lava process is alive; when one has died, the runtime's processes are killed and
the run ends with one :class:`~lif_bridge.errors.BackendError` naming the exception.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import multiprocessing
import multiprocessing.util
import os
import queue
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
from lif_bridge_lava.files import counts_path, read_rows, trace_path, trains_path

__all__ = ["LavaProgram"]


#: Seconds ``stop()`` may take before the model processes are killed.
STOP_TIMEOUT = 20.0

#: Seconds between two checks of the watchdog that every Lava process is alive.
WATCH_INTERVAL = 0.05


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
        self.runner: _Runner | None = None

    def infrastructure(self) -> Any:
        """Lava's message infrastructure (its actors: one OS process each), or ``None``."""
        runtime = getattr(self.handle, "runtime", None)
        return getattr(runtime, "_messaging_infrastructure", None)

    def actors(self) -> list[Any]:
        """The runtime's OS processes (empty before the first run has started them)."""
        return list(getattr(self.infrastructure(), "actors", None) or [])

    def dead(self) -> str | None:
        """The exception of the first Lava process that has died, ``None`` while all live."""
        for actor in self.actors():
            with contextlib.suppress(Exception):
                if actor.exitcode is not None:
                    exc = actor.exception
                    if exc:
                        return f"{type(exc[0]).__name__}: {exc[0]}"
                    return f"process {actor.name} exited with code {actor.exitcode}"
        return None

    def release(self, *, graceful: bool = True) -> None:
        """Stop the runtime (``stop()`` if ``graceful``), kill what remains, delete the folder."""
        handle, actors, infra = self.handle, self.actors(), self.infrastructure()
        self.handle = None
        if handle is not None and self.started:
            self.started = False
            if graceful:
                stopper = threading.Thread(target=_quiet_stop, args=(handle,), daemon=True)
                stopper.start()
                stopper.join(STOP_TIMEOUT)
            for actor in actors:
                with contextlib.suppress(Exception):
                    if actor.is_alive():
                        actor.kill()
                    # Lava's SystemProcess.join takes no timeout: reap through the base class
                    multiprocessing.Process.join(actor, 2.0)
            with contextlib.suppress(Exception):
                if infra is not None and infra.smm is not None:
                    infra.smm.shutdown()
        runner, self.runner = self.runner, None
        if runner is not None:
            runner.close()
        shutil.rmtree(self.directory, ignore_errors=True)


class _Job:
    """One blocking Lava ``run`` call handed to the :class:`_Runner`."""

    def __init__(self, handle: Any, condition: Any, cfg: Any) -> None:
        self.args = (handle, condition, cfg)
        self.done = threading.Event()
        self.error: BaseException | None = None


class _Runner:
    """The one thread that makes a program's blocking Lava calls, for the program's lifetime.

    One thread for all runs, because Lava forks its processes from the thread of the first
    run, and ``PR_SET_PDEATHSIG`` (see :func:`_child_setup`) kills them when *that thread*
    ends. The calling thread stays free to watch the processes and to take Ctrl-C.
    """

    def __init__(self) -> None:
        self.jobs: queue.Queue[_Job | None] = queue.Queue()
        threading.Thread(target=self._serve, name="lava-runner", daemon=True).start()

    def close(self) -> None:
        """End the thread once its current job (if any) returns."""
        self.jobs.put(None)

    def submit(self, handle: Any, condition: Any, cfg: Any) -> _Job:
        """Queue one run; wait on the job's ``done`` event."""
        job = _Job(handle, condition, cfg)
        self.jobs.put(job)
        return job

    def _serve(self) -> None:
        while True:
            job = self.jobs.get()
            if job is None:
                return
            handle, condition, cfg = job.args
            try:
                handle.run(condition=condition, run_cfg=cfg)
            except BaseException as exc:  # handed to the calling thread
                job.error = exc
            finally:
                job.done.set()


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
        self._state.handle = self.graph.processes[0]

    @property
    def directory(self) -> str:
        """The program's private folder (trains, counts, traces)."""
        return self._state.directory

    def _run_cfg(self) -> Any:
        from lava.magma.core.run_configs import Loihi2SimCfg

        tag = "floating_pt" if self.precision == "float" else "fixed_pt"
        return Loihi2SimCfg(select_tag=tag)

    def _steps(self, n: int) -> None:
        """Run ``n`` Lava steps under the watchdog (see the module docstring)."""
        from lava.magma.core.run_conditions import RunSteps

        first = not self._state.started
        t0 = time.perf_counter()
        self._state.started = True  # from here on, close() must stop the runtime
        if self._state.runner is None:
            self._state.runner = _Runner()
        job = self._state.runner.submit(self._state.handle, RunSteps(num_steps=n, blocking=True),
                                  self._run_cfg())  # fmt: skip
        with _ForkGuard():
            while not job.done.wait(WATCH_INTERVAL):
                died = self._state.dead()
                if died is not None and not job.done.is_set():
                    self._state.release(graceful=False)
                    raise BackendError(
                        f"Lava run failed: one of its processes died ({died}); the runtime "
                        "was stopped"
                    )
        if first:
            self.compile_seconds = time.perf_counter() - t0  # first run, compile included
        if job.error is not None:
            raise job.error

    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Simulate samples ``x`` ``(samples, *input_shape)``; see :class:`lif_bridge.Result`."""
        if self._state.directory and not os.path.isdir(self._state.directory):
            raise BackendError("this Lava program was closed; lower the network again")
        x = check_inputs(self.network, x)
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
                self._next += b
                os.unlink(path)
                for name in self.count_layers:
                    counts[name].append(self._read(name, g0, b, traces=False))
                for name in sim.readout.traces:
                    traces[name].append(self._read(name, g0, b, traces=True))
                bar.update(b)
        except BaseException as exc:
            self._state.release(graceful=not isinstance(exc, KeyboardInterrupt))
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
        return len(self.graph.processes)

    def _read(self, name: str, g0: int, b: int, *, traces: bool) -> np.ndarray:
        n = self.network.population(name).size
        label = self.graph.labels[name]
        if traces:
            steps = self.simulation.steps
            data = read_rows(trace_path(self.directory, label), np.float64, g0, b, steps * n)
            shape: tuple[int, ...] = (b, steps, n)
        else:
            data = read_rows(counts_path(self.directory, label), np.int64, g0, b, n)
            shape = (b, n)
        if data is None:
            what = "traces" if traces else "counts"
            raise BackendError(f"Lava run: {what} of {name!r} incomplete")
        return data.reshape(shape)

    def close(self) -> None:
        """Stop the Lava runtime (its OS processes) and delete the folder; idempotent."""
        self._finalizer()

    def __enter__(self) -> LavaProgram:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
