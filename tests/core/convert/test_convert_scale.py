"""The torch-free conversion of raw descriptions (zoo weights) equals the torch path."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import ann_forward, from_torch
from lif_bridge.convert import convert_network
from lif_bridge.data import load_digits
from lif_bridge.zoo import pretrained, raw_network


def test_raw_zoo_network_is_the_trained_model_without_torch() -> None:
    """The raw description's ANN view (max_rate 1) equals the shipped weights' logits."""
    x = load_digits("test", limit=40).x
    raw = raw_network("digits_mlp")
    w1 = np.asarray(raw.layers[1].weight)
    w2 = np.asarray(raw.layers[2].weight)
    want = np.maximum(x.reshape(40, -1) @ w1.T, 0) @ w2.T
    np.testing.assert_allclose(ann_forward(raw, x, max_rate=1.0, units="ann"), want, atol=1e-9)


@pytest.mark.torch
@pytest.mark.parametrize("normalize", ["none", "percentile"])
def test_convert_network_of_zoo_equals_from_torch(normalize: str) -> None:
    """Same options, same calibration: the arrays path and the torch path give equal networks."""
    cal = load_digits("train", limit=200).x
    kwargs = {"normalize": normalize, "calibration": cal if normalize != "none" else None}
    a = convert_network(raw_network("digits_mlp"), **kwargs)  # type: ignore[arg-type]
    b = from_torch(pretrained("digits_mlp"), input_shape=(1, 8, 8), **kwargs)  # type: ignore[arg-type]
    for la, lb in zip(a.populations, b.populations, strict=True):
        np.testing.assert_allclose(la.layer.weight, lb.layer.weight, rtol=1e-6)
        assert la.layer.rate_scale == pytest.approx(lb.layer.rate_scale, rel=1e-6)
    x = load_digits("test", limit=50).x
    np.testing.assert_allclose(
        ann_forward(a, x, units="ann"), ann_forward(b, x, units="ann"), rtol=1e-5, atol=1e-6
    )


def test_layer_rate_keeps_ann_view_and_raises_hidden_rates() -> None:
    """layer_rate rescales every population's rates but leaves the ANN view (units="ann")."""
    cal = load_digits("train", limit=200).x
    x = load_digits("test", limit=30).x
    base = convert_network(
        raw_network("digits_mlp"), normalize="max", calibration=cal, max_rate=10.0
    )
    fast = convert_network(
        raw_network("digits_mlp"),
        normalize="max",
        calibration=cal,
        max_rate=10.0,
        layer_rate=100.0,
    )
    np.testing.assert_allclose(
        ann_forward(fast, x, units="ann"), ann_forward(base, x, units="ann"), rtol=1e-9
    )
    hidden = fast.populations[0].name
    from lif_bridge import ann_activations

    np.testing.assert_allclose(
        ann_activations(fast, x)[hidden], 10 * ann_activations(base, x)[hidden], rtol=1e-9
    )
    assert fast.metadata["conversion"]["layer_rate"] == 100.0
