"""Brian2 backend of lif-bridge: lowering to ``brian2`` objects, runtime and standalone devices.

Registered as the entry point ``brian2`` of the group ``lif_bridge.backends``::

    from lif_bridge.backend import get_backend
    backend = get_backend("brian2", device="cpp_standalone")
    program = backend.lower(network, simulation)      # compiled on the first batch
    result = program.run(x)

Modules: :mod:`.equations` (model, exact step, methods text), :mod:`.lowering` (``to_brian2``),
:mod:`.maxpool`, :mod:`.inputs`, :mod:`.devices`, :mod:`.program`, :mod:`.standalone`,
:mod:`.cuda`, :mod:`.continuous` (single-neuron experiments), :mod:`.units`.
"""

from __future__ import annotations

import os
from pathlib import Path

from lif_bridge.network import Network, Simulation
from lif_bridge_brian2.continuous import single_neuron_rates
from lif_bridge_brian2.devices import cache_root, check_compiler, normalise_device
from lif_bridge_brian2.equations import describe
from lif_bridge_brian2.lowering import LayerMap, to_brian2
from lif_bridge_brian2.program import Brian2Program
from lif_bridge_brian2.units import PRESETS, UnitPreset

__all__ = [
    "PRESETS",
    "Brian2Backend",
    "Brian2Program",
    "LayerMap",
    "UnitPreset",
    "describe",
    "single_neuron_rates",
    "to_brian2",
]


class Brian2Backend:
    """Brian2 simulator backend.

    Parameters
    ----------
    device
        ``"runtime"`` (alias ``"numpy"``), ``"cython"``, ``"cpp_standalone"`` or
        ``"cuda_standalone"`` (brian2cuda, Python 3.12 environment).
    build_dir
        Folder for standalone projects and the Cython cache; default ``$LIF_BRIDGE_CACHE/brian2``
        or ``~/.cache/lif-bridge/brian2`` (never the working folder).
    units
        ``"si"`` (the description's numbers as-is, as in the paper) or ``"biophysical"``
        (mV, nF, nS, pA, pC); results are unchanged.
    samples_per_run
        Sample windows laid out in one run (standalone: compiled in, later batches are padded).
    trains
        Feed regular-rate inputs as precomputed trains instead of generating them in Brian2.
    poisson_group
        Use Brian2's ``PoissonGroup`` for Poisson coding: same statistics, **not** the
        reference's seeded trains (conformance then does not hold).
    keep_build
        Keep standalone project folders after ``Program.close()``.
    """

    name = "brian2"

    def __init__(
        self,
        device: str = "runtime",
        *,
        build_dir: str | os.PathLike[str] | None = None,
        units: str | UnitPreset = "si",
        samples_per_run: int = 100,
        trains: bool = False,
        poisson_group: bool = False,
        keep_build: bool = False,
    ) -> None:
        self.device = normalise_device(device)
        self.build_dir = build_dir
        self.units = units
        self.samples_per_run = int(samples_per_run)
        self.trains = trains
        self.poisson_group = poisson_group
        self.keep_build = keep_build

    def lower(self, network: Network, simulation: Simulation) -> Brian2Program:
        """Lower ``network`` for runs under ``simulation`` (standalone compiles on first run)."""
        check_compiler(self.device)
        root: Path = cache_root(self.build_dir)
        return Brian2Program(
            network,
            simulation,
            target=self.device,
            units=self.units,
            build_root=root,
            samples_per_run=self.samples_per_run,
            trains=self.trains,
            poisson_group=self.poisson_group,
            keep_build=self.keep_build,
        )
