"""The ``lif-bridge`` command line: thin; parses, calls the API, prints.

Each core sub-command lives in a module of this package exposing ``register(subparsers)``, which
adds its parser and sets ``func(args) -> int``. Backends (and any other distribution) add
sub-commands and the options of ``--backend NAME`` through the entry points of
:mod:`lif_bridge.plugins`; nothing here names a backend. Errors of lif-bridge (bad input,
missing files or backends) print one line and exit with status 2; nothing prints a traceback
for them. Usage errors (an unknown option, a value argparse refuses) are one line too.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from lif_bridge.errors import LifBridgeError
from lif_bridge.plugins import (
    Command,
    add_backend_options,
    commands,
    load_command,
    option_values,
)

__all__ = ["UsageError", "backend_options", "build_parser", "main"]

#: Core sub-command modules, in the order of ``lif-bridge --help`` (contributed ones follow).
COMMAND_MODULES = ("mapping", "convert", "export", "run", "demo", "reproduce", "sweep", "diagnose")


class UsageError(LifBridgeError):
    """A command line argparse refuses (printed as one line, exit 2, like every error)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (:class:`UsageError`) instead of usage + exit."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message} (`{self.prog} --help` lists the options)")


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered.

    ``argv`` (default: none) selects what is loaded beyond the core: the command it names gets
    the options of the backend it names with ``--backend`` (or of the command's default one).
    """
    from lif_bridge import __version__

    parser = _Parser(
        prog="lif-bridge",
        description="Convert ReLU networks to Linear LIF spiking networks (Lu & Xu 2022), run "
        "them on any registered simulator backend, and measure how far they are from the ANN.",
    )
    parser.add_argument("--version", action="version", version=f"lif-bridge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"lif_bridge.cli.{name}").register(sub)
    _add_contributed_commands(sub)
    argv = list(argv or [])
    chosen = next((a for a in argv if not a.startswith("-")), None)
    if chosen in sub.choices:
        _add_chosen_backend_options(sub.choices[chosen], argv)
    return parser


def _add_contributed_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Sub-commands from ``lif_bridge.commands``; one that cannot load says why when run."""
    for name, ep in sorted(commands().items()):
        if name in sub.choices:  # the core's commands keep their names
            continue
        try:
            command = load_command(ep)
        except LifBridgeError as exc:
            _add_unavailable(sub, name, exc)
            continue
        p = sub.add_parser(name, help=command.help, description=command.description or None)
        command.add_arguments(p)
        p.set_defaults(func=_runner(command))


def _runner(command: Command):  # type: ignore[no-untyped-def]
    return lambda args: command.run(args)


def _add_unavailable(sub: argparse._SubParsersAction, name: str, exc: Exception) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(name, help=f"(unavailable: {exc})", add_help=False)

    def fail(args: argparse.Namespace) -> int:
        raise LifBridgeError(str(exc))

    p.set_defaults(func=fail, unavailable=True)


def _add_chosen_backend_options(parser: argparse.ArgumentParser, argv: list[str]) -> None:
    """Give a command with ``--backend`` the options of the backend ``argv`` names."""
    default = parser.get_default("backend")
    if default is None:
        return
    pre = _Parser(add_help=False, allow_abbrev=False)
    pre.add_argument("--backend", default=default)
    backend = pre.parse_known_args(argv)[0].backend
    names = add_backend_options(parser, backend)
    parser.set_defaults(backend_option_names=names)


def backend_options(args: argparse.Namespace) -> dict[str, object]:
    """Keyword options for :func:`lif_bridge.get_backend` from the parsed command line."""
    return option_values(args, getattr(args, "backend_option_names", ()))


def _unrecognised(args: argparse.Namespace, extra: list[str]) -> LifBridgeError:
    names = getattr(args, "backend_option_names", ())
    flags = ", ".join("--" + n.replace("_", "-") for n in names) or "none"
    return LifBridgeError(
        f"unrecognised arguments for `lif-bridge {args.command}` with backend "
        f"{args.backend!r}: {' '.join(extra)} (that backend's options: {flags}; "
        f"`lif-bridge {args.command} --backend NAME --help` lists another backend's options)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``lif-bridge``; returns the exit status."""
    from lif_bridge.cli.common import fail

    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
        args, extra = parser.parse_known_args(argv)
        if extra and not getattr(args, "unavailable", False):
            if getattr(args, "backend", None) is None:
                parser.error(f"unrecognized arguments: {' '.join(extra)}")
            raise _unrecognised(args, extra)
        return int(args.func(args) or 0)
    except LifBridgeError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return fail("interrupted", 130)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
