r"""``floating_pt`` model of :class:`LinearLIF`: the contract of :mod:`lif_bridge.semantics`.

Mapping Lava's step onto the contract's phases
----------------------------------------------
Lava's ``Dense``/``Sparse`` send in step ``t`` the sum of the spikes they received in step
``t - 1``. The contract adds the input of step ``n`` (phase C) after the threshold of step ``n``
and before its reset (phase D). So in Lava step ``n`` the model first *finishes* contract step
``n - 1`` with the input that just arrived, then performs A and B of step ``n``::

    a = a_in.recv()                                    # = W·z[n-1] / C_m
    C(n-1): v <- v + a     (a dropped where refractory at n-1)
    D(n-1): v <- v - v_th·s[n-1]    or    v <- v_reset where s[n-1]
    A(n):   v <- v_inf + (v - v_inf)·d    (IF: v <- v + I_bias·dt/C_m), non-refractory only
    B(n):   s[n] = v >= v_th and not refractory;  send s[n]

Spikes leave in the step the contract emits them, so every weighted layer adds exactly one
step of latency, as in the contract, and counts over the window agree spike for spike. At
local step 0 of a window the arriving input belongs to the previous sample's last step: it is
dropped and the state reset (``v = v_rest``, no refractoriness), so the one-step carry in
Dense buffers needs no gap step. Refractoriness: with ``R`` steps, a neuron that spiked at
step ``m`` is refractory at steps ``n`` with ``n - m < R`` (no update, no threshold, input
dropped).
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

from lif_bridge_lava.procs.process import LinearLIF

__all__ = ["PyLinearLIFFloat"]

_NEVER = -(2**40)


class LIFBase(PyLoihiProcessModel):
    """Window bookkeeping shared by the float and fixed models (deferred phases C, D)."""

    def _setup(self) -> None:
        p = self.proc_params
        self.steps: int = p["steps"]
        self.window: int = p["steps"] + p["gap"]
        self.R: int = p["refractory"]
        self.subtract: bool = p["reset"] == "subtract"
        self.trace_file: str | None = p["trace_file"]
        self.q_v: float = p["q_v"]
        self.s_prev: np.ndarray | None = None
        self.last: np.ndarray | None = None
        self.trace: np.ndarray | None = None

    def _clock(self) -> tuple[int, int]:
        t = self.time_step - 1
        return t // self.window, t % self.window

    def _write_trace(self, g: int) -> None:
        if self.trace_file is None or self.trace is None:
            return
        data = np.ascontiguousarray(self.trace, dtype=np.float64).tobytes()
        fd = os.open(self.trace_file, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, data, g * len(data))
        finally:
            os.close(fd)


@implements(proc=LinearLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyLinearLIFFloat(LIFBase):
    """Floating-point Linear LIF following the contract exactly (see the module docstring)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    decay: np.ndarray = LavaPyType(np.ndarray, float)
    v_inf: np.ndarray = LavaPyType(np.ndarray, float)
    if_step: np.ndarray = LavaPyType(np.ndarray, float)
    leaky: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_reset: np.ndarray = LavaPyType(np.ndarray, float)
    v_rest: np.ndarray = LavaPyType(np.ndarray, float)
    v_int: np.ndarray = LavaPyType(np.ndarray, np.int64)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int64)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int64)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int64)
    vth_mant: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_reset_int: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_rest_int: np.ndarray = LavaPyType(np.ndarray, np.int64)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self._setup()

    def _update(self, v: np.ndarray) -> np.ndarray:
        leaky = self.leaky.astype(bool)
        if leaky.all():
            return self.v_inf + (v - self.v_inf) * self.decay
        if not leaky.any():
            return v + self.if_step
        return np.where(leaky, self.v_inf + (v - self.v_inf) * self.decay, v + self.if_step)

    def run_spk(self) -> None:
        """One Lava step: finish contract step ``k-1`` (C, D), then A and B of step ``k``."""
        a = np.asarray(self.a_in.recv(), dtype=np.float64)
        g, k = self._clock()
        n = self.v.shape[0]
        if k == 0 or self.s_prev is None:
            self.v = self.v_rest.copy()
            self.s_prev = np.zeros(n, dtype=bool)
            self.last = np.full(n, _NEVER, dtype=np.int64) if self.R else None
            if self.trace_file is not None:
                self.trace = np.zeros((self.steps, n))
        else:
            if self.last is not None:
                a = np.where((k - 1 - self.last) < self.R, 0.0, a)
            v = self.v + a
            if self.subtract:
                v = v - self.vth * self.s_prev
            else:
                v = np.where(self.s_prev, self.v_reset, v)
            self.v = v
            if self.trace is not None and k - 1 < self.steps:
                self.trace[k - 1] = v
                if k == self.steps:
                    self._write_trace(g)
        if k < self.steps:
            new = self._update(self.v)
            if self.last is not None:
                frozen = (k - self.last) < self.R
                new = np.where(frozen, self.v, new)
                s = (new >= self.vth) & ~frozen
                self.last[s] = k
            else:
                s = new >= self.vth
            self.v = new
        else:
            s = np.zeros(n, dtype=bool)
        self.s_prev = s
        self.s_out.send(s.astype(np.float64))
