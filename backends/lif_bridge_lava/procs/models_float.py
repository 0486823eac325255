r"""``floating_pt`` model of :class:`LinearLIF`: the contract of :mod:`lif_bridge.semantics`.

The step sequence is :class:`~lif_bridge_lava.procs.models_base.AbstractLinearLIFModel`'s; this
model supplies the floating-point arithmetic of phases A and C (voltages in volts)::

    A: v <- v_inf + (v - v_inf)·d       (leaky neurons, d = exp(-g_l dt / C_m))
       v <- v + I_bias·dt / C_m         (IF neurons, g_l = 0)
    C: v <- v + a                       (a = Σ W·z / C_m [V])

``decay``, ``v_inf``, ``if_step`` and ``leaky`` come from
:func:`lif_bridge.semantics.leak_constants` through the process's ``constants``.
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

__all__ = ["PyLinearLIFFloat"]


@implements(proc=LinearLIF, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyLinearLIFFloat(AbstractLinearLIFModel):
    """Floating-point Linear LIF following the contract exactly (see the module docstring)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    v: np.ndarray = LavaPyType(np.ndarray, float)
    vth: np.ndarray = LavaPyType(np.ndarray, float)
    v_reset: np.ndarray = LavaPyType(np.ndarray, float)
    v_rest: np.ndarray = LavaPyType(np.ndarray, float)

    def leak(self, v: np.ndarray) -> np.ndarray:
        """Phase A in floating point (see the module docstring)."""
        c = self.constants
        leaky = c["leaky"]
        if leaky.all():
            return c["v_inf"] + (v - c["v_inf"]) * c["decay"]
        if not leaky.any():
            return v + c["if_step"]
        return np.where(leaky, c["v_inf"] + (v - c["v_inf"]) * c["decay"], v + c["if_step"])

    def integrate(self, v: np.ndarray, a: np.ndarray) -> np.ndarray:
        """Phase C: ``v + a``."""
        return v + a
