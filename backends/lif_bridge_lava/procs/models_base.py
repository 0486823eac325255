r"""The step of :class:`LinearLIF`, written once: ``run_spk`` calling precision hooks.

As Lava's own LIF models do (one ``run_spk`` in an abstract model, the float and fixed models
overriding the arithmetic), :class:`AbstractLinearLIFModel` runs the phases and the window
bookkeeping, and its subclasses supply two hooks: :meth:`~AbstractLinearLIFModel.leak` (phase
A) and :meth:`~AbstractLinearLIFModel.integrate` (phase C).

Mapping Lava's step onto the contract's phases
----------------------------------------------
The contract (:mod:`lif_bridge.semantics`) adds the input of step ``n`` (phase C) after the
threshold of step ``n`` and before its reset (phase D); the input of step ``n`` is the
sources' spikes of step ``n``. A population receives them in Lava step ``n``, after it has
sent its own spikes of step ``n``, so it *defers* C and D: in Lava step ``n`` it finishes
contract step ``n - 1`` with the jumps it computed from the inputs of step ``n - 1``, then
performs A and B of step ``n``::

    C(n-1): v <- v + J·z[n-1] + a_in        (dropped where refractory at n-1)
    D(n-1): v <- v - v_th·s[n-1]    or    v <- v_reset where s[n-1]
    A(n):   leak (non-refractory neurons)
    B(n):   s[n] = v >= v_th and not refractory;  send s[n]
    then:   J·z[n] from this step's main input (gates, weights, delay)

``a_in`` (further projections through Lava ``Dense``/``Sparse``) arrives one step late, i.e.
exactly when it is needed. Spikes leave in the step the contract emits them, so every weighted
layer adds one step of latency, as in the contract. At local step 0 of a window the pending
jumps belong to the previous sample's last step: they are dropped and the state reset
(``v = v_rest``, no refractoriness, gates fresh). Refractoriness: with ``R`` steps, a neuron
that spiked at step ``m`` is refractory at steps ``n`` with ``n - m < R`` (no update, no
threshold, input dropped).
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.model.py.model import PyLoihiProcessModel

from lif_bridge.semantics import never_spiked
from lif_bridge_lava.files import counts_path, trace_path, trains_path, write_row
from lif_bridge_lava.synapses import Synapses

__all__ = ["AbstractLinearLIFModel", "WindowClock"]


class WindowClock(PyLoihiProcessModel):
    """A model that knows the sample window: ``clock() -> (sample g, local step k)``."""

    def clock(self) -> tuple[int, int]:
        """Sample and local step of the current Lava time step."""
        window = self.proc_params["steps"] + self.proc_params["gap"]
        t = self.time_step - 1
        return t // window, t % window


class InputReader:
    """Reads the encoder's trains of the current sample from the program's chunk files."""

    def __init__(self, directory: str, shape: tuple[int, ...]) -> None:
        self.directory = directory
        self.shape = shape
        self.first = 0
        self.data: np.ndarray | None = None

    def row(self, g: int, k: int) -> np.ndarray:
        """``e[g, k]`` (zeros in the gap step), loading the chunk file of ``g`` if needed."""
        data = self.data
        if data is None or not (self.first <= g < self.first + data.shape[0]):
            data = self.data = np.load(trains_path(self.directory, g), allow_pickle=False)
            self.first = g
        if k < data.shape[1]:
            return np.asarray(data[g - self.first, k], dtype=np.float64)
        return np.zeros(self.shape)


class AbstractLinearLIFModel(WindowClock):
    """The deferred phase order of the module docstring; subclasses give ``leak``/``integrate``.

    Subclasses declare the ports and Vars with their types (``v``, ``vth``, ``v_reset``,
    ``v_rest`` in the model's voltage unit).
    """

    v: np.ndarray
    vth: np.ndarray
    v_reset: np.ndarray
    v_rest: np.ndarray

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        p = proc_params
        self.steps: int = p["steps"]
        self.R: int = p["refractory"]
        self.subtract: bool = p["reset"] == "subtract"
        self.constants: dict[str, np.ndarray] = p["constants"]
        self.main: Synapses = p["main"]
        self.reader = InputReader(p["directory"], (self.main.n_in,)) if p["from_input"] else None
        self.counts_file = counts_path(p["directory"], p["label"]) if p["counted"] else None
        self.trace_file = trace_path(p["directory"], p["label"]) if p["traced"] else None
        self.q_v: float = p["q_v"]
        self.s_prev = np.zeros(0, dtype=bool)
        self.pending: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.counts: np.ndarray | None = None
        self.trace: np.ndarray | None = None

    # -- the hooks of a precision -------------------------------------------------------------
    def leak(self, v: np.ndarray) -> np.ndarray:
        """Phase A for every neuron: the voltage after one step of leak and bias."""
        raise NotImplementedError

    def integrate(self, v: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Phase C: ``v`` plus the jumps ``a`` (zero where refractory)."""
        raise NotImplementedError

    def reset(self, v: np.ndarray, s: np.ndarray) -> np.ndarray:
        """Phase D: ``v - v_th·s`` (subtract) or ``v_reset`` where ``s`` (zero)."""
        return v - self.vth * s if self.subtract else np.where(s, self.v_reset, v)

    # -- the step -----------------------------------------------------------------------------
    def run_spk(self) -> None:
        """One Lava step: C, D of contract step ``k-1``, then A, B of step ``k`` (see module)."""
        a = self.a_in.recv()
        g, k = self.clock()
        z = self.reader.row(g, k) if self.reader is not None else self.s_in.recv()
        if k == 0:
            self._start_window()
        else:
            self._finish_step(g, k - 1, self.pending + a)
        s = self._begin_step(k) if k < self.steps else np.zeros(self.v.shape[0], dtype=bool)
        self.s_out.send(s.astype(np.float64))
        self.s_prev = s
        if self.counts is not None and k < self.steps:
            self.counts += s
            if k == self.steps - 1 and self.counts_file is not None:
                write_row(self.counts_file, self.counts, g)
        self.pending = self.main(z)

    def _start_window(self) -> None:
        n = self.v.shape[0]
        self.v = self.v_rest.copy()
        self.last = never_spiked(n) if self.R else None
        self.counts = np.zeros(n, dtype=np.int64) if self.counts_file else None
        self.trace = np.zeros((self.steps, n)) if self.trace_file else None
        self.main.reset()

    def _finish_step(self, g: int, n: int, a: np.ndarray) -> None:
        """Phases C and D of contract step ``n``."""
        if self.last is not None:
            a = np.where((n - self.last) < self.R, 0, a)
        v = self.integrate(self.v, a)
        self.v = v = self.reset(v, self.s_prev)
        if self.trace is not None and n < self.steps:
            self.trace[n] = v * self.q_v
            if n == self.steps - 1 and self.trace_file is not None:
                write_row(self.trace_file, self.trace, g)

    def _begin_step(self, k: int) -> np.ndarray:
        """Phases A and B of contract step ``k``; returns the spikes."""
        new = self.leak(self.v)
        if self.last is not None:
            frozen = (k - self.last) < self.R
            new = np.where(frozen, self.v, new)
            s = (new >= self.vth) & ~frozen
            self.last[s] = k
        else:
            s = new >= self.vth
        self.v = new
        return np.asarray(s)
