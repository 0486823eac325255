"""What the reference backend offers the command line (entry point ``lif_bridge.backend_cli``)."""

from __future__ import annotations

from lif_bridge.plugins import BackendCLI, BackendOption

__all__ = ["CLI"]

CLI = BackendCLI(
    options=(
        BackendOption(
            name="batch_size",
            type="int",
            help="samples simulated together (default: the largest within --memory-gib)",
        ),
        BackendOption(
            name="memory_gib",
            type="float",
            help="working-set budget [GiB] that chooses the batch size (default 2)",
        ),
    ),
)
