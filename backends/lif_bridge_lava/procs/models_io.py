"""Models of the spike source and the spike relay (gates, delay; one model for both tags).

They carry spikes (0/1) or, for the constant-current encoder, analog amounts; they do no
arithmetic that depends on precision, so the same model serves ``floating_pt`` and
``fixed_pt``. Both exist only for projections that run through a Lava ``Dense``/``Sparse``;
a population's main projection reads the input and applies its gates itself.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lif_bridge_lava.procs.models_base import InputReader, WindowClock
from lif_bridge_lava.procs.process import SpikeRelay, SpikeSource
from lif_bridge_lava.synapses import DelayLine, Gates

__all__ = ["PySpikeRelay", "PySpikeSource"]


@implements(proc=SpikeSource, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeSource(WindowClock):
    """Sends ``e[g, k]`` of the chunk file that holds sample ``g`` (zeros in the gap step)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self.reader = InputReader(proc_params["directory"], proc_params["shape"])

    def run_spk(self) -> None:
        """Emit this step's values of the current sample."""
        self.s_out.send(self.reader.row(*self.clock()))


@implements(proc=SpikeRelay, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PySpikeRelay(WindowClock):
    """Gates this step's input and sends what it gated ``delay`` steps ago (see SpikeRelay)."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self.gates = Gates(list(proc_params["windows"]), proc_params["n_in"])
        self.line = DelayLine(proc_params["delay"])

    def run_spk(self) -> None:
        """Gate, delay, send."""
        z = np.asarray(self.s_in.recv(), dtype=np.float64)
        if self.clock()[1] == 0:
            self.gates.reset()
            self.line.reset()
        self.s_out.send(np.asarray(self.line(self.gates(z)), dtype=np.float64))
