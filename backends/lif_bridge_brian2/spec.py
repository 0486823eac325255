"""What a device builds: the typed, validated build specification of a Brian2 program."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lif_bridge.errors import BackendError
from lif_bridge.network import Network, Simulation
from lif_bridge_brian2.inputs import InputRoute
from lif_bridge_brian2.units import UnitPreset

__all__ = ["TABLE_BYTES", "BuildSpec", "Outputs", "chunk_size"]

#: Largest input table [bytes] a single run may hold (trains are B·W·n float64 numbers).
TABLE_BYTES = 64 * 2**20

#: Spike counts and membrane traces per population, one row per sample window.
Outputs = tuple[dict[str, np.ndarray], dict[str, np.ndarray]]


def chunk_size(route: InputRoute, simulation: Simulation, n_in: int, wanted: int) -> int:
    """Samples per run: ``wanted``, bounded so that the input table fits :data:`TABLE_BYTES`."""
    per = route.table_bytes_per_sample(simulation.steps, n_in)
    return int(max(1, min(wanted, TABLE_BYTES // max(per, 1))))


@dataclass(frozen=True)
class BuildSpec:
    """Everything a device needs to build a network, and nothing else.

    Attributes
    ----------
    network, simulation
        What to run and how.
    route
        How the input reaches the first layer.
    units
        Unit preset of the Brian2 objects (results do not depend on it).
    samples
        Sample windows laid out in one run (standalone: compiled in).
    monitor_counts
        Populations whose spikes are recorded (what the readout counts).
    build_root
        Folder of build projects and caches.
    keep_build
        Keep a standalone project folder when the program is closed.
    threads
        OpenMP threads of a standalone build (``0``: none, the code runs serially).
    """

    network: Network
    simulation: Simulation
    route: InputRoute
    units: UnitPreset
    samples: int
    monitor_counts: tuple[str, ...]
    build_root: Path
    keep_build: bool = False
    threads: int = 0

    def __post_init__(self) -> None:
        if self.threads < 0:
            raise BackendError(
                f"brian2 backend: threads must be >= 0 (0: no OpenMP), got {self.threads}"
            )
        if self.samples < 1:
            raise BackendError(
                f"brian2 backend: samples_per_run must be >= 1, got {self.samples}; "
                "give a positive number of sample windows per run"
            )
        unknown = set(self.monitor_counts) - {p.name for p in self.network.populations}
        if unknown:
            raise BackendError(
                f"brian2 backend: cannot count spikes of {sorted(unknown)}: no such population"
            )

    def with_samples(self, samples: int) -> BuildSpec:
        """The same specification for ``samples`` windows per run (bounded by the table size)."""
        from dataclasses import replace

        n = chunk_size(self.route, self.simulation, self.network.n_inputs, samples)
        return replace(self, samples=n)
