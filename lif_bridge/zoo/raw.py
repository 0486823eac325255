"""The shipped zoo models as raw network descriptions, built without torch.

A *raw* description holds the trained weights (and ``ann_bias``, zero here: the zoo nets have no
bias) with default neurons and ``rate_scale = 1``, so its ANN view with ``max_rate = 1`` is the
trained model. :func:`lif_bridge.convert.scale.convert_network` turns it into the spiking
network (normalisation, bias mode, neuron template), exactly as :func:`lif_bridge.from_torch`
does for the torch model: the layer structure below mirrors the factories in
:mod:`lif_bridge.zoo` (a test checks both conversions give the same network).
"""

from __future__ import annotations

import numpy as np

from lif_bridge.network import Conv2d, Dense, Flatten, Layer, MaxPool2d, Network

__all__ = ["raw_network"]


def raw_network(name: str) -> Network:
    """The raw description of a zoo model with its shipped trained weights.

    Parameters
    ----------
    name
        ``"paper_mlp"``, ``"paper_cnn"`` or ``"digits_mlp"``.
    """
    from lif_bridge.zoo import MODELS, load_state_npz, weights_path

    w = {k: v.astype(np.float64) for k, v in load_state_npz(weights_path(name)).items()}
    model = MODELS[name]

    def dense(key: str, last: bool = False) -> Dense:
        return Dense(
            name=key,
            weight=w[f"{key}.weight"],
            ann_bias=0.0,
            ann_activation="identity" if last else "relu",
        )

    layers: tuple[Layer, ...]
    if name == "paper_cnn":
        layers = (
            Conv2d(name="conv1", weight=w["conv1.weight"], padding=2, ann_bias=0.0),
            MaxPool2d(name="pool1", kernel_size=2),
            Conv2d(name="conv2", weight=w["conv2.weight"], padding=2, ann_bias=0.0),
            MaxPool2d(name="pool2", kernel_size=2),
            Flatten(name="flatten"),
            dense("fc1"),
            dense("fc2", last=True),
        )
    else:  # paper_mlp, digits_mlp: flatten -> fc1 -> relu -> fc2
        layers = (Flatten(name="flatten"), dense("fc1"), dense("fc2", last=True))
    return Network(
        input_shape=model.input_shape,
        layers=layers,
        metadata={"source": f"lif_bridge.zoo:{name}"},
    )
