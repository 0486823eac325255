r"""Convert a trained PyTorch ReLU network into a Linear LIF network description.

Scaling convention
------------------
Let the trained (BatchNorm-folded) ANN compute ``a_l = φ(W_l a_{l-1} + b_l)`` with ``a_0 = x``
in [0, 1] and ``φ`` = ReLU (identity for an output layer without ReLU). The spiking network is
driven by input rates ``r_0 = f_max · x`` [Hz] (``f_max`` = ``max_rate``) and its population
``l`` should fire at

.. math::

    r_l = f_{max}\, a_l / \lambda_l ,

with normalisation factors ``λ_0 = 1`` and ``λ_l`` from :mod:`lif_bridge.convert.normalize`
(1 without normalisation). A Linear LIF population with synapses ``M`` [C], bias current
``I`` [A], threshold ``V_th`` [V] and capacitance ``C_m`` [F] fires, in the mean, at
``r = max(0, M r_{l-1} + I) / (V_th C_m)`` (Lu & Xu 2022, Table 1 as corrected in the spec; the
ANN view :func:`lif_bridge.ann_forward`). Equating gives

.. math::

    M_l = W_l\, V_{th} C_m\, \frac{\lambda_{l-1}}{\lambda_l}, \qquad
    I_l = b_l\, V_{th} C_m\, \frac{f_{max}}{\lambda_l}, \qquad
    \mathrm{rate\_scale}_l = \frac{f_{max}}{\lambda_l},

so ``ann_forward(net, x, units="ann")`` (rates divided by ``rate_scale``) equals the torch
model's output. The rates depend on ``f_max`` only through the bias; ``Network.max_rate`` is
set to ``f_max`` so a simulation uses the rate the bias was scaled for. Max pooling commutes
with the positive per-layer scaling and passes through unchanged; average pooling and flatten
are linear. The default ``f_max = 100 Hz`` is the paper's ``1/Δt`` for ``Δt = 0.01 s``: a
regular train then never needs more than one spike per step when ``a_l <= λ_l``.

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

import math
import os
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from lif_bridge.connectivity import population_matrix
from lif_bridge.convert.fold import AnnLayer, Stage, fold_ops
from lif_bridge.convert.load import load_model, load_state_dict_file
from lif_bridge.convert.normalize import (
    NORMALIZATIONS,
    as_calibration_array,
    normalization_factors,
)
from lif_bridge.convert.trace import trace_ops
from lif_bridge.errors import ConversionError
from lif_bridge.mapping import BIAS_MODES, leak_for_bias
from lif_bridge.network import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
)

__all__ = ["DEFAULT_MAX_RATE", "from_torch", "load_model", "load_state_dict_file"]

#: Default input rate [Hz] for ``x = 1``: the paper's ``1/Δt`` with ``Δt = 0.01 s``.
DEFAULT_MAX_RATE = 100.0

BiasModeArg = Literal["current", "leak", "none"]
NormalizeArg = Literal["none", "max", "percentile", "l4"]


def _check_finite(model: nn.Module) -> None:
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ConversionError(
                f"parameter {name!r} holds {bad} NaN or infinite values; the model cannot be "
                "converted (check the training run or the weights file)"
            )


# --------------------------------------------------------------------------- building


def _stage_layer(stage: Stage, name: str) -> Any:
    if stage.kind == "maxpool":
        return MaxPool2d(name=name, kernel_size=stage.kernel, stride=stage.stride)
    if stage.kind == "avgpool":
        return AvgPool2d(name=name, kernel_size=stage.kernel, stride=stage.stride)
    return Flatten(name=name)


def _weighted(layer: AnnLayer, weight: np.ndarray, neurons: Neurons, **common: Any) -> Any:
    if layer.kind == "dense":
        return Dense(name=layer.name, weight=weight, neurons=neurons, **common)
    return Conv2d(
        name=layer.name,
        weight=weight,
        stride=layer.attrs["stride"],
        padding=layer.attrs["padding"],
        dilation=layer.attrs["dilation"],
        groups=int(layer.attrs["groups"]),
        neurons=neurons,
        **common,
    )


def _assemble(
    ann: list[AnnLayer],
    input_shape: tuple[int, ...],
    weights: list[np.ndarray],
    neurons: list[Neurons],
    ann_biases: list[np.ndarray],
    rate_scales: list[float],
    max_rate: float | None,
    metadata: dict[str, Any],
) -> Network:
    layers: list[Any] = []
    used: set[str] = set()
    for k, layer in enumerate(ann):
        for stage in layer.stages:
            name, i = stage.name, 2
            while name in used or name in {a.name for a in ann}:
                name, i = f"{stage.name}_{i}", i + 1
            used.add(name)
            layers.append(_stage_layer(stage, name))
        used.add(layer.name)
        layers.append(
            _weighted(
                layer,
                weights[k],
                neurons[k],
                ann_bias=ann_biases[k],
                ann_activation=layer.activation,
                rate_scale=rate_scales[k],
            )
        )
    try:
        return Network(
            input_shape=input_shape, layers=tuple(layers), max_rate=max_rate, metadata=metadata
        )
    except ConversionError:
        raise
    except Exception as exc:
        raise ConversionError(f"the converted layers do not form a valid network: {exc}") from exc


def _template(neurons: Neurons | None) -> Neurons:
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


def from_torch(
    model: nn.Module | str | os.PathLike[str],
    *,
    input_shape: tuple[int, ...] | list[int],
    bias_mode: BiasModeArg = "current",
    normalize: NormalizeArg = "none",
    percentile: float = 99.9,
    calibration: Any = None,
    neurons: Neurons | None = None,
    max_rate: float | None = None,
    weights: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Network:
    """Convert a trained feed-forward ReLU network into a Linear LIF :class:`Network`.

    See the module docstring for the mapping; the ANN view of the result
    (``lif_bridge.ann_forward(net, x, units="ann")``) equals ``model(x)`` to float tolerance.

    Parameters
    ----------
    model
        An ``nn.Module`` (put in eval mode), the path of a TorchScript file, or
        ``"module.path:factory"`` with the trained weights in ``weights``.
    input_shape
        Shape of one input sample, e.g. ``(1, 28, 28)``; inputs are in [0, 1].
    bias_mode
        ``"current"`` (bias current, default), ``"leak"`` (the paper's leak mapping) or
        ``"none"`` (bias dropped from the spiking network).
    normalize
        ``"none"``, ``"max"`` (Diehl et al. 2015), ``"percentile"`` (Rueckauer et al. 2017) or
        ``"l4"`` (after Allred & Roy 2021); all but ``"none"`` need ``calibration``.
    percentile
        Percentile in (0, 100] for ``normalize="percentile"``.
    calibration
        Inputs in [0, 1]: an array ``(samples, *input_shape)`` or an iterable of arrays or of
        ``(x, y)`` pairs.
    neurons
        Neuron template (scalars); default the Linear LIF without leak,
        ``Neurons(c_m=1, v_th=1, reset="subtract", g_l=0)``.
    max_rate
        Input rate [Hz] for ``x = 1``, default :data:`DEFAULT_MAX_RATE` (100 Hz).
    weights
        State-dict file (``.pt``/``.pth`` or ``.npz``) for a factory or a module.
    progress
        Show a progress bar while the calibration set runs.

    Returns
    -------
    Network
        With ``max_rate`` set and ``metadata["conversion"]`` recording the options and the
        factors ``λ_l``.

    Raises
    ------
    UnsupportedLayerError
        For a module or function the converter does not support (path, type and the supported
        list named).
    ConversionError
        For an unconvertible structure, NaN weights, bad options or a missing calibration set.
    FileFormatError, DataError
        For a model or weights file that cannot be read.
    MappingDomainError
        In ``bias_mode="leak"`` where a layer's bias cannot be a leak (layer named).
    """
    if bias_mode not in BIAS_MODES:
        raise ConversionError(
            f"unknown bias_mode {bias_mode!r}; choose one of {', '.join(BIAS_MODES)}"
        )
    if normalize not in NORMALIZATIONS:
        raise ConversionError(
            f"unknown normalize {normalize!r}; choose one of {', '.join(NORMALIZATIONS)}"
        )
    try:
        shape = tuple(int(s) for s in input_shape)
    except (TypeError, ValueError) as exc:
        raise ConversionError(f"input_shape must be a tuple of ints, got {input_shape!r}") from exc
    if not shape or any(s < 1 for s in shape):
        raise ConversionError(f"input_shape must be positive ints, got {shape}")
    rate = DEFAULT_MAX_RATE if max_rate is None else float(max_rate)
    if not math.isfinite(rate) or rate <= 0:
        raise ConversionError(f"max_rate must be a finite rate > 0 Hz, got {max_rate!r}")
    template = _template(neurons)
    calib = None
    if normalize != "none":
        calib = as_calibration_array(calibration, shape)

    module = load_model(model, input_shape=shape, weights=weights)
    _check_finite(module)
    ann = fold_ops(trace_ops(module, shape))

    raw = _assemble(
        ann,
        shape,
        [a.weight for a in ann],
        [Neurons() for _ in ann],
        [a.bias for a in ann],
        [1.0] * len(ann),
        None,
        {},
    )
    factors = (
        [1.0] * len(ann)
        if calib is None
        else normalization_factors(raw, calib, normalize, percentile=percentile, progress=progress)
    )

    vc = float(template.v_th) * float(template.c_m)
    weights_snn: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    scales: list[float] = []
    for k, (layer, pop) in enumerate(zip(ann, raw.populations, strict=True)):
        src = pop.source
        prev = 1.0 if src < 0 else factors[src]
        weights_snn.append(layer.weight * vc * prev / factors[k])
        biases.append(layer.bias * vc * rate / factors[k])
        scales.append(rate / factors[k])

    pop_neurons: list[Neurons] = []
    for k, (layer, pop) in enumerate(zip(ann, raw.populations, strict=True)):
        per_unit = pop.size // layer.weight.shape[0]
        bias_units = np.repeat(biases[k], per_unit)
        if bias_mode == "current":
            pop_neurons.append(template.replace(i_bias=bias_units))
        elif bias_mode == "none":
            pop_neurons.append(template.replace(i_bias=0.0))
        else:
            pop_neurons.append(_leak_neurons(template, layer, pop, weights_snn[k], bias_units))

    metadata = {
        "source": _describe(model),
        "conversion": {
            "converter": "lif_bridge.convert.torch.from_torch",
            "bias_mode": bias_mode,
            "normalize": normalize,
            "percentile": percentile if normalize == "percentile" else None,
            "calibration_samples": 0 if calib is None else len(calib),
            "max_rate": rate,
            "factors": {a.name: float(f) for a, f in zip(ann, factors, strict=True)},
            "folded_batchnorm": {a.name: a.folded for a in ann if a.folded},
        },
    }
    return _assemble(ann, shape, weights_snn, pop_neurons, biases, scales, rate, metadata)


def _leak_neurons(
    template: Neurons, layer: AnnLayer, pop: Any, weight: np.ndarray, bias_units: np.ndarray
) -> Neurons:
    probe = _weighted(layer, weight, Neurons())
    m = population_matrix(probe, pop.linear_stages, pop.gated_shape)
    sum_w = np.asarray(m.sum(axis=1)).ravel()
    # raises MappingDomainError naming the layer where the leak cannot carry the bias
    g_l = leak_for_bias(sum_w, bias_units, v_th=template.v_th, c_m=template.c_m, layer=layer.name)
    return template.replace(g_l=g_l, i_bias=0.0)


def _describe(model: Any) -> str:
    if isinstance(model, nn.Module):
        return f"torch module {type(model).__name__}"
    return os.fspath(model)
