"""What a backend contributes besides itself: command-line options, commands, an install hint.

A backend distribution registers up to three kinds of entry points; the core names none of them
and finds the shipped backends exactly as it finds a third party's::

    [project.entry-points."lif_bridge.backends"]      # the backend (see lif_bridge.backend)
    mysim = "my_package:MySimBackend"

    [project.entry-points."lif_bridge.backend_cli"]   # its options and install hint
    mysim = "my_package.cli:CLI"                      # a BackendCLI

    [project.entry-points."lif_bridge.commands"]      # extra sub-commands of `lif-bridge`
    mysim-report = "my_package.cli:REPORT"            # a Command

When to load what
    ``lif-bridge --help`` loads the ``lif_bridge.commands`` entry points (to list them with their
    help), so a module holding a :class:`Command` must not import the simulator framework at
    module level (import it inside :attr:`Command.run`). A :class:`BackendCLI` is loaded only when
    that backend is named (``lif-bridge run --backend mysim``, or to find its install hint when
    the backend itself cannot be imported), so its module may be as heavy as the backend's.

Install hints
    :func:`install_hint` takes :attr:`BackendCLI.install_hint`; if that module cannot be imported
    either (typically the framework is missing), it falls back to the distribution's metadata: an
    extra named like the backend gives ``pip install 'DIST[NAME]'`` and the extra's requirements.
"""

from __future__ import annotations

import argparse
import importlib.metadata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lif_bridge.errors import BackendUnavailableError, LifBridgeError, ValidationError

__all__ = [
    "BACKEND_CLI_GROUP",
    "COMMAND_GROUP",
    "BackendCLI",
    "BackendOption",
    "Command",
    "add_backend_options",
    "backend_cli",
    "commands",
    "install_hint",
    "load_command",
    "option_values",
]

BACKEND_CLI_GROUP = "lif_bridge.backend_cli"
COMMAND_GROUP = "lif_bridge.commands"

#: Value types an option may declare (the command-line string is converted with them).
OPTION_TYPES: Mapping[str, Callable[[str], Any]] = {"str": str, "int": int, "float": float}


@dataclass(frozen=True, kw_only=True)
class BackendOption:
    """One keyword option of a backend's constructor, offered on the command line.

    Attributes
    ----------
    name
        Keyword passed to the backend's factory (``get_backend(NAME, **{name: value})``); a
        Python identifier. The command-line flag is ``--`` + ``name`` with ``_`` → ``-``.
    help
        One line for ``--help``.
    type
        ``"str"``, ``"int"``, ``"float"`` (the value is converted) or ``"flag"`` (no value; given
        means ``True``).
    choices
        Allowed values (after conversion), or empty for any; checked by argparse. Leave empty
        when the backend itself validates with a better message (aliases, suggestions).
    metavar
        Placeholder shown in ``--help`` (default: the choices, or the upper-case name).
    """

    name: str
    help: str
    type: str = "str"
    choices: tuple[Any, ...] = ()
    metavar: str | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValidationError(f"backend option name {self.name!r} is not an identifier")
        if self.type not in (*OPTION_TYPES, "flag"):
            raise ValidationError(
                f"backend option {self.name!r}: type must be one of str, int, float, flag, "
                f"got {self.type!r}"
            )
        if self.type == "flag" and self.choices:
            raise ValidationError(f"backend option {self.name!r}: a flag takes no choices")

    @property
    def flag(self) -> str:
        """The command-line flag, e.g. ``--batch-size`` for ``batch_size``."""
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True, kw_only=True)
class BackendCLI:
    """What a backend offers the command line, registered under ``lif_bridge.backend_cli``.

    Attributes
    ----------
    options
        Options of its constructor that ``lif-bridge run --backend NAME`` (and every other
        command with ``--backend``) accepts; an option not given is not passed (the backend's
        default holds).
    install_hint
        How to install what the backend needs, ending the error when it cannot be imported,
        e.g. ``"install it with: pip install 'my-dist[mysim]'"``.
    """

    options: tuple[BackendOption, ...] = ()
    install_hint: str = ""


@dataclass(frozen=True, kw_only=True)
class Command:
    """A sub-command of ``lif-bridge`` contributed through ``lif_bridge.commands``.

    The entry point's name is the command's name (``lif-bridge NAME ...``).

    Attributes
    ----------
    help
        One line for ``lif-bridge --help``.
    add_arguments
        Adds the command's arguments to its (already created) parser.
    run
        Runs the command on the parsed arguments, returns the exit status; raises
        :class:`lif_bridge.LifBridgeError` for bad input (printed as one line, exit 2).
    description
        Text of ``lif-bridge NAME --help`` (default: ``help``).
    """

    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str = field(default="")


def _entry_points(group: str) -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=group)}


def backend_cli(name: str) -> BackendCLI:
    """The :class:`BackendCLI` registered for backend ``name`` (empty if none is registered).

    Raises
    ------
    BackendUnavailableError
        If its module cannot be imported (the message carries :func:`install_hint`).
    """
    ep = _entry_points(BACKEND_CLI_GROUP).get(name)
    if ep is None:
        return BackendCLI()
    try:
        cli = ep.load()
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(
            f"backend {name!r} cannot be imported ({exc}); {_metadata_hint(ep)}"
        ) from exc
    if not isinstance(cli, BackendCLI):
        raise LifBridgeError(
            f"entry point {ep.value!r} of group {BACKEND_CLI_GROUP} for backend {name!r} does "
            "not give a lif_bridge.plugins.BackendCLI"
        )
    return cli


def install_hint(name: str) -> str:
    """How to install backend ``name``: its plugin's hint, else one from its distribution."""
    ep = _entry_points(BACKEND_CLI_GROUP).get(name)
    if ep is not None:
        try:
            cli = ep.load()
        except (ImportError, AttributeError):
            return _metadata_hint(ep)
        if isinstance(cli, BackendCLI) and cli.install_hint:
            return cli.install_hint
    return "install the package that provides it"


def _metadata_hint(ep: importlib.metadata.EntryPoint) -> str:
    """``pip install 'DIST[EXTRA]'`` from the entry point's distribution, if it has the extra."""
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "install the package that provides it"
    dist_name = dist.metadata["Name"]
    extras = dist.metadata.get_all("Provides-Extra") or []
    if ep.name not in extras:
        return f"install the distribution {dist_name!r} with what it needs"
    marker = f'extra == "{ep.name}"'
    needs = [r.split(";")[0].strip() for r in (dist.requires or []) if marker in r]
    tail = f" (needs {', '.join(needs)})" if needs else ""
    return f"install it with: pip install '{dist_name}[{ep.name}]'{tail}"


def add_backend_options(parser: argparse.ArgumentParser, backend: str) -> tuple[str, ...]:
    """Add the options of ``backend`` to ``parser`` as a group; return their names.

    Raises
    ------
    LifBridgeError
        If an option's flag is one the command already has.
    """
    cli = backend_cli(backend)
    if not cli.options:
        return ()
    group = parser.add_argument_group(f"options of backend {backend!r}")
    for opt in cli.options:
        kwargs: dict[str, Any] = {"dest": f"backend_option_{opt.name}", "help": opt.help}
        if opt.type == "flag":
            kwargs.update(action="store_const", const=True, default=None)
        else:
            kwargs.update(type=OPTION_TYPES[opt.type], default=None)
            if opt.choices:
                kwargs["choices"] = opt.choices
            kwargs["metavar"] = opt.metavar or (
                "|".join(map(str, opt.choices)) if opt.choices else opt.name.upper()
            )
        try:
            group.add_argument(opt.flag, **kwargs)
        except argparse.ArgumentError as exc:
            raise LifBridgeError(
                f"backend {backend!r} declares option {opt.flag}, which the command already "
                "has; rename it in its BackendCLI"
            ) from exc
    return tuple(opt.name for opt in cli.options)


def option_values(args: argparse.Namespace, names: tuple[str, ...]) -> dict[str, Any]:
    """The backend options given on the command line (those not given are left out)."""
    values = {n: getattr(args, f"backend_option_{n}", None) for n in names}
    return {n: v for n, v in values.items() if v is not None}


def commands() -> dict[str, importlib.metadata.EntryPoint]:
    """Entry points of the contributed commands, by command name (not loaded)."""
    return _entry_points(COMMAND_GROUP)


def load_command(ep: importlib.metadata.EntryPoint) -> Command:
    """Load one contributed command.

    Raises
    ------
    LifBridgeError
        If its module cannot be imported or the object is not a :class:`Command`.
    """
    try:
        command = ep.load()
    except (ImportError, AttributeError) as exc:
        raise LifBridgeError(
            f"command {ep.name!r} ({ep.value}) cannot be imported ({exc}); install the package "
            "that provides it"
        ) from exc
    if not isinstance(command, Command):
        raise LifBridgeError(
            f"entry point {ep.value!r} of group {COMMAND_GROUP} does not give a "
            "lif_bridge.plugins.Command"
        )
    return command
