"""Graph import: residual adds and concatenations folded into populations with several terms.

The folded populations (sources, stages, maps, per-channel biases) are evaluated here with
torch's own conv / pooling functions, so the test checks that the fold computes the model's
function for models read through torch.fx, torch.export and TorchScript; and that what a graph
cannot express is refused naming the node.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import lif_bridge as lb

pytestmark = pytest.mark.torch

torch: Any = None
nn: Any = None
F: Any = None


@pytest.fixture(autouse=True)
def _torch() -> None:
    global torch, nn, F
    import torch

    nn, F = torch.nn, torch.nn.functional


def _randomised(model: Any) -> Any:
    gen = torch.Generator().manual_seed(3)
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            mod.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            mod.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
            mod.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
    return model.eval()


def _apply(stage: Any, z: Any) -> Any:
    if stage.kind == "flatten":
        return z.reshape(len(z), -1)
    pool = F.max_pool2d if stage.kind == "maxpool" else F.avg_pool2d
    return pool(z, stage.kernel, stage.stride)


def _evaluate(pops: list[Any], x: Any) -> Any:
    values = {"input": x}
    for pop in pops:
        total = 0
        for term in pop.terms:
            z = values[term.source]
            for stage in term.stages:
                z = _apply(stage, z)
            if term.layer is None:
                scale = torch.from_numpy(term.scale).reshape((-1,) + (1,) * (z.ndim - 2))
                total = total + z * scale
            elif term.layer.kind == "dense":
                total = total + z @ torch.from_numpy(term.layer.weight).T
            else:
                a = term.layer.attrs
                w = torch.from_numpy(term.layer.weight)
                conv = F.conv2d(z, w, None, a["stride"], a["padding"], a["dilation"], a["groups"])
                total = total + conv
        total = total + torch.from_numpy(pop.bias).reshape((-1,) + (1,) * (total.ndim - 2))
        values[pop.name] = torch.relu(total) if pop.activation == "relu" else total
    return values[pops[-1].name]


def _fold(source: Any, shape: tuple[int, ...]) -> list[Any]:
    from lif_bridge.convert.graph_fold import fold_graph
    from lif_bridge.convert.load import is_exported, load_model

    module = load_model(source, input_shape=shape)
    if is_exported(module):
        from lif_bridge.convert.export import exported_steps, program_io

        first, result = program_io(module, shape)
        return fold_graph(list(exported_steps(module)), first, result, shape)
    from lif_bridge.convert.trace import fx_steps, trace_graph

    gm = trace_graph(module, shape)
    first = next(n for n in gm.graph.nodes if n.op == "placeholder")
    result = next(n for n in gm.graph.nodes if n.op == "output").args[0]
    return fold_graph(list(fx_steps(gm)), first, result, shape)


def _sources(model: Any, tmp_path: Path) -> list[Any]:
    import warnings

    example = (torch.zeros(2, 1, 28, 28),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ts = tmp_path / "m.ts.pt"
        torch.jit.save(torch.jit.script(model), str(ts))
        traced = torch.jit.trace(model, example)
    pt2 = tmp_path / "m.pt2"
    torch.export.save(torch.export.export(model, example), str(pt2))
    return [model, str(ts), traced, str(pt2)]


@pytest.mark.parametrize("name", ["mnist_resnet", "mnist_inception"])
def test_folded_graph_computes_the_model(name: str, tmp_path: Path) -> None:
    from lif_bridge.zoo.graph_nets import GRAPH_NETS

    torch.manual_seed(0)
    model = _randomised(GRAPH_NETS[name]())
    x = torch.rand((3, 1, 28, 28), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = model(x).double()
    for source in _sources(model, tmp_path):
        pops = _fold(source, (1, 28, 28))
        got = _evaluate(pops, x.double())
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-4, atol=1e-5)
        joins = {p.name: sorted(t.source for t in p.terms) for p in pops if len(p.terms) > 1}
        if name == "mnist_resnet":
            assert joins == {
                "layer1.conv2": ["layer1.conv1", "stem.0"],
                "layer2.conv2": ["layer1.conv2", "layer2.conv1"],
            }
            identity = [t for t in pops[2].terms if t.layer is None]
            assert len(identity) == 1 and identity[0].source == "stem.0"
            assert [s.kind for s in pops[-1].terms[0].stages] == ["avgpool", "flatten"]
        else:
            assert joins == {"conv.0": ["branch3.0", "branch5.0"]}


def _branches(how: str) -> Any:
    """Two conv branches on the input, combined by ``how``."""

    class _Branches(nn.Module):
        def __init__(self, how: str) -> None:
            super().__init__()
            self.how = how
            self.a = nn.Conv2d(1, 2, 3, padding=1)
            self.b = nn.Conv2d(1, 2, 3, padding=1)
            self.fc = nn.Linear(2 * 36, 2)
            self.fc4 = nn.Linear(4 * 36, 2)

        def forward(self, x: Any) -> Any:
            a, b = self.a(x), self.b(x)
            if self.how == "mul":
                return self.fc(torch.flatten(torch.relu(a * b), 1))
            if self.how == "sub":
                return self.fc(torch.flatten(torch.relu(a - b), 1))
            if self.how == "chunk":
                return self.fc(torch.flatten(torch.relu(torch.cat([a, b], 1).chunk(2, 1)[0]), 1))
            if self.how == "cat_pre_relu":
                return self.fc4(torch.flatten(torch.relu(torch.cat([a, b], 1)), 1))
            return self.fc(torch.flatten(F.avg_pool2d(a + b, 1), 1))  # add feeding an avg pool

    return _Branches(how).eval()


@pytest.mark.parametrize(
    ("how", "error", "pattern"),
    [
        ("mul", "UnsupportedLayerError", r"'mul' of type mul is not supported.*addition of two"),
        ("sub", "UnsupportedLayerError", r"'sub' of type sub is not supported"),
        ("chunk", "UnsupportedLayerError", r"'chunk' of type chunk is not supported"),
        ("cat_pre_relu", "ConversionError", r"node 'cat' \(cat\): concatenates a value before"),
        ("avg_after_add", "ConversionError", r"node 'avg_pool2d'.*average pooling"),
    ],
)
def test_inexpressible_graphs_are_refused_naming_the_node(
    how: str, error: str, pattern: str
) -> None:
    with pytest.raises(getattr(lb, error), match=pattern):
        lb.from_torch(_branches(how), input_shape=(1, 6, 6))


def test_refusals_through_torch_export_name_the_aten_node() -> None:
    program = torch.export.export(_branches("mul"), (torch.zeros(2, 1, 6, 6),))
    with pytest.raises(lb.UnsupportedLayerError, match=r"'mul' of type mul is not supported"):
        lb.from_torch(program, input_shape=(1, 6, 6))


def test_a_module_applied_twice_gets_one_projection_per_use() -> None:
    class Twice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c = nn.Conv2d(2, 2, 3, padding=1)
            self.stem = nn.Conv2d(1, 2, 3, padding=1)
            self.fc = nn.Linear(72, 2)

        def forward(self, x: Any) -> Any:
            h = torch.relu(self.stem(x))
            h = torch.relu(self.c(h) + h)
            h = torch.relu(self.c(h) + h)
            return self.fc(torch.flatten(h, 1))

    model = Twice().eval()
    pops = _fold(model, (1, 6, 6))
    assert [p.name for p in pops] == ["stem", "c", "c_2", "fc"]
    x = torch.rand(2, 1, 6, 6)
    with torch.no_grad():
        np.testing.assert_allclose(_evaluate(pops, x.double()), model(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["mnist_resnet", "mnist_inception"])
def test_folded_graph_assembles_into_a_graph_network(name: str, tmp_path: Path) -> None:
    from lif_bridge.convert.assemble_graph import assemble_graph
    from lif_bridge.zoo.graph_nets import GRAPH_NETS

    torch.manual_seed(0)
    model = _randomised(GRAPH_NETS[name]())
    pops = _fold(model, (1, 28, 28))
    net = assemble_graph(pops, (1, 28, 28))
    assert not net.is_chain
    assert [p.name for p in net.populations] == [p.name for p in pops]
    for pop, folded in zip(net.populations, pops, strict=True):
        assert pop.shape == folded.shape
        assert [e.source_name for e in pop.projections] == [
            "input" if t.source == "input" else t.source for t in folded.terms
        ]
        np.testing.assert_array_equal(pop.ann_bias, folded.bias)
    assert net.output.ann_activation == "identity"
    if name == "mnist_resnet":
        conv, shortcut = net.population("layer1.conv2").projections
        bn2, conv2 = model.layer1.bn2, model.layer1.conv2
        scale = (bn2.weight / torch.sqrt(bn2.running_var + bn2.eps)).detach().double().numpy()
        # the BN before the add folds into its own branch only; the identity keeps scale 1
        np.testing.assert_allclose(np.asarray(shortcut.map.scale), 1.0)
        want = conv2.weight.detach().double().numpy() * scale[:, None, None, None]
        np.testing.assert_allclose(conv.map.weight, want, rtol=1e-6)
    path = lb.save_network(tmp_path / "g.npz", net)
    assert lb.load_network(path) == net


@pytest.mark.parametrize("name", ["mnist_resnet", "mnist_inception"])
def test_from_torch_converts_graphs_end_to_end(name: str) -> None:
    """Normalised conversion of a graph: its ANN view is the model, and it runs on the reference."""
    from lif_bridge.ann import ann_forward
    from lif_bridge.network import Readout, Simulation
    from lif_bridge.zoo.graph_nets import GRAPH_NETS

    torch.manual_seed(0)
    model = _randomised(GRAPH_NETS[name]()).eval()
    calib = np.random.default_rng(0).random((16, 1, 28, 28))
    net = lb.from_torch(model, input_shape=(1, 28, 28), normalize="percentile", calibration=calib)
    assert not net.is_chain
    x = np.random.default_rng(1).random((3, 1, 28, 28))
    with torch.no_grad():
        want = model(torch.from_numpy(x).float()).double().numpy()
    np.testing.assert_allclose(ann_forward(net, x, units="ann"), want, rtol=1e-4, atol=1e-4)
    sim = Simulation(steps=20, readout=Readout(counts="all"))
    res = lb.simulate(net, x, sim, "reference", progress=False)
    assert res.output_counts.shape == (3, 10)
    assert all(res.counts[p.name].sum() > 0 for p in net.populations[:-1])  # spikes flow
