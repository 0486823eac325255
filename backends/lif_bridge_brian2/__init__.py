"""Brian2 backend of lif-bridge: lowering to ``brian2`` objects, runtime and standalone devices.

Registered as the entry point ``brian2`` of the group ``lif_bridge.backends``::

    from lif_bridge.backend import get_backend
    backend = get_backend("brian2", device="cpp_standalone")
    program = backend.lower(network, simulation)      # compiled on the first batch
    result = program.run(x)

Modules, bottom up: :mod:`.units`, :mod:`.equations` (model, exact step, parameters),
:mod:`.inputs` (the input routes), :mod:`.maxpool`, :mod:`.populations` (editable groups),
:mod:`.synapses`, :mod:`.lowering` (``to_brian2``), :mod:`.describe`; :mod:`.spec` (the build
specification), :mod:`.toolchain` (compiler flags, ``make``), :mod:`.runtime`,
:mod:`.standalone`, :mod:`.cuda`, :mod:`.devices` (devices as objects), :mod:`.program`;
:mod:`.continuous` (single-neuron experiments).
"""

from __future__ import annotations

import os

from lif_bridge.network import Network, Simulation
from lif_bridge_brian2.continuous import single_neuron_rates
from lif_bridge_brian2.describe import describe
from lif_bridge_brian2.devices import DEVICES, Device, device_for
from lif_bridge_brian2.inputs import InputRoute, input_route, input_values
from lif_bridge_brian2.lowering import LayerMap, to_brian2
from lif_bridge_brian2.populations import LIFGroup
from lif_bridge_brian2.program import Brian2Program
from lif_bridge_brian2.spec import BuildSpec, chunk_size
from lif_bridge_brian2.toolchain import cache_root
from lif_bridge_brian2.units import PRESETS, UnitPreset, get_preset

__all__ = [
    "DEVICES",
    "PRESETS",
    "Brian2Backend",
    "Brian2Program",
    "BuildSpec",
    "Device",
    "InputRoute",
    "LIFGroup",
    "LayerMap",
    "UnitPreset",
    "describe",
    "input_values",
    "single_neuron_rates",
    "to_brian2",
]


class Brian2Backend:
    """Brian2 simulator backend.

    Parameters
    ----------
    device
        ``"runtime"`` (alias ``"numpy"``), ``"cython"``, ``"cpp_standalone"`` or
        ``"cuda_standalone"`` (brian2cuda, Python 3.12 environment), or a
        :class:`~lif_bridge_brian2.devices.Device`.
    build_dir
        Folder for standalone projects and the Cython cache; default ``$LIF_BRIDGE_CACHE/brian2``
        or ``~/.cache/lif-bridge/brian2`` (never the working folder).
    units
        ``"si"`` (the description's numbers as-is, as in the paper) or ``"biophysical"``
        (mV, nF, nS, pA, pC); results are unchanged.
    samples_per_run
        Sample windows laid out in one run (standalone: compiled in, later batches are padded).
        Default: 100 at runtime; standalone, the first batch (all its samples in one run of
        the binary). Bounded so that the input table fits 64 MiB.
    trains
        Feed regular-rate inputs as precomputed trains instead of generating them in Brian2.
    poisson_group
        Use Brian2's ``PoissonGroup`` for Poisson coding: same statistics, **not** the
        reference's seeded trains (conformance then does not hold).
    keep_build
        Keep standalone project folders after ``Program.close()``.
    threads
        OpenMP threads of the standalone devices (``0``: serial); counts are unchanged.
    """

    name = "brian2"

    def __init__(
        self,
        device: str | Device = "runtime",
        *,
        build_dir: str | os.PathLike[str] | None = None,
        units: str | UnitPreset = "si",
        samples_per_run: int | None = None,
        trains: bool = False,
        poisson_group: bool = False,
        keep_build: bool = False,
        threads: int = 0,
    ) -> None:
        self.device = device_for(device)
        self.build_dir = build_dir
        self.units = get_preset(units)
        self.samples_per_run = None if samples_per_run is None else int(samples_per_run)
        self.trains = trains
        self.poisson_group = poisson_group
        self.keep_build = keep_build
        self.threads = int(threads)

    def lower(self, network: Network, simulation: Simulation) -> Brian2Program:
        """Lower ``network`` for runs under ``simulation`` (standalone compiles on first run)."""
        self.device.check()
        route = input_route(simulation, trains=self.trains, poisson_group=self.poisson_group)
        spec = BuildSpec(
            network=network,
            simulation=simulation,
            route=route,
            units=self.units,
            samples=chunk_size(route, simulation, network.n_inputs, self.samples_per_run or 100),
            monitor_counts=tuple(simulation.readout.count_layers(network)),
            build_root=cache_root(self.build_dir),
            keep_build=self.keep_build,
            threads=self.threads,
        )
        return Brian2Program(spec, self.device, fit_first_batch=self.samples_per_run is None)
