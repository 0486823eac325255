"""Read a torch model as a chain of operations (internal; needs torch).

:func:`trace_ops` traces an ``nn.Module`` with :func:`torch.fx.symbolic_trace`, runs a shape
propagation on a batch of two zero inputs, and returns one :class:`Op` per value-changing step
of the forward pass, in order (the nodes are read by :mod:`lif_bridge.convert.fx_ops`).
Anything else stops the trace with one :class:`~lif_bridge.errors.UnsupportedLayerError`
naming the module path (or the graph node) and its type.

Why torch.fx for modules: fx keeps the module hierarchy (node targets are the qualified module
paths, so errors and layer names read like the model's own attribute names), works on a plain
``nn.Module`` without compiling, and leaves ``nn.Linear`` / ``nn.Conv2d`` calls whole. Programs
already exported with ``torch.export`` are read from their ATen graph
(:mod:`lif_bridge.convert.export`) and checked against the same chain rules
(:func:`as_chain`); TorchScript files are rebuilt as eager modules first
(:mod:`lif_bridge.convert.torchscript`).
"""

from __future__ import annotations

import operator
from collections.abc import Hashable, Iterable
from typing import Any

import torch
from torch import fx, nn

from lif_bridge.convert.fx_ops import fname, function_op, module_op
from lif_bridge.convert.ops import SUPPORTED, Op, join_op, unsupported
from lif_bridge.errors import ConversionError, one_line

__all__ = ["SUPPORTED", "Op", "as_chain", "trace_graph", "trace_ops", "unsupported"]

#: One read node: (node, its op or None for a shape helper, the nodes whose tensors it reads).
Step = tuple[Hashable, "Op | None", list[Any]]


def as_chain(steps: Iterable[Step], first: Hashable, result: Any, what: str) -> list[Op]:
    """The ops of ``steps`` if each reads exactly the previous one's output, starting at ``first``.

    ``result`` is what the program returns; ``what`` names the kind of graph in errors.
    """
    ops: list[Op] = []
    current: Any = first
    consumed: set[Any] = set()
    for node, op, inputs in steps:
        if op is None:
            continue
        if inputs != [current] or current in consumed:
            if op.kind == "join" and op.type_name in ("add", "iadd", "cat"):
                raise unsupported(op.path, op.type_name)
            raise ConversionError(
                f"node {op.path!r} ({op.type_name}) does not simply take the previous layer's "
                "output: branches, residual connections and several inputs are not supported "
                f"in a {what} (a feed-forward chain is)"
            )
        consumed.add(current)
        current = node
        ops.append(op)
    if result is not current:
        raise ConversionError(
            "the model's output is not the result of its last layer (a tuple, a dict, "
            "or an earlier value); return a single tensor"
        )
    return ops


def trace_graph(model: nn.Module, input_shape: tuple[int, ...]) -> fx.GraphModule:
    """``model`` traced by torch.fx, with per-node shapes for a batch of two zero inputs.

    Raises
    ------
    ConversionError
        If the model cannot be traced, takes other than one input, or does not run on inputs of
        ``input_shape``.
    """
    from torch.fx.passes.shape_prop import ShapeProp

    try:
        if isinstance(model, fx.GraphModule):  # already a graph (e.g. read from TorchScript)
            gm = model
        else:
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
    return gm


def fx_steps(gm: fx.GraphModule) -> Iterable[Step]:
    """Each computing node of a shape-propagated graph as a :data:`Step`, in graph order."""
    modules = dict(gm.named_modules())
    for node in gm.graph.nodes:
        if node.op in ("placeholder", "get_attr", "output"):
            continue
        meta = node.meta.get("tensor_meta")
        inputs = [
            a
            for a in node.all_input_nodes
            if a.meta.get("tensor_meta") is not None or a.op == "placeholder"
        ]
        if meta is None or not hasattr(meta, "shape"):
            if _is_shape_helper(node):  # x.size(0) and getitem on sizes: no values change
                yield node, None, inputs
                continue
            raise unsupported(node_path(node), node_type(node, modules))
        ins = _per_sample(inputs[0].meta["tensor_meta"].shape) if inputs else ()
        outs = _per_sample(meta.shape)
        if len(inputs) != 1:
            name = node_type(node, modules).lstrip("_")
            yield node, join_op(node_path(node), name, ins, outs, node.args, node.kwargs), inputs
        elif node.op == "call_module":
            yield node, module_op(modules[node.target], str(node.target), ins, outs), inputs
        elif node.op in ("call_function", "call_method"):
            yield node, function_op(node, ins, outs), inputs
        else:  # pragma: no cover - fx has no other kinds
            raise unsupported(node.name, node.op)


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
    gm = trace_graph(model, input_shape)
    first = next(n for n in gm.graph.nodes if n.op == "placeholder")
    output = next(n for n in gm.graph.nodes if n.op == "output")
    return as_chain(fx_steps(gm), first, output.args[0], "torch.fx graph")


def _per_sample(shape: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in shape)[1:]


def _is_shape_helper(node: fx.Node) -> bool:
    if node.op == "call_function" and node.target is operator.getitem:
        return True
    if node.op == "call_method" and node.target in ("size", "dim"):
        return True
    return node.op == "call_function" and fname(node.target) in ("getattr", "size")


def node_path(node: fx.Node) -> str:
    """The module path of a ``call_module`` node, else the node's name."""
    return str(node.target) if node.op == "call_module" else node.name


def node_type(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    """The module type or the function's name."""
    if node.op == "call_module":
        return type(modules[node.target]).__name__
    return fname(node.target)
