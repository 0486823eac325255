"""Read a TorchScript file as an eager ``nn.Sequential`` (internal; needs torch).

A TorchScript file is read through its **submodules**, not its graph: a scripted graph is full
of ``prim::`` control flow (input-dimension checks, ``if self.training``) that would need an
interpreter, whereas the leaf submodules carry their type (``original_name``) and parameters.
The leaves are rebuilt as eager modules in their registration order and the rebuilt model is
checked against the TorchScript module's own output, so a forward that does something else
(functional ReLUs, residual adds, reordering) is refused instead of silently converted. The
rebuilt model then goes through the same torch.fx path as any module
(:mod:`lif_bridge.convert.trace`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from lif_bridge.convert.ops import unsupported
from lif_bridge.errors import ConversionError, FileFormatError, one_line

__all__ = ["load_torchscript", "rebuild_scripted"]


def _graph_args(module: Any, kind: str) -> list[Any] | None:
    """Constant arguments of the first ``kind`` node in a traced submodule's graph."""
    for node in module.graph.nodes():
        if node.kind() != kind:
            continue
        values: list[Any] = []
        for v in node.inputs():
            src = v.node()
            if src.kind() == "prim::Constant":
                values.append(v.toIValue())
            elif src.kind() == "prim::ListConstruct":
                values.append([i.toIValue() for i in src.inputs()])
            else:
                values.append(None)
        return values
    return None


def _attr(module: Any, name: str, kind: str, index: int, default: Any = None) -> Any:
    try:
        return getattr(module, name)
    except (AttributeError, RuntimeError):
        args = _graph_args(module, kind)
        if args is None or index >= len(args):
            return default
        return args[index]


def _rebuild_leaf(sub: Any, path: str) -> nn.Module:
    kind = sub.original_name
    params = dict(sub.named_parameters(recurse=False))
    buffers = dict(sub.named_buffers(recurse=False))
    if kind == "Linear":
        w = params["weight"]
        mod: nn.Module = nn.Linear(w.shape[1], w.shape[0], bias="bias" in params)
    elif kind == "Conv2d":
        w = params["weight"]
        groups = int(_attr(sub, "groups", "aten::_convolution", 8, 1))
        mod = nn.Conv2d(
            w.shape[1] * groups,
            w.shape[0],
            tuple(w.shape[2:]),
            stride=_attr(sub, "stride", "aten::_convolution", 3, 1),
            padding=_attr(sub, "padding", "aten::_convolution", 4, 0),
            dilation=_attr(sub, "dilation", "aten::_convolution", 5, 1),
            groups=groups,
            bias="bias" in params,
        )
    elif kind in ("BatchNorm1d", "BatchNorm2d"):
        n = buffers["running_mean"].shape[0]
        eps = float(_attr(sub, "eps", "aten::batch_norm", 7, 1e-5))
        mod = getattr(nn, kind)(n, eps=eps, affine="weight" in params)
    elif kind == "MaxPool2d":
        mod = nn.MaxPool2d(
            _attr(sub, "kernel_size", "aten::max_pool2d", 1),
            _attr(sub, "stride", "aten::max_pool2d", 2),
            _attr(sub, "padding", "aten::max_pool2d", 3, 0),
            _attr(sub, "dilation", "aten::max_pool2d", 4, 1),
            ceil_mode=bool(_attr(sub, "ceil_mode", "aten::max_pool2d", 5, False)),
        )
    elif kind == "AvgPool2d":
        mod = nn.AvgPool2d(
            _attr(sub, "kernel_size", "aten::avg_pool2d", 1),
            _attr(sub, "stride", "aten::avg_pool2d", 2),
            _attr(sub, "padding", "aten::avg_pool2d", 3, 0),
            ceil_mode=bool(_attr(sub, "ceil_mode", "aten::avg_pool2d", 4, False)),
        )
    elif kind == "AdaptiveAvgPool2d":
        size = _attr(sub, "output_size", "aten::adaptive_avg_pool2d", 1)
        mod = nn.AdaptiveAvgPool2d(tuple(size) if isinstance(size, list) else size)
    elif kind == "Flatten":
        mod = nn.Flatten(int(_attr(sub, "start_dim", "aten::flatten", 1, 1)))
    elif kind in ("ReLU", "Identity", "Dropout", "Dropout1d", "Dropout2d"):
        mod = getattr(nn, kind)()
    else:
        raise unsupported(path, kind)
    state = {**params, **buffers}
    mod.load_state_dict({k: v.detach().clone() for k, v in state.items()}, strict=False)
    return mod


def _check_script_finite(script: Any) -> None:
    """Refuse NaN/infinite or complex parameters before anything runs the scripted model."""
    for name, tensor in [*script.named_parameters(), *script.named_buffers()]:
        if tensor.is_complex():
            raise ConversionError(
                f"TorchScript parameter {name!r} is complex ({tensor.dtype}); a spiking network "
                "needs real weights"
            )
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            bad = int((~torch.isfinite(tensor)).sum())
            raise ConversionError(
                f"TorchScript parameter {name!r} holds {bad} NaN or infinite values; the model "
                "cannot be converted (check the training run that produced the file)"
            )


def rebuild_scripted(script: Any, input_shape: tuple[int, ...]) -> nn.Module:
    """An eager ``nn.Sequential`` equivalent to a loaded TorchScript module.

    The leaf submodules are rebuilt, in registration order, from their ``original_name`` and
    their parameters, buffers and attributes (scripted modules keep them; for traced modules
    the constants are read from the leaf's own small graph). The result is checked against the
    TorchScript module on random inputs.

    Raises
    ------
    UnsupportedLayerError
        For a leaf of another type.
    ConversionError
        If the rebuilt chain does not reproduce the TorchScript module's output.
    """
    from collections import OrderedDict

    leaves: list[tuple[str, nn.Module]] = []
    for path, sub in script.named_modules():
        if any(True for _ in sub.children()):
            continue
        if not path:
            raise ConversionError(
                "the TorchScript file holds a single module without submodules; save the "
                "model as nn.Sequential of standard layers (or use module:factory with weights)"
            )
        leaves.append((path.replace(".", "_"), _rebuild_leaf(sub, path)))
    _check_script_finite(script)
    model = nn.Sequential(OrderedDict(leaves)).eval()
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((4, *input_shape), generator=gen)
    try:
        with torch.no_grad():
            expected = script(x)
            got = model(x)
    except Exception as exc:
        raise ConversionError(
            f"the TorchScript model does not run on inputs of shape (N, "
            f"{', '.join(map(str, input_shape))}) as a chain of its layers ({one_line(exc)})"
        ) from exc
    if (
        not isinstance(expected, torch.Tensor)
        or expected.shape != got.shape
        or not torch.allclose(
            expected, got, rtol=1e-4, atol=1e-5 * (1 + float(expected.abs().max()))
        )
    ):
        raise ConversionError(
            "the TorchScript model's forward is not its layers applied in order (functional "
            "ops or branches in forward cannot be read from a TorchScript file); save a "
            "state_dict and convert 'module:factory' with weights instead"
        )
    return model


def load_torchscript(path: str) -> Any:
    """``torch.jit.load`` on CPU, with a clear error for files that are not TorchScript."""
    try:
        return torch.jit.load(path, map_location="cpu")
    except Exception as exc:
        raise FileFormatError(
            f"{path}: not a TorchScript model ({one_line(exc)}); "
            "give a file saved with torch.jit.save, a .pt2 saved with torch.export.save, or "
            "'module.path:factory' with --weights for a state_dict"
        ) from exc
