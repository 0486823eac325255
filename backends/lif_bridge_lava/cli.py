"""What the Lava backend offers the command line: ``--precision`` and ``check-loihi``.

Registered as entry points ``lava`` (group ``lif_bridge.backend_cli``) and ``check-loihi``
(group ``lif_bridge.commands``). Importing it does not import Lava: ``check-loihi`` needs only
NumPy.
"""

from __future__ import annotations

import argparse

from lif_bridge.cli.common import emit, load_split, resolve_data_dir
from lif_bridge.errors import ValidationError
from lif_bridge.network import Simulation
from lif_bridge.network.io import load_network_and_simulation
from lif_bridge.plugins import BackendCLI, BackendOption, Command
from lif_bridge_lava import INSTALL_HINT

__all__ = ["CHECK_LOIHI", "CLI"]

CLI = BackendCLI(
    options=(
        BackendOption(
            name="precision",
            choices=("float", "fixed"),
            help="float: floating_pt models (the contract) | fixed: Loihi integer arithmetic",
        ),
        BackendOption(name="chunk", type="int", help="samples per blocking Lava run (32)"),
    ),
    install_hint=INSTALL_HINT,
)


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("network", metavar="NET", help="network file (lif_bridge.save_network)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument(
        "--calibrate-on",
        metavar="DATA",
        help="calibration data: 'mnist', 'digits' or a .npz with x; default: no calibration",
    )
    p.add_argument(
        "--calibration-samples", type=int, default=20, help="samples to calibrate on (20)"
    )
    p.add_argument("--steps", type=int, help="calibration steps (default: file's, else 100)")
    p.add_argument("--data-dir", default=None, help="folder of the MNIST files")


def _check_loihi(args: argparse.Namespace) -> int:
    """Build the report, print it, return 0 if the network fits else 1."""
    from lif_bridge_lava.loihi import loihi_report

    network, saved = load_network_and_simulation(args.network)
    sim = saved or Simulation(steps=100, dt=0.01)
    if args.steps is not None:
        sim = Simulation(
            steps=args.steps,
            dt=sim.dt,
            encoder=sim.encoder,
            max_rate=sim.max_rate,
            readout=sim.readout,
        )
    x = None
    if args.calibrate_on:
        if args.calibration_samples < 1:
            raise ValidationError("--calibration-samples must be >= 1")
        x, _ = load_split(
            args.calibrate_on, "test", resolve_data_dir(args.data_dir), args.calibration_samples
        )
    report = loihi_report(network, x, sim)
    emit(report.to_dict(), args.json, report.to_text())
    return 0 if report.fits else 1


CHECK_LOIHI = Command(
    help="estimate whether a network fits Loihi 2 (fixed-point formats, cores)",
    description="Quantise the network to Loihi formats (8-bit weight mantissa with an exponent "
    "per projection, 24-bit voltage, 12-bit decay, 13-bit bias), optionally run the integer rules "
    "on calibration samples, and estimate the cores needed. Exit status 0 if it fits, 1 if "
    "not.",
    add_arguments=_add_arguments,
    run=_check_loihi,
)
