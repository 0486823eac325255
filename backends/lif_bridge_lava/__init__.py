"""The Lava backend: Linear LIF networks as Lava processes (CPU simulation of Loihi 2).

``LavaBackend(precision="float")`` runs the ``floating_pt`` models, which follow the contract of
:mod:`lif_bridge.semantics` spike for spike; ``precision="fixed"`` runs the ``fixed_pt`` models,
which model Loihi's integer arithmetic (:mod:`lif_bridge_lava.quantize`). Registered as the
entry point ``lava`` of the group ``lif_bridge.backends``.

Importing this package does not import Lava (lava-nc 0.10 needs Python 3.10): Lava is imported
when a network is lowered. :func:`loihi_report` (the Loihi 2 fit report) needs only NumPy.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from lif_bridge.errors import BackendUnavailableError, ValidationError
from lif_bridge.network import Network, Simulation
from lif_bridge_lava.loihi import LoihiLimits, LoihiReport, loihi_report

if TYPE_CHECKING:
    from lif_bridge_lava.program import LavaProgram

__all__ = ["LavaBackend", "LoihiLimits", "LoihiReport", "loihi_report", "require_lava"]

INSTALL_HINT = (
    "the Lava backend needs lava-nc 0.10, which runs only on Python 3.10: create a Python 3.10 "
    "environment and run `pip install 'lif-bridge[lava]'` (pins lava-nc==0.10.0 and numpy<2)"
)


def require_lava() -> None:
    """Import Lava or raise :class:`BackendUnavailableError` saying how to install it."""
    if sys.version_info[:2] != (3, 10):
        raise BackendUnavailableError(
            f"Python {sys.version_info[0]}.{sys.version_info[1]} is running; {INSTALL_HINT}"
        )
    import multiprocessing as mp

    # Lava calls ``multiprocessing.set_start_method('fork')`` without ``force`` when imported; it
    # fails if anything (tqdm's lock, for one) has already fixed the start method. Lava needs
    # fork, so accept that or force it, only while Lava's modules are imported.
    original = mp.set_start_method

    def _tolerant(method: str | None, force: bool = False) -> None:
        if mp.get_start_method(allow_none=True) != method:
            original(method, force=True)

    mp.set_start_method = _tolerant  # type: ignore[assignment]
    try:
        import lava.magma.core.process.process
        import lava.magma.runtime.message_infrastructure.multiprocessing  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(f"cannot import lava ({exc}); {INSTALL_HINT}") from exc
    finally:
        mp.set_start_method = original  # type: ignore[assignment]


class LavaBackend:
    """Lava (lava-nc 0.10) simulator of Linear LIF networks.

    Parameters
    ----------
    precision
        ``"float"`` (``floating_pt`` models, identical spike counts to the reference) or
        ``"fixed"`` (``fixed_pt`` models: 8-bit weights, 24-bit voltages, Loihi rules).
    chunk
        Samples per blocking Lava ``run`` call (their input trains are held by the source).
    """

    name = "lava"

    def __init__(self, precision: str = "float", chunk: int = 32) -> None:
        if precision not in ("float", "fixed"):
            raise ValidationError(
                f"lava backend: precision must be 'float' or 'fixed', got {precision!r}"
            )
        if int(chunk) < 1:
            raise ValidationError("lava backend: chunk must be >= 1")
        self.precision = precision
        self.chunk = int(chunk)

    def lower(self, network: Network, simulation: Simulation) -> LavaProgram:
        """Build the process graph of ``network`` (compiled on the first run)."""
        require_lava()
        if self.precision == "fixed" and not simulation.encoder.is_spiking:
            raise ValidationError(
                "lava backend: precision='fixed' needs a spiking encoder (RegularRate or "
                "Poisson); the ConstantCurrent encoder's analog input has no Loihi format here"
            )
        from lif_bridge_lava.program import LavaProgram

        return LavaProgram(network, simulation, precision=self.precision, chunk=self.chunk)
