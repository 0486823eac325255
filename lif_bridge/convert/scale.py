r"""Turn a *raw* network description (the trained ANN's weights and biases) into a spiking one.

This is the framework-free half of the converters: :func:`lif_bridge.from_torch` traces a
PyTorch model into a raw :class:`~lif_bridge.Network` and calls :func:`convert_network`; a
network built from arrays (e.g. the shipped zoo weights, without torch) goes the same way.

A *raw* network holds, in each weighted layer, the trained weights ``W_l`` and biases
``ann_bias = b_l``, with the default neurons (``V_th C_m = 1``) and ``rate_scale = 1``, so its
ANN view with ``max_rate = 1`` is the trained model.

Scaling convention
------------------
Let the trained (BatchNorm-folded) ANN compute ``a_l = φ(W_l a_{l-1} + b_l)`` with ``a_0 = x``
in [0, 1] and ``φ`` = ReLU (identity for an output layer without ReLU). The spiking network is
driven by input rates ``r_0 = f_max · x`` [Hz] (``f_max`` = ``max_rate``) and its population
``l >= 1`` should fire at

.. math::

    r_l = \rho_l\, a_l / \lambda_l ,

with normalisation factors ``λ_0 = 1`` and ``λ_l`` from :mod:`lif_bridge.convert.normalize`
(1 without normalisation), ``ρ_0 = f_max`` and ``ρ_l = layer_rate`` (default ``f_max``): the
rate the normalised activation 1 maps to. A Linear LIF population with synapses ``M`` [C], bias
current ``I`` [A], threshold ``V_th`` [V] and capacitance ``C_m`` [F] fires, in the mean, at
``r = max(0, M r_{l-1} + I) / (V_th C_m)`` (Lu & Xu 2022, Table 1 as corrected in the spec; the
ANN view :func:`lif_bridge.ann_forward`). Equating gives

.. math::

    M_l = W_l\, V_{th} C_m\, \frac{\lambda_{l-1}}{\lambda_l}\frac{\rho_l}{\rho_{l-1}}, \qquad
    I_l = b_l\, V_{th} C_m\, \frac{\rho_l}{\lambda_l}, \qquad
    \mathrm{rate\_scale}_l = \frac{\rho_l}{\lambda_l},

so ``ann_forward(net, x, units="ann")`` (rates divided by ``rate_scale``) equals the torch
model's output. The rates depend on ``f_max`` only through the bias and the first layer;
``Network.max_rate`` is set to ``f_max`` so a simulation uses the rate the network was scaled
for. Max pooling commutes with the positive per-layer scaling and passes through unchanged;
average pooling and flatten are linear. The default ``f_max = 100 Hz`` is the paper's ``1/Δt``
for ``Δt = 0.01 s``: a regular train then never needs more than one spike per step when
``a_l <= λ_l``. A lower input range (the paper's ConvNet uses inputs of 0–10 Hz) with
``layer_rate = 1/Δt`` keeps the hidden and output layers at the resolution the grid allows
instead of capping every layer at the input's 10 Hz (20 spikes in 2 s).

Bias modes
----------
``"current"``
    ``Neurons(i_bias=I_l)``: exact in the mean, any sign (Rueckauer et al. 2017).
``"leak"``
    The paper's mapping: ``g_l`` per neuron from :func:`lif_bridge.mapping.leak_for_bias` with
    the row sums of ``M_l`` (zero-padding taps excluded) and ``I_l``. Exact at the firing onset
    for equal input rates only; refused (:class:`~lif_bridge.errors.MappingDomainError`, naming
    the layer) for positive biases or ``Σw`` outside ``(0, V_th C_m)``.
``"none"``
    The bias is dropped from the spiking network (``i_bias = 0``), so the agreement measures
    what it cost.

In every mode ``ann_bias = I_l``, so the ANN view stays the trained model. The neuron template
(default ``Neurons(c_m=1, v_th=1, reset="subtract", g_l=0)``: the Linear LIF without leak)
supplies ``c_m``, ``v_th``, ``v_reset``, ``v_rest``, ``reset``, ``refractory``, and its ``g_l``
in modes ``"current"`` and ``"none"`` (the paper's free leak).

References
----------
Lu, S. & Xu, F. (2022). Linear leaky-integrate-and-fire neuron model based spiking neural
networks and its mapping relationship to deep neural networks. Front. Neurosci.
Diehl, P. U. et al. (2015); Rueckauer, B. et al. (2017); Allred, J. M. & Roy, K. (2021): see
:mod:`lif_bridge.convert.normalize`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from lif_bridge.connectivity import population_matrix
from lif_bridge.convert.normalize import (
    NORMALIZATIONS,
    as_calibration_array,
    normalization_factors,
)
from lif_bridge.errors import ConversionError, LifBridgeError
from lif_bridge.mapping import BIAS_MODES, leak_for_bias
from lif_bridge.network import Identity, Map, Network, Neurons, Node, Population, WeightedLayer

__all__ = ["DEFAULT_MAX_RATE", "convert_network", "neuron_template"]

#: Default input rate [Hz] for ``x = 1``: the paper's ``1/Δt`` with ``Δt = 0.01 s``.
DEFAULT_MAX_RATE = 100.0

BiasModeArg = Literal["current", "leak", "none"]
NormalizeArg = Literal["none", "max", "percentile", "l4"]


def neuron_template(neurons: Neurons | None) -> Neurons:
    """The neuron template of a conversion (default: Linear LIF without leak), validated."""
    if neurons is None:
        return Neurons(c_m=1.0, v_th=1.0, reset="subtract", g_l=0.0)
    if not isinstance(neurons, Neurons):
        raise ConversionError(
            f"neurons must be a lif_bridge.Neurons template, got {type(neurons).__name__}"
        )
    if neurons.size is not None:
        raise ConversionError(
            "the neurons template must hold scalars (one value for every population); "
            "per-neuron arrays cannot fit every layer"
        )
    return neurons


def convert_network(
    raw: Network,
    *,
    bias_mode: BiasModeArg = "current",
    normalize: NormalizeArg = "none",
    percentile: float = 99.9,
    calibration: Any = None,
    neurons: Neurons | None = None,
    max_rate: float | None = None,
    layer_rate: float | None = None,
    factors: Sequence[float] | None = None,
    progress: bool = False,
    metadata: dict[str, Any] | None = None,
    coding: Literal["rate", "ttfs"] = "rate",
    ttfs_options: dict[str, Any] | None = None,
) -> Network:
    """Scale a raw network into a Linear LIF network (see the module docstring).

    Parameters
    ----------
    raw
        Weights ``W_l`` and biases ``ann_bias = b_l`` of the trained ANN (default neurons,
        ``rate_scale = 1``).
    bias_mode, normalize, percentile, calibration, neurons, max_rate, layer_rate, progress
        As in :func:`lif_bridge.from_torch`.
    factors
        Normalisation factors ``λ_l``, one per population, computed elsewhere (e.g. mixed
        methods, or reused from another conversion); then ``normalize`` must be ``"none"``.
    metadata
        Merged into the result's metadata (``"conversion"`` is filled in here).
    coding, ttfs_options
        ``coding="ttfs"`` hands over to :func:`lif_bridge.ttfs.convert_ttfs` (with
        ``calibration`` and ``ttfs_options``) instead of scaling; see
        :func:`lif_bridge.from_torch`.

    Raises
    ------
    ConversionError
        Bad options, a missing calibration set.
    MappingDomainError
        In ``bias_mode="leak"`` where a layer's bias cannot be a leak (layer named).
    """
    if coding == "ttfs":
        if normalize != "none" or factors is not None:
            raise ConversionError("coding 'ttfs' takes neither normalize nor factors")
        from lif_bridge.ttfs.convert import convert_ttfs

        return convert_ttfs(raw, calibration=calibration, metadata=metadata, **(ttfs_options or {}))
    if bias_mode not in BIAS_MODES:
        raise ConversionError(
            f"unknown bias_mode {bias_mode!r}; choose one of {', '.join(BIAS_MODES)}"
        )
    if normalize not in NORMALIZATIONS:
        raise ConversionError(
            f"unknown normalize {normalize!r}; choose one of {', '.join(NORMALIZATIONS)}"
        )
    rate = DEFAULT_MAX_RATE if max_rate is None else float(max_rate)
    if not math.isfinite(rate) or rate <= 0:
        raise ConversionError(f"max_rate must be a finite rate > 0 Hz, got {max_rate!r}")
    rho = rate if layer_rate is None else float(layer_rate)
    if not math.isfinite(rho) or rho <= 0:
        raise ConversionError(f"layer_rate must be a finite rate > 0 Hz, got {layer_rate!r}")
    template = neuron_template(neurons)
    calib_samples = 0
    if factors is not None:
        if normalize != "none":
            raise ConversionError("give either factors or normalize, not both")
        factors = [float(f) for f in factors]
        if len(factors) != len(raw.populations) or not all(
            math.isfinite(f) and f > 0 for f in factors
        ):
            raise ConversionError(
                f"factors must be {len(raw.populations)} finite positive numbers, one per "
                f"population ({', '.join(p.name for p in raw.populations)})"
            )
    else:
        factors = [1.0] * len(raw.populations)
    if normalize != "none":
        calib = as_calibration_array(calibration, raw.input_shape)
        calib_samples = len(calib)
        factors = normalization_factors(
            raw, calib, normalize, percentile=percentile, progress=progress
        )
    vc = float(template.v_th) * float(template.c_m)
    new_layers = {}
    new_nodes = []
    for k, pop in enumerate(raw.populations):
        if not raw.is_chain:
            new_nodes.append(_graph_node(pop, factors, k, vc, rate, rho, template, bias_mode))
            continue
        layer = pop.layer
        prev, prev_rate = (1.0, rate) if pop.source < 0 else (factors[pop.source], rho)
        weight = np.asarray(layer.weight) * vc * (prev / factors[k]) * (rho / prev_rate)
        b = np.zeros(1) if layer.ann_bias is None else np.asarray(layer.ann_bias, dtype=np.float64)
        bias = b * vc * rho / factors[k]
        bias_units = np.broadcast_to(
            np.repeat(bias, pop.size // bias.size) if bias.ndim else bias, (pop.size,)
        )
        if bias_mode == "current":
            nrn = template.replace(i_bias=bias_units)
        elif bias_mode == "none":
            nrn = template.replace(i_bias=0.0)
        else:
            nrn = _leak_neurons(template, pop, weight, bias_units)
        try:
            new_layers[pop.index] = dataclasses.replace(
                layer,
                weight=weight,
                neurons=nrn,
                ann_bias=bias if layer.ann_bias is not None else None,
                rate_scale=rho / factors[k],
            )
        except LifBridgeError as exc:
            raise ConversionError(f"layer {layer.name!r}: {exc}") from exc
    meta = dict(raw.metadata)
    meta.update(metadata or {})
    meta["conversion"] = {
        **dict(meta.get("conversion", {})),
        "bias_mode": bias_mode,
        "normalize": normalize,
        "percentile": percentile if normalize == "percentile" else None,
        "calibration_samples": calib_samples,
        "max_rate": rate,
        "layer_rate": rho,
        "factors": {p.name: float(f) for p, f in zip(raw.populations, factors, strict=True)},
    }
    if not raw.is_chain:
        return Network(
            input_shape=raw.input_shape, nodes=tuple(new_nodes), max_rate=rate, metadata=meta
        )
    layers = tuple(new_layers.get(i, layer) for i, layer in enumerate(raw.layers))
    return Network(input_shape=raw.input_shape, layers=layers, max_rate=rate, metadata=meta)


def _scaled_map(m: Map, factor: float) -> Map:
    if isinstance(m, Identity):
        return dataclasses.replace(m, scale=np.asarray(m.scale) * factor)
    return dataclasses.replace(m, weight=np.asarray(m.weight) * factor)


def _graph_node(
    pop: Population,
    factors: Sequence[float],
    k: int,
    vc: float,
    rate: float,
    rho: float,
    template: Neurons,
    bias_mode: str,
) -> Node:
    """A graph population's node, each projection scaled by its own source's factor."""
    projections = []
    sum_w = np.zeros(pop.size)
    for edge in pop.projections:
        prev, prev_rate = (1.0, rate) if edge.source < 0 else (factors[edge.source], rho)
        m = _scaled_map(edge.map, vc * (prev / factors[k]) * (rho / prev_rate))
        projections.append(dataclasses.replace(edge.projection, map=m))
        if bias_mode == "leak":
            matrix = population_matrix(m, edge.linear_stages, edge.gated_shape)
            sum_w += np.asarray(matrix.sum(axis=1)).ravel()
    b = np.zeros(1) if pop.ann_bias is None else np.asarray(pop.ann_bias, dtype=np.float64)
    bias = b * vc * rho / factors[k]
    bias_units = np.broadcast_to(
        np.repeat(bias, pop.size // bias.size) if bias.ndim else bias, (pop.size,)
    )
    if bias_mode == "current":
        nrn = template.replace(i_bias=bias_units)
    elif bias_mode == "none":
        nrn = template.replace(i_bias=0.0)
    else:
        g_l = leak_for_bias(sum_w, bias_units, v_th=template.v_th, c_m=template.c_m, layer=pop.name)
        nrn = template.replace(g_l=g_l, i_bias=0.0)
    try:
        return Node(
            name=pop.name,
            projections=tuple(projections),
            neurons=nrn,
            ann_bias=bias if pop.ann_bias is not None else None,
            ann_activation=pop.ann_activation,
            rate_scale=rho / factors[k],
        )
    except LifBridgeError as exc:
        raise ConversionError(f"population {pop.name!r}: {exc}") from exc


def _leak_neurons(
    template: Neurons, pop: Population, weight: np.ndarray, bias_units: np.ndarray
) -> Neurons:
    probe: WeightedLayer = dataclasses.replace(pop.layer, weight=weight, neurons=Neurons())
    m = population_matrix(probe, pop.linear_stages, pop.gated_shape)
    sum_w = np.asarray(m.sum(axis=1)).ravel()
    # raises MappingDomainError naming the layer where the leak cannot carry the bias
    g_l = leak_for_bias(
        sum_w, bias_units, v_th=template.v_th, c_m=template.c_m, layer=pop.layer.name
    )
    return template.replace(g_l=g_l, i_bias=0.0)
