"""Models of the spike source and the max-pool gate (one model for both tags).

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

from lif_bridge_lava.gate import gate_state, gate_step
from lif_bridge_lava.procs.models_base import InputReader, WindowClock
from lif_bridge_lava.procs.process import MaxPoolGate, SpikeSource

__all__ = ["PyMaxPoolGate", "PySpikeSource"]


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


@implements(proc=MaxPoolGate, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PyMaxPoolGate(WindowClock):
    """Spiking max pooling with one winner per window (see :class:`MaxPoolGate`), no latency."""

    s_in: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)

    def __init__(self, proc_params: dict) -> None:  # type: ignore[type-arg]
        super().__init__(proc_params)
        self.windows: list[np.ndarray] = list(proc_params["windows"])
        self.state: list[tuple[np.ndarray, np.ndarray]] = []

    def run_spk(self) -> None:
        """Gate this step's spikes through every stage."""
        z = np.asarray(self.s_in.recv(), dtype=np.float64)
        _, k = self.clock()
        if k == 0 or not self.state:
            sizes = [z.size] + [w.shape[0] for w in self.windows[:-1]]
            self.state = [
                gate_state((), n, w.shape[0]) for n, w in zip(sizes, self.windows, strict=True)
            ]
        for win, (counts, winner) in zip(self.windows, self.state, strict=True):
            z = gate_step(win, counts, winner, z).astype(np.float64)
        self.s_out.send(z)
