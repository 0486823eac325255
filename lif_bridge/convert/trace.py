"""Read a torch model as a chain of operations (internal; needs torch).

:func:`trace_ops` traces an ``nn.Module`` with :func:`torch.fx.symbolic_trace`, runs a shape
propagation on a batch of two zero inputs, and returns one :class:`Op` per value-changing step
of the forward pass, in order. Modules (``nn.Linear``, ``nn.ReLU``...) and their functional
forms (``F.relu``, ``torch.relu``, ``x.relu()``, ``torch.flatten``, ``x.flatten(1)``,
``x.view(x.size(0), -1)``, ``F.max_pool2d``...) give the same :class:`Op`. Anything else stops
the trace with one :class:`~lif_bridge.errors.UnsupportedLayerError` naming the module path (or
the graph node) and its type.

Why torch.fx rather than ``torch.export``: fx keeps the module hierarchy (node targets are the
qualified module paths, so errors and layer names read like the model's own attribute names),
works on a plain ``nn.Module`` without compiling, and leaves ``nn.Linear`` / ``nn.Conv2d``
calls whole instead of lowering them to ATen ops whose arguments would have to be decoded.

TorchScript files are rebuilt as eager modules first (:mod:`lif_bridge.convert.torchscript`).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import fx, nn

from lif_bridge.errors import ConversionError, UnsupportedLayerError, one_line

__all__ = ["SUPPORTED", "Op", "trace_ops", "unsupported"]

WHERE = "from_torch"

#: What the converter accepts, as listed in its errors.
SUPPORTED = (
    "Linear",
    "Conv2d",
    "ReLU (module, F.relu, torch.relu, x.relu())",
    "MaxPool2d (no padding/dilation/ceil_mode)",
    "AvgPool2d (no padding)",
    "AdaptiveAvgPool2d (integer reduction)",
    "Flatten (module, torch.flatten, x.flatten, x.view/reshape(N, -1))",
    "BatchNorm1d/2d (folded, after Linear/Conv2d)",
    "Dropout (dropped)",
    "Identity (dropped)",
)


@dataclass
class Op:
    """One step of the traced forward pass.

    Attributes
    ----------
    kind
        ``"linear"``, ``"conv"``, ``"bn"``, ``"relu"``, ``"maxpool"``, ``"avgpool"``,
        ``"flatten"`` or ``"noop"``.
    path
        Module path (``"features.0"``) or graph node name of a functional call.
    type_name
        Module type (``"Conv2d"``) or the function's name.
    in_shape, out_shape
        Per-sample shapes (batch dimension removed).
    params
        float64 arrays: ``weight``, ``bias`` (linear/conv), ``scale``, ``shift`` (bn).
    attrs
        ``stride``, ``padding``, ``dilation``, ``groups`` (conv); ``kernel``, ``stride`` (pools).
    """

    kind: str
    path: str
    type_name: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


def unsupported(path: str, kind: str) -> UnsupportedLayerError:
    """The error for a module/function ``kind`` at ``path`` that the converter cannot map."""
    return UnsupportedLayerError(path, kind, WHERE, SUPPORTED)


def _np(t: torch.Tensor | None) -> np.ndarray | None:
    return None if t is None else t.detach().cpu().to(torch.float64).numpy().copy()


def _pair(v: Any) -> tuple[int, int]:
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def _per_sample(shape: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)[1:]


# --------------------------------------------------------------------------- modules


def _module_op(mod: nn.Module, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    name = type(mod).__name__
    if isinstance(mod, nn.Linear):
        if len(ins) != 1:
            raise ConversionError(
                f"Linear {path!r} receives per-sample shape {ins}; only vectors are supported "
                "(flatten the input first)"
            )
        return Op(
            "linear", path, name, ins, outs, {"weight": _np(mod.weight), "bias": _np(mod.bias)}
        )
    if isinstance(mod, nn.Conv2d):
        return _conv_op(mod, path, ins, outs)
    if isinstance(mod, nn.ReLU):
        return Op("relu", path, name, ins, outs)
    if isinstance(mod, (nn.BatchNorm1d, nn.BatchNorm2d)):
        return _bn_op(mod, path, ins, outs)
    if isinstance(mod, nn.MaxPool2d):
        return _pool_op(
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
        return _pool_op(
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
        return _adaptive_op(path, name, ins, outs)
    if isinstance(mod, nn.Flatten):
        return _flatten_op(path, name, ins, outs)
    if isinstance(mod, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)):
        return Op("noop", path, name, ins, outs)
    raise unsupported(path, name)


def _conv_op(mod: nn.Conv2d, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if mod.padding_mode != "zeros":
        raise ConversionError(
            f"Conv2d {path!r}: padding_mode={mod.padding_mode!r} is not supported; only zero "
            "padding maps onto the spiking convolution"
        )
    kh, kw = _pair(mod.kernel_size)
    dil = _pair(mod.dilation)
    if isinstance(mod.padding, str):
        if mod.padding == "valid":
            pad = (0, 0)
        else:  # 'same' (stride 1, enforced by torch)
            totals = (dil[0] * (kh - 1), dil[1] * (kw - 1))
            if any(t % 2 for t in totals):
                raise ConversionError(
                    f"Conv2d {path!r}: padding='same' with an even kernel pads asymmetrically, "
                    "which the spiking convolution cannot express; use an odd kernel or "
                    "explicit padding"
                )
            pad = (totals[0] // 2, totals[1] // 2)
    else:
        pad = _pair(mod.padding)
    return Op(
        "conv",
        path,
        type(mod).__name__,
        ins,
        outs,
        {"weight": _np(mod.weight), "bias": _np(mod.bias)},
        {"stride": _pair(mod.stride), "padding": pad, "dilation": dil, "groups": mod.groups},
    )


def _bn_op(mod: nn.Module, path: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if mod.running_mean is None or mod.running_var is None:
        raise ConversionError(
            f"{type(mod).__name__} {path!r} has no running statistics "
            "(track_running_stats=False), so it normalises with batch statistics even in eval "
            "mode; retrain with track_running_stats=True"
        )
    var, mean = _np(mod.running_var), _np(mod.running_mean)
    scale = 1.0 / np.sqrt(var + float(mod.eps))
    gamma = _np(mod.weight) if mod.weight is not None else np.ones_like(mean)
    beta = _np(mod.bias) if mod.bias is not None else np.zeros_like(mean)
    scale = gamma * scale
    return Op(
        "bn",
        path,
        type(mod).__name__,
        ins,
        outs,
        {"scale": scale, "shift": beta - mean * scale},
    )


def _pool_op(
    kind: str,
    path: str,
    name: str,
    ins: tuple[int, ...],
    outs: tuple[int, ...],
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
    return_indices: bool,
) -> Op:
    problems = []
    if _pair(padding) != (0, 0):
        problems.append(f"padding={padding}")
    if _pair(dilation) != (1, 1):
        problems.append(f"dilation={dilation}")
    if ceil_mode:
        problems.append("ceil_mode=True")
    if return_indices:
        problems.append("return_indices=True")
    if problems:
        raise ConversionError(
            f"{name} {path!r}: {', '.join(problems)} is not supported; the spiking pool needs "
            "padding=0, dilation=1 and ceil_mode=False"
        )
    if len(ins) != 3:
        raise ConversionError(f"{name} {path!r} receives per-sample shape {ins}, not (C, H, W)")
    k = _pair(kernel)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    return Op(kind, path, name, ins, outs, attrs={"kernel": k, "stride": _pair(s)})


def _adaptive_op(path: str, name: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if len(ins) != 3 or len(outs) != 3:
        raise ConversionError(f"{name} {path!r} receives per-sample shape {ins}, not (C, H, W)")
    (_, h, w), (_, oh, ow) = ins, outs
    if h % oh or w % ow:
        raise ConversionError(
            f"{name} {path!r}: reducing {h}x{w} to {oh}x{ow} is not a fixed pooling window "
            "(the input size must be a multiple of the output size); use AvgPool2d"
        )
    if (oh, ow) == (h, w):
        return Op("noop", path, name, ins, outs)
    k = (h // oh, w // ow)
    return Op("avgpool", path, name, ins, outs, attrs={"kernel": k, "stride": k})


def _flatten_op(path: str, name: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    if outs == ins:
        return Op("noop", path, name, ins, outs)
    if len(outs) == 1 and outs[0] == math.prod(ins):
        return Op("flatten", path, name, ins, outs)
    raise ConversionError(
        f"{name} {path!r} reshapes per-sample {ins} to {outs}; only flattening each sample to "
        "a vector (keeping the batch dimension) is supported"
    )


# --------------------------------------------------------------------------- functions

_RELU = {"relu", "relu_"}
_FLATTEN = {"flatten", "view", "reshape"}
_DROPOUT = {"dropout", "dropout1d", "dropout2d", "contiguous", "clone", "detach", "float"}


def _fname(target: Any) -> str:
    return target if isinstance(target, str) else getattr(target, "__name__", repr(target))


def _function_op(node: fx.Node, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    fname = _fname(node.target).lstrip("_")
    path = node.name
    if fname in _RELU:
        return Op("relu", path, fname, ins, outs)
    if fname in _FLATTEN:
        return _flatten_op(path, fname, ins, outs)
    if fname in _DROPOUT:
        return Op("noop", path, fname, ins, outs)
    if fname in ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d"):
        spec = _pool_args(node, fname)
        kind = "avgpool" if fname == "avg_pool2d" else "maxpool"
        return _pool_op(kind, path, fname, ins, outs, *spec)
    if fname == "adaptive_avg_pool2d":
        return _adaptive_op(path, fname, ins, outs)
    raise unsupported(path, fname)


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


def trace_ops(model: nn.Module, input_shape: tuple[int, ...]) -> list[Op]:
    """The forward pass of ``model`` as a chain of :class:`Op`.

    Parameters
    ----------
    model
        The model, already in eval mode.
    input_shape
        Per-sample input shape, e.g. ``(1, 28, 28)``.

    Raises
    ------
    UnsupportedLayerError
        At the first unsupported module or function (its path and type named).
    ConversionError
        If the model cannot be traced, branches (residual connections, several inputs or
        outputs), or uses a supported layer with unsupported options.
    """
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        tracer = fx.Tracer()  # torch.nn layers are leaves; containers are traced through
        graph = tracer.trace(model)
        gm = fx.GraphModule(tracer.root, graph)
    except Exception as exc:  # fx raises many types for untraceable code
        raise ConversionError(
            f"torch.fx could not trace {type(model).__name__}.forward ({one_line(exc)}); "
            "data-dependent control flow is not supported: write forward as a plain "
            "sequence of layers"
        ) from exc
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    if len(placeholders) != 1:
        raise ConversionError(
            f"the model's forward takes {len(placeholders)} inputs; exactly one is supported"
        )
    example = torch.zeros((2, *input_shape), dtype=torch.float32)
    try:
        with torch.no_grad():
            ShapeProp(gm).propagate(example)
    except Exception as exc:
        raise ConversionError(
            f"the model does not run on inputs of shape (N, {', '.join(map(str, input_shape))}) "
            f"({one_line(exc)}); check input_shape"
        ) from exc

    modules = dict(gm.named_modules())
    ops: list[Op] = []
    current: fx.Node = placeholders[0]
    consumed: set[fx.Node] = set()
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr"):
            continue
        if node.op == "output":
            result = node.args[0]
            if result is not current:
                raise ConversionError(
                    "the model's output is not the result of its last layer (a tuple, a dict, "
                    "or an earlier value); return a single tensor"
                )
            break
        meta = node.meta.get("tensor_meta")
        tensor_inputs = [
            a
            for a in node.all_input_nodes
            if a.meta.get("tensor_meta") is not None or a.op == "placeholder"
        ]
        if meta is None or not hasattr(meta, "shape"):
            # shape helpers such as x.size(0) and getitem on sizes: no values change
            if node.op == "call_function" and node.target is operator.getitem:
                continue
            if node.op == "call_method" and node.target in ("size", "dim"):
                continue
            if node.op == "call_function" and _fname(node.target) in ("getattr", "size"):
                continue
            raise unsupported(_node_path(node), _node_type(node, modules))
        if tensor_inputs != [current] or current in consumed:
            if node.op == "call_function" and _fname(node.target) in ("add", "iadd", "cat"):
                raise unsupported(_node_path(node), _fname(node.target))
            raise ConversionError(
                f"node {_node_path(node)!r} ({_node_type(node, modules)}) does not simply take "
                "the previous layer's output: branches, residual connections and several "
                "inputs are not supported (a feed-forward chain is)"
            )
        ins = _per_sample(current.meta["tensor_meta"].shape)
        outs = _per_sample(meta.shape)
        if node.op == "call_module":
            op = _module_op(modules[node.target], str(node.target), ins, outs)
        elif node.op in ("call_function", "call_method"):
            op = _function_op(node, ins, outs)
        else:  # pragma: no cover - fx has no other kinds
            raise unsupported(node.name, node.op)
        consumed.add(current)
        current = node
        ops.append(op)
    return ops


def _node_path(node: fx.Node) -> str:
    return str(node.target) if node.op == "call_module" else node.name


def _node_type(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    if node.op == "call_module":
        return type(modules[node.target]).__name__
    return _fname(node.target)
