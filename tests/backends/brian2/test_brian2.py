"""Brian2 backend: lowering, equations, routes, units, devices, errors, continuous time.

Spike-for-spike agreement on the random networks is in ``tests/conformance``; here: the parts
of the issue that the conformance suite does not cover.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lif_bridge.backend import get_backend, simulate
from lif_bridge.connectivity import synapse_count
from lif_bridge.errors import BackendError, UnsupportedLayerError
from lif_bridge.network import ConstantCurrent, Neurons, Readout, Simulation
from lif_bridge.testing import random_inputs, random_network

pytestmark = pytest.mark.brian2

ROOT = Path(__file__).resolve().parents[3]


def _sim(**kw: object) -> Simulation:
    return Simulation(steps=40, dt=0.01, readout=Readout(counts="all"), **kw)  # type: ignore[arg-type]


def test_to_brian2_gives_network_and_layer_map() -> None:
    import brian2 as b2
    from lif_bridge_brian2 import describe, to_brian2

    net = random_network(0, "conv_max")
    net_b2, lmap = to_brian2(net, _sim())
    assert isinstance(net_b2, b2.Network)
    assert set(lmap.groups) == {p.name for p in net.populations}
    assert set(lmap.pools) == {"maxpool1"}
    for pop in net.populations:
        assert len(lmap.groups[pop.name]) == pop.size
    conv = net.populations[0]
    assert lmap.synapse_counts[conv.name] <= synapse_count(conv.layer, conv.input_shape)
    text = describe(lmap)
    assert "dv/dt = (-g_l*(v - v_rest) + I_bias)/C_m : V" in text
    assert "threshold: v >= v_th" in text and "v -= v_th" in text


def test_traces_and_counts_identical_to_reference() -> None:
    net = random_network(1, "mixed", per_neuron=True, refractory=0.02)
    x = random_inputs(net, 2, seed=1)
    sim = Simulation(steps=40, dt=0.01, readout=Readout(counts="all", traces=("conv2", "dense6")))
    want = simulate(net, x, sim, "reference")
    got = simulate(net, x, sim, "brian2", device="runtime")
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name])
    for name in want.traces:
        np.testing.assert_array_equal(got.traces[name], want.traces[name])


@pytest.mark.parametrize("reset", ["subtract", "zero"])
def test_constant_current_route(reset: str) -> None:
    net = random_network(0, "conv_avg", reset=reset)
    x = random_inputs(net, 2, seed=3)
    sim = _sim(encoder=ConstantCurrent())
    want = simulate(net, x, sim, "reference")
    got = simulate(net, x, sim, "brian2", device="runtime")
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name])


def test_biophysical_units_keep_results() -> None:
    net = random_network(0, "dense")
    x = random_inputs(net, 3, seed=0)
    sim = Simulation(steps=40, dt=0.01, readout=Readout(counts="all", traces=("dense1",)))
    si = simulate(net, x, sim, "brian2", device="runtime", units="si")
    bio = simulate(net, x, sim, "brian2", device="runtime", units="biophysical")
    for name in si.counts:
        np.testing.assert_array_equal(si.counts[name], bio.counts[name])
    np.testing.assert_allclose(si.traces["dense1"], bio.traces["dense1"], rtol=1e-9, atol=1e-12)


def test_biophysical_equations_print_units() -> None:
    from lif_bridge_brian2 import describe, to_brian2

    _, lmap = to_brian2(random_network(0, "dense"), _sim(), units="biophysical")
    text = describe(lmap)
    assert "mV" in text and "nF" in text and "nS" in text


def test_poisson_group_fires_at_the_coded_rate() -> None:
    # Brian2's PoissonGroup draws its own trains: not the reference's, but the same coding. A
    # relay layer (one neuron per input, jump 2 v_th, reset to zero, no leak) counts them; its
    # counts must follow the distribution of the reference's seeded Poisson trains (mean and
    # spread taken from 200 reference samples), and differ between samples.
    from lif_bridge.network import Dense, Network, Neurons, Poisson

    p = np.array([0.0, 0.1, 0.5, 0.9])
    relay = Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="zero")
    net = Network(
        input_shape=(4,), layers=(Dense(weight=2 * np.eye(4), neurons=relay),), max_rate=100.0
    )
    sim = Simulation(steps=400, dt=0.01, encoder=Poisson(seed=1), readout=Readout())
    ref = simulate(net, np.tile(p, (200, 1)), sim, "reference").output_counts
    res = simulate(net, np.tile(p, (3, 1)), sim, "brian2", device="runtime", poisson_group=True)
    assert res.info["input"] == "poisson_group"
    counts = res.output_counts  # (3, 4)
    assert np.all(counts[:, 0] == 0)
    mean, sd = ref.mean(axis=0), ref.std(axis=0)
    assert np.all(np.abs(counts - mean) <= 5 * sd + 1), (counts, mean, sd)
    assert len({tuple(row) for row in counts[:, 1:]}) > 1


def test_bad_device_and_missing_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendError, match="unknown device 'gpu'"):
        get_backend("brian2", device="gpu")
    import lif_bridge_brian2.toolchain as toolchain

    monkeypatch.setattr(toolchain.shutil, "which", lambda name: None)
    backend = get_backend("brian2", device="cpp_standalone")
    with pytest.raises(BackendError, match=r"cpp_standalone.*no C\+\+ compiler"):
        backend.lower(random_network(0, "dense"), _sim())


def test_unsupported_layer_is_named() -> None:
    from lif_bridge_brian2.lowering import SUPPORTED, check_layers

    class Strange:
        name = "odd1"

    class FakeNet:
        layers = (Strange(),)
        populations = ()

    with pytest.raises(UnsupportedLayerError, match="'odd1' of type Strange"):
        check_layers(FakeNet())  # type: ignore[arg-type]
    # the message names what is supported: every layer type of the description
    from lif_bridge.network import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d

    with pytest.raises(UnsupportedLayerError) as err:
        check_layers(FakeNet())  # type: ignore[arg-type]
    for kind in (AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d):
        assert kind in SUPPORTED
        assert kind.__name__ in str(err.value)


def _pool_both(
    spikes: np.ndarray, kernel: tuple[int, int], shape: tuple[int, int, int], window: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Output spikes and winners, (steps, n_windows), of the Brian2 pool and the reference."""
    import brian2 as b2
    from lif_bridge_brian2.maxpool import COUNTER, add_maxpool
    from lif_bridge_reference.ops import MaxPoolGate

    from lif_bridge.network import MaxPool2d

    stage = MaxPool2d(name="mp", kernel_size=kernel, stride=(1, 1))
    steps, n = spikes.shape
    ns = {"W_steps": window, "drive": b2.TimedArray(spikes.astype(int), dt=b2.ms)}
    clock = b2.Clock(dt=b2.ms)
    units = b2.NeuronGroup(n, COUNTER, threshold="drive(t, i) > 0", clock=clock, namespace=ns)
    units.run_regularly("c_pool = 0", dt=window * b2.ms, when="start")
    st, _ = add_maxpool(
        units, "spike", stage, shape, followed_by_pool=False, name="mp", order=1,
        clock=clock, window=window * b2.ms, namespace=ns,
    )  # fmt: skip
    events = b2.EventMonitor(st.windows, "pool")
    winners = b2.StateMonitor(st.windows, "winner", record=True, when="end")
    target = b2.prefs.codegen.target
    b2.prefs.codegen.target = "numpy"  # no compilation: a few small groups
    try:
        b2.Network(units, *(st.windows, st.count, st.gate), events, winners).run(steps * b2.ms)
    finally:
        b2.prefs.codegen.target = target
    got = np.zeros((steps, st.n_windows), dtype=bool)
    got[np.round(events.t / b2.ms).astype(int), events.i] = True
    gate = MaxPoolGate(stage, shape)
    want = np.zeros_like(got)
    want_w = np.zeros(got.shape, dtype=np.int64)
    for t in range(steps):
        if t % window == 0:
            gate.reset(1)
        want[t, gate(np.flatnonzero(spikes[t]), 1)] = True
        want_w[t] = gate.winner[0]  # type: ignore[index]
    return got, np.asarray(winners.winner).T, want, want_w


def test_maxpool_passes_one_winner_per_window() -> None:
    # Two units of equal rate in opposite phases: the pooled rate is theirs, not twice it.
    spikes = np.zeros((12, 4), dtype=bool)
    spikes[0::2, 1] = spikes[1::2, 2] = True
    got, winners, _, _ = _pool_both(spikes, (2, 2), (1, 2, 2), 6)
    np.testing.assert_array_equal(got[:, 0], np.tile([1, 0], 6).astype(bool))
    np.testing.assert_array_equal(winners[:, 0], [1] * 12)
    # Simultaneous spikes: the first unit in window order wins a new window; at step 3 the
    # winner 3 was forgotten (an incumbent would have kept the tie), and a lead takes over.
    spikes = np.zeros((6, 4), dtype=bool)
    spikes[0, [3, 2]] = spikes[1, 3] = spikes[3, [3, 2]] = spikes[5, 3] = True
    got, winners, want, want_w = _pool_both(spikes, (2, 2), (1, 2, 2), 3)
    np.testing.assert_array_equal(winners[:, 0], [2, 3, 3, 2, 2, 3])
    np.testing.assert_array_equal(got[:, 0], [1, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(winners, want_w)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("kernel", "shape"), [((3, 3), (2, 5, 5)), ((6, 6), (1, 7, 7))])
def test_maxpool_matches_reference_gate(kernel: tuple[int, int], shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    n = int(np.prod(shape))
    spikes = (rng.random((50, n)) < 0.2) | (rng.random((50, n)) < np.linspace(0, 0.3, n))
    got, winners, want, want_w = _pool_both(spikes, kernel, shape, 17)  # type: ignore[arg-type]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(winners, want_w)


@pytest.mark.slow
def test_compile_failure_is_a_backend_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A "compiler" that always fails (the makefile calls $(CXX)); Brian2 silently drops
    # compiler flags it finds unsupported, so a bad flag would not do.
    monkeypatch.setenv("CXX", "false")
    program = get_backend("brian2", device="cpp_standalone", build_dir=tmp_path).lower(
        random_network(0, "dense"), _sim()
    )
    with pytest.raises(BackendError, match=r"cpp_standalone.*compiling the project"):
        program.run(random_inputs(random_network(0, "dense"), 1))
    program.close()


@pytest.mark.slow
def test_single_neuron_rates_match_exact_transfer() -> None:
    from lif_bridge_brian2 import single_neuron_rates

    rates = [[10, 10], [30, 30], [60, 60]]
    expected = {"subtract": [3.57, 13.63, 28.63], "zero": [3.33, 10.0, 20.0]}
    for reset, want in expected.items():
        nrn = Neurons(c_m=1.0, g_l=3.0, v_th=1.0, reset=reset)  # type: ignore[arg-type]
        # NumPy target: no Cython compilation (the Cython target is checked in tests/conformance)
        got = single_neuron_rates([0.3, 0.2], rates, nrn, duration=71.0, dt=1e-3, target="numpy")
        np.testing.assert_allclose(got, want, atol=0.02)


@pytest.mark.slow
def test_paper_mlp_50_mnist_images_one_build_identical_to_reference(
    mnist_dir: str, tmp_path: Path
) -> None:
    """Serial cpp_standalone (the conformance suite runs it with OpenMP): one compilation for
    batches of 30 and 20 (padded) images and a re-run, project deleted by close()."""
    from lif_bridge.data import load_mnist
    from lif_bridge.zoo import paper_network

    x = np.asarray(load_mnist("test", data_dir=mnist_dir, limit=50).x, dtype=np.float64)
    net = paper_network("paper_mlp")
    sim = Simulation(steps=300, dt=0.01, readout=Readout(counts="all"))
    want = simulate(net, x, sim, "reference")
    backend = get_backend("brian2", device="cpp_standalone", build_dir=tmp_path, samples_per_run=30)
    program = backend.lower(net, sim)
    try:
        got = program.run(x)
        again = program.run(x[:2])
        assert [p.name for p in tmp_path.glob("cpp_standalone-*")] == [
            Path(got.info["project"]).name
        ]
        assert again.info["project"] == got.info["project"]
    finally:
        program.close()
    assert not list(tmp_path.glob("cpp_standalone-*"))
    assert want.counts["fc1"].sum() > 0
    for name in want.counts:
        np.testing.assert_array_equal(got.counts[name], want.counts[name])
    np.testing.assert_array_equal(again.output_counts, want.output_counts[:2])
    assert not (Path.cwd() / "output").exists()


CUDA_PY = ROOT / ".venv-cuda" / "bin" / "python"
CUDA_CHECK = Path(__file__).with_name("cuda_check.py")


@pytest.mark.cuda
@pytest.mark.slow
def test_cuda_project_generates_and_compiles(tmp_path: Path) -> None:
    assert CUDA_PY.exists(), "no .venv-cuda: build it with scripts/setup_cuda_env.sh (Python 3.12)"
    assert shutil.which("nvcc"), "nvcc (the CUDA toolkit) is not on PATH"
    proc = subprocess.run(
        [str(CUDA_PY), str(CUDA_CHECK), "build", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=3600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert list(tmp_path.glob("cuda_standalone-*/main"))


@pytest.mark.cuda
@pytest.mark.gpu
def test_cuda_project_runs_on_gpu() -> None:
    if shutil.which("nvidia-smi") is None or sys.platform != "linux":
        pytest.skip(
            "no NVIDIA GPU on this machine: the CUDA project is only generated and compiled "
            "(test_cuda_project_generates_and_compiles); running it needs a GPU"
        )
    proc = subprocess.run(
        [str(CUDA_PY), str(CUDA_CHECK), "run"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
