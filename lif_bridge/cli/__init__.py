"""The ``lif-bridge`` command line: thin; parses, calls the API, prints.

Each sub-command lives in a module of this package exposing ``register(subparsers)``, which
adds its parser and sets ``func(args) -> int``. Errors of lif-bridge (bad input, missing files or
backends) print one line and exit with status 2; nothing prints a traceback for them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from lif_bridge.errors import LifBridgeError

__all__ = ["build_parser", "main"]

#: Sub-command modules, in the order of ``lif-bridge --help``.
COMMAND_MODULES = (
    "mapping",
    "convert",
    "run",
    "demo",
    "reproduce",
    "check_loihi",
    "sweep",
    "diagnose",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    from lif_bridge import __version__

    parser = argparse.ArgumentParser(
        prog="lif-bridge",
        description="Convert ReLU networks to Linear LIF spiking networks (Lu & Xu 2022), run "
        "them on NumPy, Brian2 or Lava, and measure how far they are from the ANN.",
    )
    parser.add_argument("--version", action="version", version=f"lif-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"lif_bridge.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"lif_bridge.cli.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lif-bridge``; returns the exit status."""
    from lif_bridge.cli._common import fail

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LifBridgeError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
