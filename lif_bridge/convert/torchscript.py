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

import operator
from typing import Any

import torch
from torch import fx, nn

from lif_bridge.convert.ops import unsupported
from lif_bridge.errors import ConversionError, FileFormatError, one_line

__all__ = ["load_torchscript", "rebuild_scripted", "scripted_graph"]


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
    model = nn.Sequential(OrderedDict(leaves)).eval()
    _check_same(script, model, input_shape, "chain of its layers")
    return model


def _check_same(script: Any, model: nn.Module, input_shape: tuple[int, ...], what: str) -> None:
    _check_script_finite(script)  # before the scripted model runs (NaN breaks the comparison)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand((4, *input_shape), generator=gen)
    try:
        with torch.no_grad():
            expected = script(x)
            got = model(x)
    except Exception as exc:
        raise ConversionError(
            f"the TorchScript model does not run on inputs of shape (N, "
            f"{', '.join(map(str, input_shape))}) as a {what} ({one_line(exc)})"
        ) from exc
    if (
        not isinstance(expected, torch.Tensor)
        or expected.shape != got.shape
        or not torch.allclose(
            expected, got, rtol=1e-4, atol=1e-5 * (1 + float(expected.abs().max()))
        )
    ):
        if what == "graph":
            raise ConversionError(
                "the graph read from the TorchScript model does not reproduce its output; save "
                "a state_dict and convert 'module:factory' with weights instead"
            )
        raise ConversionError(
            "the TorchScript model's forward is not its layers applied in order (functional "
            "ops or branches in forward cannot be read from a TorchScript file); save a "
            "state_dict and convert 'module:factory' with weights instead"
        )


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


# --------------------------------------------------------------------------- graphs

_ATEN: dict[str, Any] = {
    "relu": torch.relu,
    "relu_": torch.relu,
    "flatten": torch.flatten,
    "cat": torch.cat,
    "max_pool2d": torch.nn.functional.max_pool2d,
    "avg_pool2d": torch.nn.functional.avg_pool2d,
    "adaptive_avg_pool2d": torch.nn.functional.adaptive_avg_pool2d,
    "dropout": torch.nn.functional.dropout,
}
_METHODS = {"view", "reshape", "size", "contiguous", "dim"}


class _Translator:
    """Rebuild a TorchScript module's graph as a torch.fx graph over rebuilt leaf modules."""

    def __init__(self, script: Any) -> None:
        self.script = script
        self.root = nn.Module()
        self.graph = fx.Graph()

    def module(self, path: str) -> Any:
        sub = self.script
        for part in path.split(".") if path else ():
            sub = getattr(sub, part, None)
        return sub

    def leaf(self, path: str) -> str:
        """Register the rebuilt leaf at its dotted path (so layers keep the model's names)."""
        parent = self.root
        *parents, name = path.split(".")
        for part in parents:
            if not hasattr(parent, part):
                parent.add_module(part, nn.Module())
            parent = getattr(parent, part)
        if not hasattr(parent, name):
            parent.add_module(name, _rebuild_leaf(self.module(path), path))
        return path

    def run(self, path: str, graph: Any, args: list[Any]) -> Any:
        env: dict[Any, Any] = {}
        inputs = list(graph.inputs())
        env[inputs[0]] = ("module", path)
        for value, arg in zip(inputs[1:], args, strict=True):
            env[value] = arg
        for node in graph.nodes():
            outs = list(node.outputs())
            result = self.node(node, path, [env.get(v) for v in node.inputs()])
            if len(outs) == 1:
                env[outs[0]] = result
            elif outs:
                raise self.refuse(node, path)
        (ret,) = list(graph.return_node().inputs())
        return env[ret]

    def refuse(self, node: Any, path: str) -> Exception:
        where = f"{path}.forward" if path else "forward"
        return unsupported(f"{where} ({node.kind()})", node.kind().split("::")[-1])

    def node(self, node: Any, path: str, args: list[Any]) -> Any:
        kind = node.kind()
        if kind == "prim::Constant":
            return node.output().toIValue()
        if kind == "prim::ListConstruct":
            return list(args)
        if kind == "prim::GetAttr":
            owner = args[0]
            if not (isinstance(owner, tuple) and owner[0] == "module"):
                raise self.refuse(node, path)
            child = f"{owner[1]}.{node.s('name')}" if owner[1] else node.s("name")
            sub = self.module(child)
            if not isinstance(sub, torch.jit.ScriptModule):
                raise ConversionError(
                    f"TorchScript {path or 'model'}.forward reads the attribute {child!r} "
                    "directly (a functional call on parameters); call the layer modules instead"
                )
            return ("module", child)
        if kind == "prim::CallMethod" and node.s("name") == "forward":
            target = args[0][1]
            sub = self.module(target)
            if any(True for _ in sub.children()):
                return self.run(target, sub.graph, args[1:])
            if len(args) == 1:  # torch.jit.trace keeps an Identity as a call without inputs
                return None
            return self.graph.call_module(self.leaf(target), tuple(args[1:]))
        name = kind.split("::")[-1]
        if kind.startswith("aten::") and name in ("add", "add_") and len(args) == 3:
            if args[2] != 1:
                raise ConversionError(f"TorchScript {path or 'model'}: add with alpha={args[2]}")
            return self.graph.call_function(operator.add, (args[0], args[1]))
        if kind.startswith("aten::") and name in _ATEN:
            return self.graph.call_function(_ATEN[name], tuple(args))
        if kind.startswith("aten::") and name in _METHODS:
            return self.graph.call_method(name, tuple(args))
        if kind.startswith("aten::"):  # refused by the fx reader, which names the node
            return self.graph.call_function(getattr(torch.ops.aten, name), tuple(args))
        raise self.refuse(node, path)


def scripted_graph(script: Any, input_shape: tuple[int, ...]) -> fx.GraphModule:
    """A torch.fx graph equivalent to a TorchScript module, checked against its output.

    The module's ``forward`` graph is read node by node: calls of container submodules are
    inlined (their own graphs), calls of leaf submodules become ``call_module`` nodes of leaves
    rebuilt as in :func:`rebuild_scripted`, and ATen calls become the torch functions the fx
    reader knows (``aten::add`` with ``alpha = 1`` as ``+``, ``aten::cat``, ``aten::relu``...).

    Raises
    ------
    UnsupportedLayerError
        For control flow or another construct of the TorchScript graph (named).
    ConversionError
        If the rebuilt graph does not reproduce the TorchScript module's output.
    """
    tr = _Translator(script)
    x = tr.graph.placeholder("x")
    out = tr.run("", script.graph, [x])
    tr.graph.output(out)
    gm = fx.GraphModule(tr.root, tr.graph).eval()
    _check_same(script, gm, input_shape, "graph")
    return gm
