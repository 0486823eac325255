"""Read torch.fx nodes -- modules and their functional forms -- as :class:`Op` (internal; torch).

Modules (``nn.Linear``, ``nn.ReLU``...) and their functional forms (``F.relu``, ``torch.relu``,
``x.relu()``, ``torch.flatten``, ``x.flatten(1)``, ``x.view(x.size(0), -1)``,
``F.max_pool2d``...) give the same :class:`~lif_bridge.convert.ops.Op`; anything else is one
:class:`~lif_bridge.errors.UnsupportedLayerError` naming the module path or the node.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import fx, nn

from lif_bridge.convert.ops import (
    Op,
    adaptive_op,
    bn_op,
    conv_op,
    flatten_op,
    pool_op,
    unsupported,
)
from lif_bridge.errors import ConversionError

__all__ = ["fname", "function_op", "module_op", "to_numpy"]


def to_numpy(t: torch.Tensor | None) -> np.ndarray | None:
    """A float64 copy of a tensor (``None`` stays ``None``)."""
    return None if t is None else t.detach().cpu().to(torch.float64).numpy().copy()


def module_op(mod: nn.Module, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    """The :class:`Op` of a leaf module called at ``path`` (per-sample shapes ``ins -> outs``)."""
    name = type(mod).__name__
    if isinstance(mod, nn.Linear):
        if len(ins) != 1:
            raise ConversionError(
                f"Linear {path!r} receives per-sample shape {ins}; only vectors are supported "
                "(flatten the input first)"
            )
        params = {"weight": to_numpy(mod.weight), "bias": to_numpy(mod.bias)}
        return Op("linear", path, name, ins, outs, params)
    if isinstance(mod, nn.Conv2d):
        return _conv_op(mod, path, ins, outs)
    if isinstance(mod, nn.ReLU):
        return Op("relu", path, name, ins, outs)
    if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return _bn_op(mod, path, ins, outs)
    if isinstance(mod, nn.MaxPool2d):
        return pool_op(
            "maxpool",
            path,
            name,
            ins,
            outs,
            mod.kernel_size,
            mod.stride,
            mod.padding,
            mod.dilation,
            mod.ceil_mode,
            mod.return_indices,
        )
    if isinstance(mod, nn.AvgPool2d):
        if mod.divisor_override is not None:
            raise ConversionError(f"AvgPool2d {path!r}: divisor_override is not supported")
        return pool_op(
            "avgpool",
            path,
            name,
            ins,
            outs,
            mod.kernel_size,
            mod.stride,
            mod.padding,
            1,
            mod.ceil_mode,
            False,
        )
    if isinstance(mod, nn.AdaptiveAvgPool2d):
        return adaptive_op(path, name, ins, outs)
    if isinstance(mod, nn.Flatten):
        return flatten_op(path, name, ins, outs)
    if isinstance(mod, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)):
        return Op("noop", path, name, ins, outs)
    raise unsupported(path, name)


def _conv_op(mod: nn.Conv2d, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if mod.padding_mode != "zeros":
        raise ConversionError(
            f"Conv2d {path!r}: padding_mode={mod.padding_mode!r} is not supported; only zero "
            "padding maps onto the spiking convolution"
        )
    return conv_op(
        path,
        type(mod).__name__,
        ins,
        outs,
        to_numpy(mod.weight),
        to_numpy(mod.bias),
        stride=mod.stride,
        padding=mod.padding,
        dilation=mod.dilation,
        groups=mod.groups,
    )


def _bn_op(mod: nn.Module, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if mod.running_mean is None or mod.running_var is None:
        raise ConversionError(
            f"{type(mod).__name__} {path!r} has no running statistics "
            "(track_running_stats=False), so it normalises with batch statistics even in eval "
            "mode; retrain with track_running_stats=True"
        )
    return bn_op(
        path,
        type(mod).__name__,
        ins,
        outs,
        mean=to_numpy(mod.running_mean),
        var=to_numpy(mod.running_var),
        eps=float(mod.eps),
        gamma=to_numpy(mod.weight),
        beta=to_numpy(mod.bias),
    )


# --------------------------------------------------------------------------- functions

_RELU = {"relu", "relu_"}
_FLATTEN = {"flatten", "view", "reshape"}
_DROPOUT = {"dropout", "dropout1d", "dropout2d", "contiguous", "clone", "detach", "float"}


def fname(target: Any) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def function_op(node: fx.Node, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    """The :class:`Op` of a ``call_function`` / ``call_method`` node (named by the node)."""
    name = fname(node.target).lstrip("_")
    path = node.name
    if name in _RELU:
        return Op("relu", path, name, ins, outs)
    if name in _FLATTEN:
        return flatten_op(path, name, ins, outs)
    if name in _DROPOUT:
        return Op("noop", path, name, ins, outs)
    if name in ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d"):
        spec = _pool_args(node, name)
        kind = "avgpool" if name == "avg_pool2d" else "maxpool"
        return pool_op(kind, path, name, ins, outs, *spec)
    if name == "adaptive_avg_pool2d":
        return adaptive_op(path, name, ins, outs)
    raise unsupported(path, name)


def _pool_args(node: fx.Node, fname: str) -> tuple[Any, ...]:
    if fname == "avg_pool2d":
        names = (
            "kernel_size",
            "stride",
            "padding",
            "ceil_mode",
            "count_include_pad",
            "divisor_override",
        )
        defaults: dict[str, Any] = {
            "stride": None,
            "padding": 0,
            "ceil_mode": False,
            "count_include_pad": True,
            "divisor_override": None,
        }
    else:
        names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
        defaults = {
            "stride": None,
            "padding": 0,
            "dilation": 1,
            "ceil_mode": False,
            "return_indices": False,
        }
    values = dict(defaults)
    values.update(dict(zip(names, node.args[1:], strict=False)))
    values.update(node.kwargs)
    if fname == "avg_pool2d":
        if values["divisor_override"] is not None:
            raise ConversionError(f"avg_pool2d {node.name!r}: divisor_override is not supported")
        return (
            values["kernel_size"],
            values["stride"],
            values["padding"],
            1,
            values["ceil_mode"],
            False,
        )
    return (
        values["kernel_size"],
        values["stride"],
        values["padding"],
        values["dilation"],
        values["ceil_mode"],
        values["return_indices"],
    )


# --------------------------------------------------------------------------- tracing
