r"""``fixed_pt`` model of :class:`LinearLIF`: Loihi-style integer arithmetic.

The step sequence is :class:`~lif_bridge_lava.procs.models_base.AbstractLinearLIFModel`'s; this
model supplies the integer rules of :mod:`lif_bridge_lava.quantize` for phases A and C
(voltages in integer units ``q_v``; weights stored as ``2·m``; activation shift 6)::

    A: v <- clip24(sign(v)·((|v|·(4096 - dv)) >> 12) + bias)      bias = bias_mant << bias_exp
    C: v <- clip24(v + (a << 6))

The threshold is ``vth_mant << 6`` (the ``vth`` Var), the reset and rest voltages are rounded
to the voltage unit. Voltages recorded as traces are converted back to volts with ``q_v``.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lif_bridge_lava.procs.models_base import AbstractLinearLIFModel
from lif_bridge_lava.procs.process import LinearLIF
from lif_bridge_lava.quantize import fixed_input, fixed_leak

__all__ = ["PyLinearLIFFixed"]


@implements(proc=LinearLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyLinearLIFFixed(AbstractLinearLIFModel):
    """Integer Linear LIF (see the module docstring for the rules)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, np.int32, precision=24)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    vth: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=23)
    v_reset: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)
    v_rest: np.ndarray = LavaPyType(np.ndarray, np.int64, precision=24)

    def leak(self, v: np.ndarray) -> np.ndarray:
        """Phase A in integers (:func:`~lif_bridge_lava.quantize.fixed_leak`)."""
        return fixed_leak(v, self.constants["dv"], self.constants["bias"])[0]

    def integrate(self, v: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Phase C in integers (:func:`~lif_bridge_lava.quantize.fixed_input`)."""
        return fixed_input(v, a)[0]
