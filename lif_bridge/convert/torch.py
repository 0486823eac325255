r"""Convert a trained PyTorch ReLU network into a Linear LIF network description.

The trace gives a *raw* network description (trained weights and biases, BatchNorm folded);
:func:`lif_bridge.convert.scale.convert_network` then scales it into the spiking network (the
scaling convention, normalisation and bias modes are documented there), without torch.

The references (Lu & Xu 2022; Diehl et al. 2015; Rueckauer et al. 2017; Allred & Roy 2021) are
listed in :mod:`lif_bridge.convert.scale` and :mod:`lif_bridge.convert.normalize`.
"""

from __future__ import annotations

import math
import os
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from lif_bridge.convert.fold import AnnLayer, Stage, fold_ops
from lif_bridge.convert.load import is_exported, load_model, load_state_dict_file
from lif_bridge.convert.normalize import NORMALIZATIONS, as_calibration_array
from lif_bridge.convert.scale import DEFAULT_MAX_RATE, convert_network, neuron_template
from lif_bridge.convert.trace import as_chain, fx_steps, trace_graph
from lif_bridge.errors import ConversionError, one_line
from lif_bridge.mapping import BIAS_MODES
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

BiasModeArg = Literal["current", "leak", "none"]
NormalizeArg = Literal["none", "max", "percentile", "l4"]


def _check_finite(model: Any) -> None:
    if is_exported(model):
        tensors = [*model.state_dict.items(), *model.constants.items()]
    else:
        tensors = [*model.named_parameters(), *model.named_buffers()]
    for name, tensor in tensors:
        if not isinstance(tensor, torch.Tensor):
            continue
        if tensor.is_complex():
            raise ConversionError(
                f"parameter {name!r} is complex ({tensor.dtype}); a spiking network needs real "
                "weights"
            )
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
    except Exception as exc:
        raise ConversionError(
            f"the converted layers do not form a valid network: {one_line(exc)}"
        ) from exc


def from_torch(
    model: Any,
    *,
    input_shape: tuple[int, ...] | list[int],
    bias_mode: BiasModeArg = "current",
    normalize: NormalizeArg = "none",
    percentile: float = 99.9,
    calibration: Any = None,
    neurons: Neurons | None = None,
    max_rate: float | None = None,
    layer_rate: float | None = None,
    weights: str | os.PathLike[str] | None = None,
    progress: bool = False,
    coding: Literal["rate", "ttfs"] = "rate",
    ttfs_options: dict[str, Any] | None = None,
) -> Network:
    """Convert a trained feed-forward ReLU network into a Linear LIF :class:`Network`.

    See the module docstring for the mapping; the ANN view of the result
    (``lif_bridge.ann_forward(net, x, units="ann")``) equals ``model(x)`` to float tolerance.

    Parameters
    ----------
    model
        An ``nn.Module`` (put in eval mode), a ``torch.export.ExportedProgram``, the path of a
        TorchScript file or of a ``.pt2`` file (``torch.export.save``), or
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
    layer_rate
        Rate [Hz] that a normalised activation of 1 maps to in every population (default
        ``max_rate``); see :mod:`lif_bridge.convert.scale`.
    weights
        State-dict file (``.pt``/``.pth`` or ``.npz``) for a factory or a module.
    progress
        Show a progress bar while the calibration set runs.
    coding
        ``"rate"`` (the Linear LIF rate coding above) or ``"ttfs"`` (time-to-first-spike
        coding, :mod:`lif_bridge.ttfs`: the weights as trained, windows from ``calibration``,
        which is then required; the rate options must keep their defaults; graphs too, run on
        the reference TTFS backend).
    ttfs_options
        ``safety``, ``tau_c``, ``time_budget`` of :func:`lif_bridge.ttfs.convert_ttfs`.

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
    if max_rate is not None and (not math.isfinite(float(max_rate)) or float(max_rate) <= 0):
        raise ConversionError(f"max_rate must be a finite rate > 0 Hz, got {max_rate!r}")
    neuron_template(neurons)
    _check_coding(coding, normalize, calibration, ttfs_options)
    if normalize != "none" or coding == "ttfs":
        as_calibration_array(calibration, shape)  # fail before the (slow) model load

    module = load_model(model, input_shape=shape, weights=weights)
    _check_finite(module)
    read = _read_ops(module, shape)
    if isinstance(read, list):  # a chain
        ann = fold_ops(read)
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
        folded = {a.name: a.folded for a in ann if a.folded}
    else:  # a graph: one node per population, one projection per summed/concatenated term
        from lif_bridge.convert.assemble_graph import assemble_graph

        raw = assemble_graph(read, shape)
        folded = {}
    _check_ann_view(raw, module, shape)
    metadata = {
        "source": _describe(model),
        "conversion": {
            "converter": "lif_bridge.convert.torch.from_torch",
            "folded_batchnorm": folded,
        },
    }
    if coding == "ttfs":
        from lif_bridge.ttfs.convert import convert_ttfs

        return convert_ttfs(raw, calibration=calibration, metadata=metadata, **(ttfs_options or {}))
    return convert_network(
        raw,
        bias_mode=bias_mode,
        normalize=normalize,
        percentile=percentile,
        calibration=calibration,
        neurons=neurons,
        max_rate=max_rate,
        layer_rate=layer_rate,
        progress=progress,
        metadata=metadata,
    )


def _read_ops(module: Any, shape: tuple[int, ...]) -> Any:
    """The model's ops as a chain (a list), or its folded graph populations (a tuple)."""
    if is_exported(module):
        from lif_bridge.convert.export import exported_steps, program_io

        first, result = program_io(module, shape)
        steps = list(exported_steps(module))
        what = "torch.export program"
    else:
        gm = trace_graph(module, shape)
        first = next(n for n in gm.graph.nodes if n.op == "placeholder")
        result = next(n for n in gm.graph.nodes if n.op == "output").args[0]
        steps = list(fx_steps(gm))
        what = "torch.fx graph"
    if any(op is not None and op.kind == "join" for _, op, _ in steps):
        from lif_bridge.convert.graph_fold import fold_graph

        pops = fold_graph(steps, first, result, shape)  # refuses what a graph cannot express
        return tuple(pops)
    return as_chain(steps, first, result, what)


def _check_ann_view(raw: Network, module: Any, shape: tuple[int, ...]) -> None:
    """Refuse a conversion whose ANN view is not the model: ``ann_forward == model(x)``."""
    from lif_bridge.ann import ann_forward

    batch, call = 4, module
    if is_exported(module):  # its batch size may be fixed by the example it was exported with
        from lif_bridge.convert.export import program_io

        batch = int(program_io(module, shape)[0].meta["val"].shape[0])
        call = module.module()
    x = torch.rand((batch, *shape), generator=torch.Generator().manual_seed(1))
    try:
        with torch.no_grad():
            expected = call(x)
    except Exception as exc:
        raise ConversionError(
            f"the model does not run on a batch of {batch} random inputs "
            f"({type(exc).__name__}: {str(exc).strip()[:200]})"
        ) from exc
    if not isinstance(expected, torch.Tensor):
        raise ConversionError("the model returns a tuple or dict, not a single tensor")
    want = expected.detach().to(torch.float64).reshape(len(x), -1).numpy()
    got = ann_forward(raw, x.numpy().astype(np.float64), units="ann")
    tol = 1e-4 * (1.0 + float(np.abs(want).max()))
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=tol):
        err = float(np.abs(got - want).max()) if got.shape == want.shape else float("nan")
        raise ConversionError(
            f"the converted layers do not reproduce the model's output (max difference {err:.3g}"
            f" on random inputs); the forward does something the layers do not show"
        )


def _check_coding(
    coding: str, normalize: str, calibration: Any, ttfs_options: dict[str, Any] | None
) -> None:
    if coding not in ("rate", "ttfs"):
        raise ConversionError(f"unknown coding {coding!r}; choose 'rate' or 'ttfs'")
    if coding == "rate":
        if ttfs_options:
            raise ConversionError("ttfs_options are for coding='ttfs' only")
        return
    if normalize != "none":
        raise ConversionError(
            "coding 'ttfs' uses the trained weights as they are: drop normalize (TTFS sizes its "
            "time windows from the calibration data instead)"
        )
    if calibration is None:
        raise ConversionError(
            "TTFS coding needs calibration data to size its time windows: give calibration= "
            "(CLI: --calibrate-on mnist|digits|FILE.npz)"
        )
    unknown = sorted(set(ttfs_options or {}) - {"safety", "tau_c", "time_budget"})
    if unknown:
        raise ConversionError(f"unknown ttfs_options {unknown}; use safety, tau_c, time_budget")


def _describe(model: Any) -> str:
    if is_exported(model):
        return "torch.export program"
    if isinstance(model, nn.Module):
        return f"torch module {type(model).__name__}"
    return os.fspath(model)
