"""What the Brian2 backend offers the command line (entry point ``lif_bridge.backend_cli``).

Importing this module imports Brian2 (through the package); the core loads it only when the
Brian2 backend is named, and falls back to the distribution's ``brian2`` extra for the install
hint when it cannot be imported.
"""

from __future__ import annotations

from lif_bridge.plugins import BackendCLI, BackendOption

__all__ = ["CLI"]

CLI = BackendCLI(
    options=(
        BackendOption(
            name="device",
            metavar="DEVICE",
            help="runtime (alias numpy) | cython | cpp_standalone | cuda_standalone",
        ),
        BackendOption(
            name="units", choices=("si", "biophysical"), help="unit preset of the Brian2 objects"
        ),
        BackendOption(
            name="build_dir", metavar="DIR", help="folder for standalone projects and caches"
        ),
        BackendOption(
            name="samples_per_run",
            type="int",
            help="sample windows per run (runtime: 100; standalone: every image, one run)",
        ),
        BackendOption(
            name="poisson_group",
            type="flag",
            help="Brian2's PoissonGroup for Poisson coding (not the reference's seeded trains)",
        ),
        BackendOption(name="keep_build", type="flag", help="keep standalone project folders"),
        BackendOption(
            name="threads",
            type="int",
            help="OpenMP threads of cpp_standalone (0: serial; counts are unchanged)",
        ),
    ),
    install_hint="install it with: pip install 'lif-bridge[brian2]'",
)
