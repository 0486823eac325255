"""The reference backend: a batched simulator, the executable definition of the contract.

It follows :mod:`lif_bridge.semantics` literally; every other backend is tested against it.
Registered under the entry point ``reference`` of the group ``lif_bridge.backends``.
"""

from __future__ import annotations

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network import Network, Simulation
from lif_bridge_reference.simulator import COMPILED_ENV, ReferenceProgram, batch_size_for

__all__ = ["ReferenceBackend", "ReferenceProgram", "batch_size_for"]


class ReferenceBackend:
    """Reference simulator: compiled (numba) kernels by default, NumPy step by step on request.

    Parameters
    ----------
    batch_size
        Samples simulated together; default: the largest batch (<= 256) within ``memory_gib``.
    memory_gib
        Working-set budget [GiB] used to choose the batch size (default 2 GiB, bounded on a
        24 GiB machine).
    compiled
        ``True``: the compiled kernels of ``lif_bridge_reference.fused`` (one population over a
        block of steps at a time); ``False``: the NumPy transcription of the step rule (slow,
        the fallback); ``None`` (default): compiled unless ``$LIF_BRIDGE_REFERENCE_COMPILED=0``.
        Counts are identical.
    """

    name = "reference"

    def __init__(
        self, batch_size: int | None = None, memory_gib: float = 2.0, compiled: bool | None = None
    ) -> None:
        if batch_size is not None and (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1
        ):
            raise ValidationError(
                f"reference backend: batch_size (--batch-size) must be an int >= 1, got "
                f"{batch_size!r}; leave it out to choose it from memory_gib"
            )
        if not isinstance(memory_gib, (int, float)) or not 0 < memory_gib < float("inf"):
            raise ValidationError(
                f"reference backend: memory_gib (--memory-gib) must be a finite number > 0, "
                f"got {memory_gib!r}"
            )
        if compiled is not None and not isinstance(compiled, (bool, np.bool_)):
            raise ValidationError(
                f"reference backend: compiled must be True, False or None (the default: "
                f"${COMPILED_ENV}), got {compiled!r}"
            )
        self.compiled = None if compiled is None else bool(compiled)
        self.batch_size = None if batch_size is None else int(batch_size)
        self.memory_bytes = int(memory_gib * 2**30)

    def lower(self, network: Network, simulation: Simulation) -> ReferenceProgram:
        """Prepare ``network`` (operators, leak constants) for runs under ``simulation``."""
        return ReferenceProgram(
            network,
            simulation,
            batch_size=self.batch_size,
            memory_bytes=self.memory_bytes,
            compiled=self.compiled,
        )
