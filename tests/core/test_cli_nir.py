"""``lif-bridge export NET --to nir`` and ``lif-bridge convert FILE.nir`` through the CLI's main."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from lif_bridge.cli import main
from lif_bridge.network import Simulation
from lif_bridge.network.io import load_network_and_simulation, save_network
from lif_bridge.testing import random_graph

pytestmark = [pytest.mark.nir, pytest.mark.filterwarnings("ignore:NIR export")]


def test_export_then_convert_gives_the_network_back(tmp_path: Path, capsys) -> None:
    import nir

    net = random_graph(4, "identity_skip2", align_delays=True)
    sim = Simulation(steps=20, dt=1e-3)
    src = save_network(tmp_path / "net.npz", net, sim)
    assert main(["export", str(src), "--to", "nir", "-o", str(tmp_path / "net.nir")]) == 0
    out = capsys.readouterr()
    assert "wrote" in out.out and "subtractive reset" in out.err
    assert isinstance(nir.read(tmp_path / "net.nir"), nir.NIRGraph)
    assert main(["convert", str(tmp_path / "net.nir"), "-o", str(tmp_path / "back")]) == 0
    back, back_sim = load_network_and_simulation(tmp_path / "back.npz")
    assert back == net
    assert back_sim == sim


def _foreign_cycle(path: Path) -> None:
    import nir

    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "a": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
            "b": nir.Affine(weight=np.eye(2), bias=np.zeros(2)),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "a"), ("a", "b"), ("b", "a"), ("b", "output")],
        type_check=False,
    )
    nir.write(path, g)


def _nan_file(path: Path) -> None:
    import nir

    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([2])}),
            "fc": nir.Affine(weight=np.array([[1.0, np.nan], [0.0, 1.0]]), bias=np.zeros(2)),
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "fc"), ("fc", "output")],
    )
    nir.write(path, g)


def _unknown_kind(path: Path) -> None:
    import h5py

    _nan_file(path)
    with h5py.File(path, "r+") as f:
        del f["node/nodes/fc/type"]
        f["node/nodes/fc"].create_dataset("type", data="Quantum", dtype=h5py.string_dtype())


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda p: p.write_bytes(b"not an HDF5 file"), "not a NIR file"),
        (_foreign_cycle, "cycle"),
        (_nan_file, "'fc'"),
        (_unknown_kind, "Quantum"),
    ],
)
def test_bad_nir_files_are_one_line_exit_2(tmp_path: Path, one_line, make, needle: str) -> None:
    path = tmp_path / "bad.nir"
    make(path)
    assert main(["convert", str(path), "-o", str(tmp_path / "out")]) == 2
    one_line("bad.nir", needle)
    assert not (tmp_path / "out.npz").exists()


def test_convert_nir_refuses_torch_options(tmp_path: Path, one_line) -> None:
    path = tmp_path / "x.nir"
    path.write_bytes(b"")
    args = ["convert", str(path), "-o", str(tmp_path / "o"), "--normalize", "max"]
    assert main(args) == 2
    one_line("--normalize")


def test_foreign_graph_converts_and_runs(tmp_path: Path, capsys) -> None:
    import json

    import nir

    from lif_bridge.testing import snntorch_style_graph

    nir.write(tmp_path / "snn.nir", snntorch_style_graph(0, branch=True))
    assert main(["convert", str(tmp_path / "snn.nir"), "-o", str(tmp_path / "snn")]) == 0
    x = np.random.default_rng(0).random((3, 6))
    np.savez(tmp_path / "x.npz", x=x, y=np.array([0, 1, 2]))
    capsys.readouterr()
    args = ["run", str(tmp_path / "snn.npz"), "--data", str(tmp_path / "x.npz"), "--json"]
    assert main([*args, "--steps", "100", "--dt", "1e-3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["samples"] == 3 and out["backend"] == "reference"


def test_torch_convert_still_needs_input_shape(tmp_path: Path, one_line) -> None:
    args = ["convert", "lif_bridge.zoo:paper_mlp", "--factory-weights", "-o", str(tmp_path / "o")]
    assert main(args) == 2
    one_line("--input-shape")


def test_convert_nir_import_options(tmp_path: Path, capsys, one_line) -> None:
    import nir

    n = 2
    cuba = nir.CubaLIF(tau_syn=np.full(n, 1e-3), tau_mem=np.full(n, 0.02), r=np.ones(n),
                       v_leak=np.zeros(n), v_threshold=np.ones(n))  # fmt: skip
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([n])}),
            "fc": nir.Affine(weight=np.eye(n), bias=np.zeros(n)),
            "syn": cuba,
            "output": nir.Output(output_type={"output": np.array([n])}),
        },
        edges=[("input", "fc"), ("fc", "syn"), ("syn", "output")],
        type_check=False,
    )
    nir.write(tmp_path / "cuba.nir", graph)
    args = ["convert", str(tmp_path / "cuba.nir"), "-o", str(tmp_path / "c")]
    assert main(args) == 2
    one_line("'syn' (CubaLIF)", "--nir-tau-syn-max")
    assert main([*args, "--nir-tau-syn-max", "1e-3", "--nir-spike-dt", "1e-4"]) == 0
    torch_args = ["convert", "lif_bridge.zoo:paper_mlp", "--factory-weights", "-o", "x"]
    capsys.readouterr()
    assert main([*torch_args, "--input-shape", "784", "--nir-spike-dt", "1e-4"]) == 2
    one_line("--nir-spike-dt apply to .nir graphs only")
