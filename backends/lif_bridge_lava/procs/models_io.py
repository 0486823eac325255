"""Models of the source, max-pool gate and counter processes (one model for both tags).

They carry spikes (0/1) or, for the constant-current encoder, analog amounts; they do no
arithmetic that depends on precision, so the same model serves ``floating_pt`` and
``fixed_pt``.
"""

from __future__ import annotations

import os

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lif_bridge_lava.gate import gate_state, gate_step
from lif_bridge_lava.procs.process import MaxPoolGate, SpikeCounter, SpikeSource

__all__ = ["PyMaxPoolGate", "PySpikeCounter", "PySpikeSource", "error_path", "trains_path"]


def trains_path(directory: str, first: int) -> str:
    """File holding the trains of the chunk that starts at sample ``first``."""
    return os.path.join(directory, f"trains_{first}.npy")


def error_path(directory: str, label: str) -> str:
    """File where a model records an exception instead of raising it."""
    return os.path.join(directory, f"error_{label}.txt")


def _record_error(directory: str, label: str, exc: BaseException) -> None:
    """Write ``exc`` where the program looks for it after each run.

    A model that raises inside ``run_spk`` deadlocks Lava 0.10 (its runtime joins every model
    process while the others wait on ports), so models record the error, keep the clock going
    with zeros, and the program raises it after the blocking run returns.
    """
    try:
        with open(error_path(directory, label), "a", encoding="utf-8") as fh:
            fh.write(f"{type(exc).__name__}: {exc}\n")
    except OSError:
        pass


class _Windowed(PyLoihiProcessModel):
    def _clock(self) -> tuple[int, int]:
        window = self.proc_params["steps"] + self.proc_params["gap"]
        t = self.time_step - 1
        return t // window, t % window


@implements(proc=SpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeSource(_Windowed):
    """Sends ``e[g, k]`` of the chunk file that holds sample ``g`` (zeros in the gap step)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self.first = 0
        self.data: np.ndarray | None = None

    def run_spk(self) -> None:
        """Emit this step's values of the current sample."""
        g, k = self._clock()
        data = self.data
        if data is None or not (self.first <= g < self.first + data.shape[0]):
            directory = self.proc_params["directory"]
            try:
                data = self.data = np.load(trains_path(directory, g), allow_pickle=False)
                self.first = g
            except Exception as exc:  # see _record_error
                _record_error(directory, "source", exc)
                self.data = None
                self.s_out.send(np.zeros(self.proc_params["shape"]))
                return
        if k < data.shape[1]:
            self.s_out.send(np.asarray(data[g - self.first, k], dtype=np.float64))
        else:
            self.s_out.send(np.zeros(data.shape[2]))


@implements(proc=MaxPoolGate, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PyMaxPoolGate(_Windowed):
    """Spiking max pooling with one winner per window (see :class:`MaxPoolGate`), no latency.

    The counts and winners of every stage are reset at the first step of each sample window.
    """

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self.windows: list[np.ndarray] = list(proc_params["windows"])
        self.counts: list[np.ndarray] = []
        self.winner: list[np.ndarray] = []

    def run_spk(self) -> None:
        """Gate this step's spikes through every stage."""
        z = np.asarray(self.s_in.recv(), dtype=np.float64)
        _, k = self._clock()
        if k == 0 or not self.counts:
            sizes = [z.size] + [w.shape[0] for w in self.windows[:-1]]
            state = [
                gate_state((), n, w.shape[0]) for n, w in zip(sizes, self.windows, strict=True)
            ]
            self.counts = [c for c, _ in state]
            self.winner = [w for _, w in state]
        for win, c, w in zip(self.windows, self.counts, self.winner, strict=True):
            z = gate_step(win, c, w, z).astype(np.float64)
        self.s_out.send(z)


@implements(proc=SpikeCounter, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeCounter(_Windowed):
    """Counts spikes per window; writes the row of sample ``g`` at its last counted step."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    counts: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def run_spk(self) -> None:
        """Add this step's spikes; at the window's last step write the counts."""
        s = np.asarray(self.s_in.recv())
        g, k = self._clock()
        steps = self.proc_params["steps"]
        if k == 0:
            self.counts = np.zeros(s.shape, dtype=np.int64)
        if k < steps:
            self.counts = self.counts + (s > 0)
        if k == steps - 1:
            p = self.proc_params
            path = os.path.join(p["directory"], f"counts_{p['label']}.bin")
            row = np.ascontiguousarray(self.counts, dtype=np.int64).tobytes()
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
                try:
                    os.pwrite(fd, row, g * len(row))
                finally:
                    os.close(fd)
            except OSError as exc:
                _record_error(p["directory"], f"counter{p['label']}", exc)
