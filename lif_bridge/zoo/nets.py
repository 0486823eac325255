"""The paper's bias-free networks as spiking descriptions: the one builder, without torch.

The zoo's ``paper_mlp`` and ``paper_cnn`` have no bias, so their conversion is the weights
themselves (the leak mapping gives ``g_l = 0`` for ``b = 0``) times one positive factor per layer:
a bias-free ReLU network is positively homogeneous layer by layer, so the factors change the
rates, not the ANN's arg-max. The factors come from data-based normalisation
(:func:`lif_bridge.convert.normalize.normalization_factors`): layer ``l``'s weights are
multiplied by ``λ_{l-1}/λ_l`` so that its rates are ``f_max · a_l/λ_l``.

Experiments, examples, benchmarks and backend tests all build the paper nets here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.network import Network, Neurons

__all__ = ["PAPER_NETS", "normalized_factors", "paper_network"]

#: Zoo models with a spiking builder, with their weighted layers in order.
PAPER_NETS: dict[str, tuple[str, ...]] = {
    "paper_mlp": ("fc1", "fc2"),
    "paper_cnn": ("conv1", "conv2", "fc1", "fc2"),
    "digits_mlp": ("fc1", "fc2"),
}


def paper_network(
    name: str,
    *,
    factors: Sequence[float] | None = None,
    calibration: np.ndarray | None = None,
    method: str = "percentile",
    percentile: float = 99.9,
    neurons: Neurons | None = None,
    max_rate: float = 100.0,
    layer_rate: float | None = None,
) -> Network:
    """The spiking description of a bias-free zoo net with its shipped weights (no torch).

    Parameters
    ----------
    name
        ``"paper_mlp"``, ``"paper_cnn"`` or ``"digits_mlp"``.
    factors
        ``λ_l`` per weighted layer. ``None`` and no ``calibration``: all 1, the weights as
        trained (the paper's direct weight mapping).
    calibration
        Training images ``(samples, *input_shape)`` in [0, 1] to compute the factors from with
        :func:`normalized_factors` (``method``, ``percentile``); not with ``factors``.
    neurons
        Neuron template of every layer (default: Linear LIF, ``C_m = V_th = 1``, ``g_l = 0``).
    max_rate
        Input rate [Hz] for ``x = 1``.
    layer_rate
        Rate [Hz] a normalised activation of 1 maps to (default ``max_rate``).

    Returns
    -------
    Network
        Layers named as in the torch model; the output layer has ``ann_activation="identity"``
        and every layer ``rate_scale = layer_rate / λ_l`` (ANN view in the model's units).

    Raises
    ------
    ValidationError
        If ``name`` is not one of :data:`PAPER_NETS`, or both ``factors`` and ``calibration``
        are given.
    """
    from lif_bridge.convert.scale import convert_network
    from lif_bridge.zoo.raw import raw_network

    _check_name(name)
    if calibration is not None:
        if factors is not None:
            raise ValidationError("paper_network: give either factors or calibration, not both")
        factors = normalized_factors(name, calibration, method, percentile)
    return convert_network(
        raw_network(name),
        factors=factors,
        neurons=neurons,
        max_rate=max_rate,
        layer_rate=layer_rate,
    )


def normalized_factors(
    name: str, calibration: np.ndarray, method: str = "percentile", percentile: float = 99.9
) -> list[float]:
    """``λ_l`` of a zoo net from its ANN activations on ``calibration`` (training images)."""
    from lif_bridge.convert.normalize import normalization_factors
    from lif_bridge.zoo.raw import raw_network

    _check_name(name)
    return normalization_factors(raw_network(name), calibration, method, percentile=percentile)  # type: ignore[arg-type]


def _check_name(name: str) -> None:
    if name not in PAPER_NETS:
        raise ValidationError(f"unknown paper net {name!r}; choose one of {sorted(PAPER_NETS)}")
