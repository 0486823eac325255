"""The plugin API: a third-party backend contributes CLI options, a command and a hint."""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from lif_bridge import Dense, Flatten, Network, Result, Simulation, get_backend, save_network
from lif_bridge.cli import build_parser, main
from lif_bridge.errors import BackendUnavailableError, ValidationError
from lif_bridge.plugins import (
    BACKEND_CLI_GROUP,
    COMMAND_GROUP,
    BackendCLI,
    BackendOption,
    Command,
    install_hint,
)

MODULE = "lif_bridge_fake_plugin_for_tests"
ROOT = Path(__file__).resolve().parents[2]


class FakeBackend:
    """A third party's backend: the reference one, tagged, remembering its options."""

    name = "fake"
    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, gain: int = 1, loud: bool = False) -> None:
        FakeBackend.made.append({"gain": gain, "loud": loud})

    def lower(self, network: Network, simulation: Simulation) -> Any:
        """Lower through the reference backend; the result is tagged ``fake``."""
        inner = get_backend("reference").lower(network, simulation)

        class _Program:
            def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
                r = inner.run(x, progress=progress, start_index=start_index)
                return Result(
                    counts=r.counts, output=r.output, steps=r.steps, dt=r.dt, backend="fake"
                )

            def close(self) -> None:
                inner.close()

        return _Program()


def _hello_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--who", default="world")


def _hello(args: argparse.Namespace) -> int:
    print(f"hello {args.who}")
    return 3


FAKE_CLI = BackendCLI(
    options=(
        BackendOption(name="gain", type="int", choices=(1, 2, 4), help="a gain"),
        BackendOption(name="loud", type="flag", help="be loud"),
    ),
    install_hint="get it with: pip install fake-sim",
)
HELLO = Command(help="say hello (from the fake plugin)", add_arguments=_hello_args, run=_hello)


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, dict[str, str]]]:
    """Entry points group -> {name: 'module:attr'} added for one test."""
    module = types.ModuleType(MODULE)
    module.FakeBackend = FakeBackend  # type: ignore[attr-defined]
    module.CLI = FAKE_CLI  # type: ignore[attr-defined]
    module.HELLO = HELLO  # type: ignore[attr-defined]
    module.NOT_A_COMMAND = object()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, MODULE, module)
    groups: dict[str, dict[str, str]] = {
        "lif_bridge.backends": {"fake": f"{MODULE}:FakeBackend"},
        BACKEND_CLI_GROUP: {"fake": f"{MODULE}:CLI"},
        COMMAND_GROUP: {"hello": f"{MODULE}:HELLO"},
    }
    real = importlib.metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        group = kwargs.get("group")
        eps = list(real(**kwargs))
        extra = groups.get(group, {})
        eps = [ep for ep in eps if ep.name not in extra]
        return eps + [
            importlib.metadata.EntryPoint(name=n, value=v, group=group) for n, v in extra.items()
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    FakeBackend.made.clear()
    yield groups


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    """A small dense network on 8x8 inputs, saved."""
    rng = np.random.default_rng(0)
    net = Network(
        input_shape=(1, 8, 8),
        layers=(Flatten(), Dense(weight=rng.normal(0, 0.3, (10, 64)), ann_activation="identity")),
    )
    return save_network(tmp_path / "net.npz", net)


def test_fake_backend_options_reach_its_factory(
    plugin: dict[str, dict[str, str]], net_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --backend fake --gain 4 --loud`: converted, passed to the factory; absent ones not."""
    args = ["run", str(net_file), "--data", "digits", "--limit", "3", "--steps", "5", "--json"]
    assert main([*args, "--backend", "fake", "--gain", "4", "--loud"]) == 0
    assert json.loads(capsys.readouterr().out)["backend"] == "fake"
    assert main([*args, "--backend", "fake"]) == 0
    assert FakeBackend.made == [{"gain": 4, "loud": True}, {"gain": 1, "loud": False}]


def test_fake_backend_options_in_help(
    plugin: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """`run --backend fake --help` lists the fake backend's options (not the reference's)."""
    with pytest.raises(SystemExit):
        main(["run", "--backend", "fake", "--help"])
    out = capsys.readouterr().out
    assert "options of backend 'fake'" in out and "--gain 1|2|4" in out and "--loud" in out
    assert "--batch-size" not in out


def test_option_of_another_backend_is_one_line(
    plugin: dict[str, dict[str, str]], net_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reference's --batch-size given to the fake backend: exit 2, one line with its options."""
    code = main(["run", str(net_file), "--backend", "fake", "--batch-size", "3"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--batch-size 3" in err[0] and "'fake'" in err[0] and "--gain, --loud" in err[0]


def test_contributed_command_listed_and_run(
    plugin: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A command from the entry points is in `lif-bridge --help` and runs with its arguments."""
    with pytest.raises(SystemExit):
        main(["--help"])
    assert re.search(r"hello\s+say hello \(from the fake plugin\)", capsys.readouterr().out)
    assert main(["hello", "--who", "lab"]) == 3
    assert capsys.readouterr().out == "hello lab\n"


def test_broken_command_is_listed_and_fails_in_one_line(
    plugin: dict[str, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """A command whose module is missing, or is no Command, does not break the other commands."""
    plugin[COMMAND_GROUP].update(
        gone="lif_bridge_no_such_plugin_xyz:CMD", odd=f"{MODULE}:NOT_A_COMMAND"
    )
    assert {"gone", "odd", "hello", "run"} <= set(
        build_parser()._subparsers._group_actions[0].choices
    )  # type: ignore[union-attr]
    assert main(["gone", "--anything"]) == 2
    assert "command 'gone'" in capsys.readouterr().err
    assert main(["odd"]) == 2
    assert "does not give a lif_bridge.plugins.Command" in capsys.readouterr().err


def test_install_hint_from_plugin_then_metadata(plugin: dict[str, dict[str, str]]) -> None:
    """The plugin's hint when its module loads; else the distribution's extra of that name."""
    assert install_hint("fake") == "get it with: pip install fake-sim"
    plugin["lif_bridge.backends"]["fake"] = "lif_bridge_no_such_backend_xyz:B"
    with pytest.raises(BackendUnavailableError, match=r"cannot be imported.*pip install fake-sim"):
        get_backend("fake")
    assert install_hint("unregistered-xyz") == "install the package that provides it"
    dist = importlib.metadata.distribution("lif-bridge")
    ep = importlib.metadata.EntryPoint(
        name="brian2", value="lif_bridge_no_such_xyz:CLI", group=BACKEND_CLI_GROUP
    )
    from lif_bridge.plugins import _metadata_hint

    hint = _metadata_hint(ep._for(dist))  # type: ignore[attr-defined]
    assert hint.startswith("install it with: pip install 'lif-bridge[brian2]' (needs ")


def test_option_declarations_validated() -> None:
    """A bad option declaration fails when the plugin is written, naming the option."""
    with pytest.raises(ValidationError, match="'bad-name' is not an identifier"):
        BackendOption(name="bad-name", help="")
    with pytest.raises(ValidationError, match="type must be one of"):
        BackendOption(name="x", type="complex", help="")
    assert BackendOption(name="samples_per_run", help="").flag == "--samples-per-run"


def test_core_cli_names_no_backend() -> None:
    """The command line and the backend registry name no shipped simulator framework."""
    files = [
        *sorted((ROOT / "lif_bridge" / "cli").glob("*.py")),
        ROOT / "lif_bridge" / "backend.py",
    ]
    found = [f.name for f in files if re.search(r"brian2|lava", f.read_text(), re.IGNORECASE)]
    assert found == []
