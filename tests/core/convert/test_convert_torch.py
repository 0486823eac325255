"""from_torch: the ANN view of the description equals the torch model; bias modes; loading."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import lif_bridge as lb
from lif_bridge.mapping import leak_for_bias

pytestmark = pytest.mark.torch

# torch is imported when a test of this module runs (the autouse fixture below), not when the
# module is collected: an environment without torch deselects these tests with -m "not torch".
torch: Any = None
nn: Any = None
F: Any = None


@pytest.fixture(autouse=True)
def _torch() -> None:
    global torch, nn, F
    import torch

    nn, F = torch.nn, torch.nn.functional


def _randomise_bn(model: nn.Module) -> None:
    gen = torch.Generator().manual_seed(1)
    for mod in model.modules():
        if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = mod.num_features
            mod.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
            mod.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
            if mod.weight is not None:
                mod.weight.data.copy_(torch.rand(n, generator=gen) + 0.5)
                mod.bias.data.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)


def _functional() -> Any:
    """A model: bN, 'same', groups, functional relu / pools / view, dropout, x.relu()."""

    class Functional(nn.Module):
        """BN, 'same', groups, functional relu / pools / view, dropout, x.relu()."""

        def __init__(self) -> None:
            super().__init__()
            self.c1 = nn.Conv2d(1, 6, 3, padding="same")
            self.bn1 = nn.BatchNorm2d(6)
            self.c2 = nn.Conv2d(6, 6, 3, padding=1, groups=3)
            self.fc = nn.Linear(54, 20)
            self.bn = nn.BatchNorm1d(20)
            self.drop = nn.Dropout(0.3)
            self.out = nn.Linear(20, 5)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = F.relu(self.bn1(self.c1(x)))
            x = F.max_pool2d(x, 2)
            x = torch.relu(self.c2(x))
            x = F.avg_pool2d(x, 2)
            x = x.view(x.size(0), -1)
            x = self.drop(self.bn(self.fc(x))).relu()
            return self.out(x)

    return Functional()


def _nested() -> Any:
    """A model: nested containers, stride / dilation, adaptive pool, flatten(1), double ReLU."""

    class Nested(nn.Module):
        """Nested containers, stride / dilation, adaptive pool, flatten(1), double ReLU."""

        def __init__(self) -> None:
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(2, 4, 3, stride=2, padding=1),
                nn.ReLU(),
                nn.ReLU(),
                nn.Sequential(nn.Conv2d(4, 8, 3, dilation=2, padding=2, bias=False), nn.ReLU()),
                nn.AdaptiveAvgPool2d(2),
                nn.Identity(),
            )
            self.head = nn.Linear(32, 3)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.head(torch.flatten(self.features(x), 1))

    return Nested()


def _check_ann_view(model: nn.Module, shape: tuple[int, ...], **kwargs: object) -> lb.Network:
    model.eval()
    x = torch.rand((8, *shape), generator=torch.Generator().manual_seed(0))
    net = lb.from_torch(model, input_shape=shape, **kwargs)
    with torch.no_grad():
        expected = model(x).numpy()
    got = lb.ann_forward(net, x.numpy(), units="ann")
    np.testing.assert_allclose(got, expected.reshape(len(x), -1), rtol=1e-4, atol=1e-5)
    return net


@pytest.mark.parametrize("normalize", ["none", "max", "percentile", "l4"])
@pytest.mark.parametrize("bias_mode", ["current", "none"])
def test_functional_model_ann_view_matches(normalize: str, bias_mode: str) -> None:
    torch.manual_seed(0)
    model = _functional()
    _randomise_bn(model)
    calib = np.random.default_rng(0).random((32, 1, 12, 12))
    net = _check_ann_view(
        model, (1, 12, 12), bias_mode=bias_mode, normalize=normalize, calibration=calib
    )
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["Conv2d", "MaxPool2d", "Conv2d", "AvgPool2d", "Flatten", "Dense", "Dense"]
    assert net.layers[-1].ann_activation == "identity"
    assert net.layers[0].ann_activation == "relu"
    assert net.max_rate == 100.0
    assert net.metadata["conversion"]["folded_batchnorm"] == {"c1": ["bn1"], "fc": ["bn"]}


def test_nested_model_and_sequential_zoo_models() -> None:
    torch.manual_seed(1)
    net = _check_ann_view(_nested(), (2, 8, 8))
    assert [p.name for p in net.populations] == ["features.0", "features.3.0", "head"]
    torch.manual_seed(2)
    _check_ann_view(_paper_cnn(), (1, 28, 28))


def _paper_cnn() -> nn.Module:
    from lif_bridge.zoo import paper_cnn

    return paper_cnn()


def test_max_normalisation_puts_the_largest_rate_at_max_rate() -> None:
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 12), nn.ReLU(), nn.Linear(12, 4), nn.ReLU())
    x = np.random.default_rng(1).random((64, 1, 4, 4))
    net = lb.from_torch(model, input_shape=(1, 4, 4), normalize="max", calibration=x, max_rate=50)
    rates = lb.ann_activations(net, x)
    for name, r in rates.items():
        assert r.max() == pytest.approx(50.0, rel=1e-9), name
    # units="ann" still gives the trained model
    with torch.no_grad():
        expected = model(torch.from_numpy(x).float()).numpy()
    np.testing.assert_allclose(lb.ann_forward(net, x, units="ann"), expected, atol=1e-5)


def test_scaling_formulas_current_mode() -> None:
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(5, 3), nn.ReLU(), nn.Linear(3, 2))
    x = np.random.default_rng(2).random((20, 5))
    template = lb.Neurons(c_m=2.0, v_th=0.5, g_l=0.3, reset="zero")
    net = lb.from_torch(
        model, input_shape=(5,), normalize="max", calibration=x, neurons=template, max_rate=80
    )
    lam = list(net.metadata["conversion"]["factors"].values())
    w1, b1 = model[0].weight.detach().double().numpy(), model[0].bias.detach().double().numpy()
    w2 = model[2].weight.detach().double().numpy()
    vc = 0.5 * 2.0
    np.testing.assert_allclose(net.layers[0].weight, w1 * vc / lam[0])
    np.testing.assert_allclose(net.layers[1].weight, w2 * vc * lam[0] / lam[1])
    np.testing.assert_allclose(net.layers[0].neurons.i_bias, b1 * vc * 80 / lam[0])
    np.testing.assert_allclose(net.layers[0].ann_bias, b1 * vc * 80 / lam[0])
    assert net.layers[0].rate_scale == pytest.approx(80 / lam[0])
    # the template's leak and reset are kept in current mode
    assert float(net.layers[0].neurons.g_l) == 0.3
    assert net.layers[0].neurons.reset == "zero"


def test_bias_mode_none_keeps_ann_bias_only() -> None:
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    net = _check_ann_view(model, (4,), bias_mode="none")
    for layer in net.layers:
        assert np.all(np.asarray(layer.neurons.i_bias) == 0)
        assert np.any(np.asarray(layer.ann_bias) != 0)


def test_bias_mode_leak_maps_negative_biases_to_leak() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.3, 0.2], [0.1, 0.1]]))
        model[0].bias.copy_(torch.tensor([-0.02, 0.0]))
        model[2].weight.copy_(torch.tensor([[0.4, 0.3]]))
        model[2].bias.copy_(torch.tensor([-0.01]))
    net = _check_ann_view(model, (2,), bias_mode="leak", max_rate=100)
    first = net.layers[0].neurons
    assert np.all(np.asarray(first.i_bias) == 0)
    expected = leak_for_bias([0.5, 0.2], [-2.0, 0.0])
    np.testing.assert_allclose(first.g_l, expected)
    assert np.asarray(first.g_l)[0] > 0 and np.asarray(first.g_l)[1] == 0


def test_bias_mode_leak_outside_domain_names_the_layer() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight.fill_(0.3)
        model[0].bias.fill_(0.5)  # positive bias: no leak can express it
    with pytest.raises(lb.MappingDomainError, match=r"layer '0'.*positive bias.*'current'"):
        lb.from_torch(model, input_shape=(2,), bias_mode="leak")


def test_conv_bias_is_per_neuron_current() -> None:
    torch.manual_seed(6)
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    net = _check_ann_view(model, (1, 4, 4))
    i_bias = np.asarray(net.layers[0].neurons.i_bias)
    assert i_bias.shape == (3 * 2 * 2,)
    np.testing.assert_allclose(
        i_bias, np.repeat(model[0].bias.detach().double().numpy() * 100.0, 4)
    )


def test_torchscript_scripted_and_traced(tmp_path: object) -> None:
    from pathlib import Path

    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, stride=2),
        nn.BatchNorm2d(4),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16, 5),
    )
    _randomise_bn(model)
    model.eval()
    x = torch.rand(3, 1, 8, 8)
    tmp = Path(str(tmp_path))
    for kind, script in (("script", torch.jit.script(model)), ("trace", torch.jit.trace(model, x))):
        path = tmp / f"{kind}.pt"
        torch.jit.save(script, str(path))
        net = lb.from_torch(str(path), input_shape=(1, 8, 8))
        with torch.no_grad():
            expected = model(x).numpy()
        np.testing.assert_allclose(
            lb.ann_forward(net, x.numpy(), units="ann"), expected, rtol=1e-4, atol=1e-5
        )


def test_factory_with_pt_and_npz_weights(tmp_path: object) -> None:
    from pathlib import Path

    from lif_bridge.zoo import digits_mlp, save_state_npz

    torch.manual_seed(8)
    trained = digits_mlp()
    tmp = Path(str(tmp_path))
    torch.save(trained.state_dict(), tmp / "w.pt")
    save_state_npz(trained.state_dict(), tmp / "w.npz")
    x = np.random.default_rng(3).random((5, 1, 8, 8))
    with torch.no_grad():
        expected = trained(torch.from_numpy(x).float()).numpy()
    for name in ("w.pt", "w.npz"):
        net = lb.from_torch("lif_bridge.zoo:digits_mlp", input_shape=(1, 8, 8), weights=tmp / name)
        np.testing.assert_allclose(lb.ann_forward(net, x, units="ann"), expected, atol=1e-5)


def test_model_is_put_in_eval_mode_and_network_saves(tmp_path: object) -> None:
    from pathlib import Path

    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 2))
    _randomise_bn(model)
    model.train()
    net = lb.from_torch(model, input_shape=(3,))
    assert not model.training
    path = lb.save_network(Path(str(tmp_path)) / "net.npz", net)
    assert lb.load_network(path) == net


def test_simulated_rates_follow_the_ann() -> None:
    """A small converted net with biases, simulated: spike counts track the ANN rates."""
    torch.manual_seed(9)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())
    x = np.random.default_rng(4).random((10, 6))
    net = lb.from_torch(model, input_shape=(6,), normalize="max", calibration=x)
    res = lb.simulate(net, x, lb.Simulation(steps=2000, dt=0.01), "reference")
    rates = res.output_counts / res.duration
    expected = lb.ann_forward(net, x)
    assert np.abs(rates - expected).max() < 3.0  # Hz, of a 100 Hz scale
