"""The paper's bias-free networks built from the shipped weights, without torch.

The zoo's ``paper_mlp`` and ``paper_cnn`` have no bias, so their conversion is the weights
themselves (the leak mapping gives ``g_l = 0`` for ``b = 0``) times one positive factor per layer:
a bias-free ReLU network is positively homogeneous layer by layer, so the factors change the
rates, not the ANN's arg-max. The factors come from data-based normalisation
(:func:`lif_bridge.convert.normalize.normalization_factors`): layer ``l``'s weights are
multiplied by ``λ_{l-1}/λ_l`` so that its rates are ``f_max · a_l/λ_l``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lif_bridge.convert.normalize import normalization_factors
from lif_bridge.network import Conv2d, Dense, Flatten, MaxPool2d, Network, Neurons
from lif_bridge.zoo import load_state_npz, weights_path

__all__ = ["PAPER_NETS", "normalized_factors", "paper_network"]

#: Zoo models the experiments use, with their weighted layers in order.
PAPER_NETS: dict[str, tuple[str, ...]] = {
    "paper_mlp": ("fc1", "fc2"),
    "paper_cnn": ("conv1", "conv2", "fc1", "fc2"),
}


def paper_network(
    name: str,
    *,
    factors: Sequence[float] | None = None,
    neurons: Neurons | None = None,
    max_rate: float = 100.0,
) -> Network:
    """The description of a bias-free zoo net, weights scaled by ``λ_{l-1}/λ_l``.

    Parameters
    ----------
    name
        ``"paper_mlp"`` or ``"paper_cnn"``.
    factors
        ``λ_l`` per weighted layer (``None``: all 1, the weights as trained: the paper's direct
        weight mapping).
    neurons
        Neurons of every layer (default: Linear LIF, ``C_m = V_th = 1``, ``g_l = 0``).
    max_rate
        Input rate [Hz] for ``x = 1``.

    Returns
    -------
    Network
        Layers named as in the torch model; the output layer has ``ann_activation="identity"``
        and every layer ``rate_scale = max_rate / λ_l`` (ANN view in the model's units).
    """
    if name not in PAPER_NETS:
        raise ValueError(f"unknown paper net {name!r}; choose one of {sorted(PAPER_NETS)}")
    state = {k: v.astype(np.float64) for k, v in load_state_npz(weights_path(name)).items()}
    names = PAPER_NETS[name]
    lam = [1.0] * len(names) if factors is None else [float(f) for f in factors]
    if len(lam) != len(names):
        raise ValueError(f"{name} needs {len(names)} factors, got {len(lam)}")
    nrn = neurons or Neurons()
    prev = 1.0
    weighted = {}
    for i, layer in enumerate(names):
        w = state[f"{layer}.weight"] * (prev / lam[i])
        last = i == len(names) - 1
        kind = Conv2d if w.ndim == 4 else Dense
        extra = {"padding": 2} if kind is Conv2d else {}
        weighted[layer] = kind(
            name=layer,
            weight=w,
            neurons=nrn,
            ann_bias=0.0,
            ann_activation="identity" if last else "relu",
            rate_scale=max_rate / lam[i],
            **extra,
        )
        prev = lam[i]
    if name == "paper_mlp":
        layers = (Flatten(name="flatten"), weighted["fc1"], weighted["fc2"])
    else:
        layers = (
            weighted["conv1"],
            MaxPool2d(name="pool1", kernel_size=2),
            weighted["conv2"],
            MaxPool2d(name="pool2", kernel_size=2),
            Flatten(name="flatten"),
            weighted["fc1"],
            weighted["fc2"],
        )
    return Network(
        input_shape=(1, 28, 28),
        layers=layers,
        max_rate=max_rate,
        metadata={"source": f"lif_bridge.zoo:{name}", "factors": lam},
    )


def normalized_factors(
    name: str, calibration: np.ndarray, method: str = "percentile", percentile: float = 99.9
) -> list[float]:
    """``λ_l`` of a zoo net from its ANN activations on ``calibration`` (training images)."""
    raw = paper_network(name, max_rate=1.0)
    return normalization_factors(raw, calibration, method, percentile=percentile)  # type: ignore[arg-type]
