"""Hostile or mistaken input on the command line: one line naming the parameter, exit 2.

Huge runs (``--steps 1e12``, ``--rates 1e12``) refused with an estimate; inputs outside [0, 1]
refused unless ``--scale-inputs``; overflowing numbers refused and ``--json`` never prints
``Infinity``/``NaN``; bad backend options; ``--help`` texts; complex and NaN weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import build_parser, main
from lif_bridge.cli.common import emit
from lif_bridge.errors import ConversionError, ValidationError
from lif_bridge.network import Dense, Network, Neurons
from lif_bridge.network.io import save_network


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    rng = np.random.default_rng(2)
    net = Network(input_shape=(4,), layers=(Dense(weight=rng.random((3, 4)), neurons=Neurons()),))
    return save_network(tmp_path / "net.npz", net)


def _data(tmp_path: Path, x: np.ndarray) -> Path:
    path = tmp_path / "x.npz"
    np.savez(path, x=x)
    return path


def test_steps_in_exponent_notation_refused_with_an_estimate(
    net_file: Path, tmp_path: Path, one_line: Callable[..., str]
) -> None:
    data = _data(tmp_path, np.full((2, 4), 0.5))
    assert main(["run", str(net_file), "--data", str(data), "--steps", "1e12"]) == 2
    one_line("--steps = 1,000,000,000,000", "memory", "LIF_BRIDGE_LIMIT_")


def test_transfer_huge_rates_refused(one_line: Callable[..., str]) -> None:
    code = main(["transfer", "--weights", "0.5", "--g-l", "1", "--rates", "1e12", "--json"])
    assert code == 2
    one_line("rates", "input events", "LIF_BRIDGE_LIMIT_EVENTS")


@pytest.mark.parametrize(
    ("x", "needle"), [(np.full((2, 4), 255.0), "divide by 255"), (np.full((2, 4), -0.5), "[-0.5")]
)
def test_inputs_outside_unit_interval_refused(
    net_file: Path, tmp_path: Path, one_line: Callable[..., str], x: np.ndarray, needle: str
) -> None:
    data = _data(tmp_path, x)
    assert main(["run", str(net_file), "--data", str(data), "--steps", "5"]) == 2
    one_line("inputs must lie in [0, 1]", needle, "--scale-inputs")


def test_scale_inputs_runs_uint8_images(
    net_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = np.array([[0, 51, 102, 255], [255, 0, 0, 0]], dtype=np.uint8)
    data = _data(tmp_path, x)
    args = ["run", str(net_file), "--data", str(data), "--steps", "20", "--json", "--no-progress"]
    assert main([*args, "--scale-inputs"]) == 0
    scaled = json.loads(capsys.readouterr().out)
    np.savez(data, x=x / 255.0)
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["agreement"] == scaled["agreement"]


@pytest.mark.parametrize(
    "argv",
    [
        ["map", "--weights", "0.1", "--inverse", "--g-l", "1e308", "--json"],
        ["map", "--weights", "0.5", "--bias=-1e308", "--c-m", "1e-300", "--v-th", "1e300"],
    ],
)
def test_overflow_refused(argv: list[str], one_line: Callable[..., str]) -> None:
    assert main(argv) == 2
    err = one_line()
    assert "g_l" in err or "bias" in err or "v_th" in err


def test_json_never_prints_infinity_or_nan(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"a": float("inf"), "b": [np.float64("nan"), 1.0], "c": np.array([np.inf])}, True, "")
    out = capsys.readouterr().out
    assert "Infinity" not in out and "NaN" not in out
    assert json.loads(out) == {"a": None, "b": [None, 1.0], "c": [None]}
    assert main(["map", "--weights", "0.5", "--inverse", "--g-l", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["tau_m"] is None


@pytest.mark.parametrize("value", ["0", "-1"])
def test_batch_size_zero_or_negative_refused(
    net_file: Path, tmp_path: Path, one_line: Callable[..., str], value: str
) -> None:
    data = _data(tmp_path, np.full((2, 4), 0.5))
    argv = ["run", str(net_file), "--data", str(data), "--steps", "5", f"--batch-size={value}"]
    assert main(argv) == 2
    one_line("batch_size (--batch-size) must be an int >= 1")


def test_usage_errors_are_one_line(one_line: Callable[..., str]) -> None:
    assert main(["run"]) == 2
    one_line("lif-bridge run", "NET", "--help")
    assert main(["run", "n.npz", "--steps", "many"]) == 2
    one_line("--steps", "must be an integer")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser(["run"])
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def test_every_command_has_a_description_and_every_option_help() -> None:
    missing = []
    for name, p in _subparsers().items():
        if not p.description:
            missing.append(f"{name}: description")
        missing += [
            f"{name} {a.option_strings or a.dest}"
            for a in p._actions
            if not a.help and not isinstance(a, argparse._HelpAction)
        ]
    assert missing == []


def test_backend_lists_its_choices_from_the_entry_points() -> None:
    from lif_bridge.backend import available_backends

    names = available_backends()
    run_help = _subparsers()["run"].format_help()
    assert "{" + ",".join(names) + "}" in run_help.replace("\n", "").replace(" ", "")
    assert "Simulate a network file" in run_help


def test_complex_weights_refused() -> None:
    with pytest.raises(ValidationError, match="complex numbers"):
        Dense(weight=np.ones((2, 2)) * (1 + 1j))
    with pytest.raises(ValidationError, match="complex numbers"):
        Neurons(g_l=np.array([1 + 2j]))


@pytest.mark.torch
def test_torchscript_with_nan_weights_refused(tmp_path: Path) -> None:
    import torch
    from torch import nn

    import lif_bridge as lb

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        model[2].weight[0, 0] = float("nan")
    path = tmp_path / "nan.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    with pytest.raises(ConversionError, match=r"parameter '2\.weight' holds 1 NaN") as info:
        lb.from_torch(str(path), input_shape=(4,))
    assert "\n" not in str(info.value)


@pytest.mark.torch
def test_torch_errors_carry_no_traceback(tmp_path: Path) -> None:
    """A TorchScript model that fails on the input shape: one line, no scripted traceback."""
    import torch
    from torch import nn

    import lif_bridge as lb

    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    path = tmp_path / "m.pt"
    torch.jit.save(torch.jit.script(model), str(path))
    with pytest.raises(ConversionError) as info:
        lb.from_torch(str(path), input_shape=(5,))
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)
    assert len(str(info.value)) < 600


@pytest.mark.torch
def test_factory_without_weights_warns() -> None:
    import lif_bridge as lb

    with pytest.warns(UserWarning, match="weights its factory created"):
        lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8))


@pytest.mark.parametrize("command", ["sweep", "diagnose"])
def test_sweep_and_diagnose_refuse_huge_steps_before_any_work(
    command: str, net_file: Path, tmp_path: Path, one_line: Callable[..., str]
) -> None:
    data = _data(tmp_path, np.full((2, 4), 0.5))
    out = tmp_path / "out"
    argv = [command, str(net_file), "--data", str(data), "--out", str(out), "--no-progress"]
    argv += ["--grid", "steps=10,1000000000000", "--workers", "0"] if command == "sweep" else []
    argv += ["--steps", "16,1000000000000"] if command == "diagnose" else []
    assert main(argv) == 2
    one_line("steps = 1", "1,000,000,000,000", "(2 runs)", "LIF_BRIDGE_LIMIT_STEPS")
    assert not out.exists()


@pytest.mark.parametrize("command", ["sweep", "diagnose", "reproduce"])
@pytest.mark.parametrize("target", ["file", "under_file", "read_only"])
def test_output_folders_checked_before_any_work(
    command: str,
    target: str,
    net_file: Path,
    tmp_path: Path,
    one_line: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _data(tmp_path, np.full((2, 4), 0.5))
    locked = tmp_path / "locked"
    locked.mkdir()
    if target == "read_only":  # a read-only mount: nothing can be created there (even by root)
        from lif_bridge import fileio

        real = fileio._can_create_in
        monkeypatch.setattr(fileio, "_can_create_in", lambda f: f != locked and real(f))
    out = {"file": net_file, "under_file": net_file / "sub", "read_only": locked / "out"}[target]
    if command == "reproduce":
        argv = ["reproduce", "S1", "--out", str(out)]
    else:
        argv = [command, str(net_file), "--data", str(data), "--out", str(out), "--no-progress"]
        argv += ["--grid", "steps=10", "--workers", "0"] if command == "sweep" else []
    assert main(argv) == 2
    one_line("--out", "not a folder" if target != "read_only" else "cannot write in")
    assert not (locked / "out").exists()


def test_sweep_threads_must_be_positive(
    net_file: Path, tmp_path: Path, one_line: Callable[..., str]
) -> None:
    data = _data(tmp_path, np.full((2, 4), 0.5))
    argv = ["sweep", str(net_file), "--data", str(data), "--out", str(tmp_path / "s")]
    assert main([*argv, "--grid", "steps=10", "--workers", "0", "--threads", "0"]) == 2
    one_line("--threads", ">= 1")


def test_convert_of_a_network_file_says_it_is_already_converted(
    net_file: Path, tmp_path: Path, one_line: Callable[..., str]
) -> None:
    assert main(["convert", str(net_file), "-o", str(tmp_path / "again")]) == 2
    one_line("net.npz", "already converted", "lif-bridge run")


def test_convert_without_torch_is_one_line_with_the_install_route(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_line: Callable[..., str]
) -> None:
    # A None entry in sys.modules makes `import torch` raise ModuleNotFoundError, as on a
    # machine without torch (the main job installs none).
    for name in [m for m in sys.modules if m.split(".")[0] == "torch"]:
        monkeypatch.delitem(sys.modules, name)
    for name in [m for m in sys.modules if m.startswith("lif_bridge.convert.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    model = tmp_path / "model.pt"
    model.write_bytes(b"not read")
    argv = ["convert", str(model), "--input-shape", "1", "8", "8", "--out", str(tmp_path / "n.npz")]
    assert main(argv) == 2
    one_line("needs torch", "download.pytorch.org/whl/cpu", "lif-bridge[torch]")


def test_from_torch_without_torch_raises_the_install_route(monkeypatch: pytest.MonkeyPatch) -> None:
    import lif_bridge
    from lif_bridge.errors import BackendUnavailableError

    for name in [m for m in sys.modules if m.split(".")[0] == "torch"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(BackendUnavailableError, match=r"whl/cpu .*lif-bridge\[torch\]"):
        lif_bridge.from_torch(object(), input_shape=(1, 8, 8))
