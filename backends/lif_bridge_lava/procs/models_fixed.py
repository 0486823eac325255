r"""``fixed_pt`` model of :class:`LinearLIF`: Loihi-style integer arithmetic.

The number formats and the integer step rule are written out in
:mod:`lif_bridge_lava.quantize` (8-bit weight mantissa ``m`` with a shared exponent ``e``,
stored in Lava's Dense/Sparse as ``2·m`` with ``weight_exp = 0``; activation shift 6; 24-bit
saturating voltage; 12-bit decay ``v <- sign(v)·((|v|·(4096-dv)) >> 12)``; 13-bit bias mantissa
with 3-bit exponent; 17-bit threshold mantissa ``<< 6``). The phases run in the same deferred
order as the float model (:mod:`lif_bridge_lava.procs.models_float`): in Lava step ``n``, C and D
of step ``n - 1`` with the integer input ``a`` that just arrived, then A and B of step ``n``::

    C(n-1): v <- clip24(v + (a << 6))           (a dropped where refractory)
    D(n-1): v <- v - (vth_mant << 6)   or   v <- v_reset
    A(n):   v <- clip24(sign(v)·((|v|·(4096 - dv)) >> 12) + (bias_mant << bias_exp))
    B(n):   s = v >= (vth_mant << 6)

Voltages recorded as traces are converted back to volts with the voltage unit ``q_v``.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lif_bridge_lava.procs.models_float import _NEVER, LIFBase
from lif_bridge_lava.procs.process import LinearLIF
from lif_bridge_lava.quantize import ACT_SHIFT, fixed_input, fixed_leak

__all__ = ["PyLinearLIFFixed"]


@implements(proc=LinearLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLinearLIFFixed(LIFBase):
    """Integer Linear LIF (see the module docstring for the rules)."""

    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    decay: np.ndarray = LavaPyType(np.ndarray, float)
    v_inf: np.ndarray = LavaPyType(np.ndarray, float)
    if_step: np.ndarray = LavaPyType(np.ndarray, float)
    leaky: np.ndarray = LavaPyType(np.ndarray, np.int64)
    v_reset: np.ndarray = LavaPyType(np.ndarray, float)
    v_rest: np.ndarray = LavaPyType(np.ndarray, float)
    v_int: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    dv: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=12)
    bias_mant: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=13)
    bias_exp: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=3)
    vth_mant: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=17)
    v_reset_int: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    v_rest_int: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self._setup()
        self.saturated = 0

    def run_spk(self) -> None:
        """One Lava step in integers: C, D of step ``k-1``, then A, B of step ``k``."""
        a = np.asarray(self.a_in.recv(), dtype=np.int64)
        g, k = self._clock()
        n = self.v_int.shape[0]
        vth = self.vth_mant.astype(np.int64) << ACT_SHIFT
        if k == 0 or self.s_prev is None:
            self.v_int = self.v_rest_int.astype(np.int64).copy()
            self.s_prev = np.zeros(n, dtype=bool)
            self.last = np.full(n, _NEVER, dtype=np.int64) if self.R else None
            if self.trace_file is not None:
                self.trace = np.zeros((self.steps, n))
        else:
            if self.last is not None:
                a = np.where((k - 1 - self.last) < self.R, 0, a)
            v, high, low = fixed_input(self.v_int.astype(np.int64), a)
            self.saturated += high + low
            if self.subtract:
                v = v - vth * self.s_prev
            else:
                v = np.where(self.s_prev, self.v_reset_int, v)
            self.v_int = v
            if self.trace is not None and k - 1 < self.steps:
                self.trace[k - 1] = v * self.q_v
                if k == self.steps:
                    self._write_trace(g)
        if k < self.steps:
            bias = self.bias_mant.astype(np.int64) << self.bias_exp.astype(np.int64)
            new, high, low = fixed_leak(self.v_int.astype(np.int64), self.dv.astype(np.int64), bias)
            self.saturated += high + low
            if self.last is not None:
                frozen = (k - self.last) < self.R
                new = np.where(frozen, self.v_int, new)
                s = (new >= vth) & ~frozen
                self.last[s] = k
            else:
                s = new >= vth
            self.v_int = new
        else:
            s = np.zeros(n, dtype=bool)
        self.s_prev = s
        self.s_out.send(s.astype(np.float64))
