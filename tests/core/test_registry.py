"""Tests of the backend registry (entry points), lazy imports, simulate() and Result."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import types
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import pytest

import lif_bridge
from lif_bridge import (
    Backend,
    BackendUnavailableError,
    Dense,
    LifBridgeError,
    Network,
    Result,
    Simulation,
    available_backends,
    get_backend,
    simulate,
)
from lif_bridge.backend import ENTRY_POINT_GROUP
from lif_bridge.testing import random_inputs, random_network

TOY_MODULE = "lif_bridge_toy_backend_for_tests"


def test_import_does_not_load_frameworks() -> None:
    """`import lif_bridge` (and its CLI parser) imports neither torch, brian2 nor lava."""
    code = (
        "import sys, json, lif_bridge, lif_bridge.cli\n"
        "lif_bridge.cli.build_parser()\n"
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in ('torch', 'brian2', 'lava'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_shipped_backends_registered() -> None:
    """reference, brian2 and lava are registered (installed or not)."""
    names = available_backends()
    assert {"reference", "brian2", "lava"} <= set(names)
    assert names == sorted(names)


def test_unknown_backend_names_registered_ones() -> None:
    """An unknown name raises BackendUnavailableError listing what is registered."""
    with pytest.raises(
        BackendUnavailableError,
        match=r"backend 'nope' is not registered \(registered: brian2, lava, reference.*\)",
    ) as info:
        get_backend("nope")
    assert isinstance(info.value, LifBridgeError) and isinstance(info.value, ImportError)


def test_reference_backend_is_a_backend() -> None:
    """The shipped reference backend satisfies the Backend protocol and takes options."""
    be = get_backend("reference", batch_size=3)
    assert isinstance(be, Backend)
    assert be.name == "reference"
    assert be.batch_size == 3  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- fake entry points


class ToyBackend:
    """A third-party backend: delegates to the reference one and records what it was given."""

    name = "toy"
    made: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **options: Any) -> None:
        ToyBackend.made.append(options)
        self.options = options

    def lower(self, network: Network, simulation: Simulation) -> Any:
        """Lower through the reference backend, tagging the result with this backend's name."""
        inner = get_backend("reference").lower(network, simulation)
        tag = self.options.get("tag", "")

        class _Program:
            closed = False

            def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
                r = inner.run(x, progress=progress, start_index=start_index)
                return Result(
                    counts=r.counts, output=r.output, steps=r.steps, dt=r.dt, backend=f"toy{tag}"
                )

            def close(self) -> None:
                _Program.closed = True

        ToyBackend.program = _Program  # type: ignore[attr-defined]
        return _Program()


def _not_a_backend(**options: Any) -> object:
    """A factory returning something without ``lower``."""
    return types.SimpleNamespace(name="broken")


@pytest.fixture
def fake_entry_points(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Add entry points (name -> 'module:attr') to the backend group for one test."""
    module = types.ModuleType(TOY_MODULE)
    module.ToyBackend = ToyBackend  # type: ignore[attr-defined]
    module.not_a_backend = _not_a_backend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, TOY_MODULE, module)
    extra: dict[str, str] = {}
    real = importlib.metadata.entry_points

    def entry_points(**kwargs: Any) -> Any:
        eps = list(real(**kwargs))
        if kwargs.get("group") == ENTRY_POINT_GROUP:
            eps = [ep for ep in eps if ep.name not in extra]
            eps += [
                importlib.metadata.EntryPoint(name=n, value=v, group=ENTRY_POINT_GROUP)
                for n, v in extra.items()
            ]
        return eps

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    ToyBackend.made.clear()
    yield extra


def test_third_party_backend_found_and_used(fake_entry_points: dict[str, str]) -> None:
    """A backend added through the entry-point group is listed, built with options, simulated."""
    fake_entry_points["toy"] = f"{TOY_MODULE}:ToyBackend"
    assert "toy" in available_backends()
    net = random_network(0, "dense")
    x = random_inputs(net, 4)
    sim = Simulation(steps=30)
    result = simulate(net, x, sim, "toy", tag="-1")
    assert ToyBackend.made == [{"tag": "-1"}]
    assert result.backend == "toy-1"
    assert ToyBackend.program.closed  # type: ignore[attr-defined]
    ref = simulate(net, x, sim)
    np.testing.assert_array_equal(result.output_counts, ref.output_counts)


def test_simulate_accepts_backend_object() -> None:
    """simulate() takes a backend object as well as a name, and closes the program."""
    ToyBackend.made.clear()
    net = random_network(1, "dense")
    result = simulate(net, random_inputs(net, 2), Simulation(steps=10), ToyBackend(tag="x"))
    assert result.backend == "toyx"
    assert ToyBackend.program.closed  # type: ignore[attr-defined]


def test_factory_that_is_not_a_backend_refused(fake_entry_points: dict[str, str]) -> None:
    """A factory whose product has no lower() is refused, naming the entry point."""
    fake_entry_points["broken"] = f"{TOY_MODULE}:not_a_backend"
    with pytest.raises(
        BackendUnavailableError,
        match=rf"entry point '{TOY_MODULE}:not_a_backend' for backend 'broken' does not give a "
        r"Backend \(needs a name and a lower\(network, simulation\) method\)",
    ):
        get_backend("broken")


def test_failed_import_gives_install_hint(fake_entry_points: dict[str, str]) -> None:
    """An entry point whose module cannot be imported gives BackendUnavailableError + hint."""
    fake_entry_points["mysim"] = "lif_bridge_no_such_module_xyz:Backend"
    with pytest.raises(
        BackendUnavailableError,
        match=r"backend 'mysim' cannot be imported \(.*lif_bridge_no_such_module_xyz.*\); "
        r"install the package that provides it",
    ):
        get_backend("mysim")


def test_failed_lava_import_mentions_python_310(fake_entry_points: dict[str, str]) -> None:
    """For lava the hint says lava-nc needs Python 3.10 and names the extra."""
    fake_entry_points["lava"] = "lif_bridge_no_such_lava_xyz:LavaBackend"
    with pytest.raises(
        BackendUnavailableError, match=r"backend 'lava' cannot be imported.*Python 3\.10.*\[lava\]"
    ):
        get_backend("lava")


def test_failed_brian2_import_names_extra(fake_entry_points: dict[str, str]) -> None:
    """For brian2 the hint names the pip extra."""
    fake_entry_points["brian2"] = "lif_bridge_no_such_brian_xyz:Brian2Backend"
    with pytest.raises(BackendUnavailableError, match=r"pip install 'lif-bridge\[brian2\]'"):
        get_backend("brian2")


# --------------------------------------------------------------------------- Result


def _result(counts: np.ndarray, **kw: Any) -> Result:
    return Result(counts={"out": counts, "h": counts * 2}, output="out", steps=50, dt=0.01, **kw)


def test_result_rates_predictions_duration() -> None:
    """rates = count / T; predictions take the lowest index on ties."""
    r = _result(np.array([[1, 3, 3], [0, 0, 0], [5, 1, 2]]))
    assert r.duration == pytest.approx(0.5)
    np.testing.assert_allclose(r.rates()[0], [2.0, 6.0, 6.0])
    np.testing.assert_allclose(r.rates("h")[0], [4.0, 12.0, 12.0])
    assert r.predictions().tolist() == [1, 0, 0]


def test_result_concatenate() -> None:
    """Joining batch results stacks counts and traces and adds the times."""
    a = _result(np.array([[1, 2]]), seconds=1.5, traces={"out": np.zeros((1, 50, 2))})
    b = _result(np.array([[3, 4], [5, 6]]), seconds=0.5, traces={"out": np.ones((2, 50, 2))})
    c = Result.concatenate([a, b])
    assert c.output_counts.tolist() == [[1, 2], [3, 4], [5, 6]]
    assert c.counts["h"].shape == (3, 2)
    assert c.traces["out"].shape == (3, 50, 2)
    assert c.seconds == pytest.approx(2.0)
    with pytest.raises(LifBridgeError, match="no results to join"):
        Result.concatenate([])


def test_simulate_reference_by_default() -> None:
    """simulate() defaults to the reference backend."""
    net = Network(input_shape=(1,), layers=(Dense(weight=[[1.0]]),))
    r = simulate(net, np.ones((1, 1)), Simulation(steps=10))
    assert r.backend == "reference"
    # input spikes every step, weight 1 = v_th: the neuron spikes from step 1 on (one-step delay)
    assert r.output_counts.tolist() == [[9]]


def test_public_api_lists_exist() -> None:
    """Every name in lif_bridge.__all__ exists."""
    missing = [n for n in lif_bridge.__all__ if not hasattr(lif_bridge, n)]
    assert missing == []
