"""Read a ``torch.export`` program (an ``ExportedProgram`` or a ``.pt2`` file) as ops (internal).

An exported program is an ATen graph: each node calls an ATen operator
(``aten.conv2d.default``, ``aten.batch_norm.default``, ``aten.add.Tensor``...) whose arguments
are read through the operator's schema, with the parameters and buffers lifted to placeholders
that the graph signature maps back to the model's state_dict. A node is named by the module it
came from (``nn_module_stack``) when that module is a standard layer, else by its node name, so
errors and layer names read as for a module traced by torch.fx.

Loading without running pickled code
------------------------------------
:func:`torch.export.load` unpickles (``torch.load(weights_only=False)``, ``pickle.loads``) the
entries that ``torch.export.save`` wrote with pickle (tensor subclasses, custom objects, the
legacy archive layout) and falls back to unrestricted unpickling for sample inputs.
:func:`load_exported` reads the archive's JSON configs first and refuses a file with any such
entry, and checks the sample inputs with ``weights_only=True``, so ``torch.export.load`` only
ever meets plain tensor payloads.
"""

from __future__ import annotations

import io
import json
import operator
import zipfile
from collections.abc import Iterable
from typing import Any

import torch

from lif_bridge.convert.fx_ops import to_numpy
from lif_bridge.convert.ops import (
    Op,
    adaptive_op,
    bn_op,
    conv_op,
    flatten_op,
    join_op,
    pool_op,
    unsupported,
)
from lif_bridge.errors import ConversionError, FileFormatError

__all__ = ["exported_steps", "load_exported", "program_io"]

_LAYER_TYPES = {
    "Conv2d",
    "Linear",
    "BatchNorm1d",
    "BatchNorm2d",
    "ReLU",
    "MaxPool2d",
    "AvgPool2d",
    "AdaptiveAvgPool2d",
    "Flatten",
    "Dropout",
}
_NOOP = {"dropout", "clone", "contiguous", "alias", "detach", "lift_fresh_copy"}
_RESHAPE = {"flatten", "view", "reshape", "_unsafe_view"}


# --------------------------------------------------------------------------- loading


def _refuse(path: str, why: str) -> FileFormatError:
    return FileFormatError(
        f"{path}: refused to load: {why}; lif-bridge reads only .pt2 files whose weights are "
        "plain tensors (save the eval-mode model with torch.export.save on torch >= 2.8)"
    )


def _check_archive(path: str) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            configs = [n for n in names if n.endswith("_config.json") and "/data/" in n]
            if not any(n.endswith("archive_format") for n in names) or not configs:
                raise _refuse(path, "not a torch.export archive in the current layout")
            for name in configs:
                for fqn, meta in json.loads(zf.read(name)).get("config", {}).items():
                    target = str(meta.get("path_name", ""))
                    if meta.get("use_pickle") or not target.startswith(("weight_", "tensor_")):
                        raise _refuse(path, f"entry {fqn!r} is stored with pickle ({target})")
            legacy = [
                n for n in names if n.endswith((".pt", ".pkl")) and "/sample_inputs/" not in n
            ]
            if legacy or any("aotinductor" in n or n.endswith(".so") for n in names):
                raise _refuse(path, "it holds pickled or compiled payloads")
            for name in (n for n in names if "/sample_inputs/" in n):
                torch.load(io.BytesIO(zf.read(name)), weights_only=True)
    except FileFormatError:
        raise
    except Exception as exc:  # zipfile, json, and weights_only's UnpicklingError
        raise _refuse(path, f"{type(exc).__name__}: {str(exc).strip()[:200]}") from exc


def load_exported(path: str) -> Any:
    """An ``ExportedProgram`` from a ``.pt2`` file, refusing archives with pickled entries.

    Raises
    ------
    FileFormatError
        If the file is not a current-layout ``torch.export`` archive, holds pickled or compiled
        payloads, or cannot be deserialised.
    """
    _check_archive(path)
    try:
        return torch.export.load(path)
    except Exception as exc:
        raise FileFormatError(
            f"{path}: not a readable torch.export program ({type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''}); save it "
            "again with torch.export.save"
        ) from exc


# --------------------------------------------------------------------------- reading


def _args(node: Any) -> dict[str, Any]:
    schema = node.target._schema
    values = {a.name: a.default_value for a in schema.arguments if a.has_default_value()}
    values.update(zip([a.name for a in schema.arguments], node.args, strict=False))
    values.update(node.kwargs)
    return values


def _val(node: Any) -> Any:
    """The example value of a node (the first of a tuple such as max_pool2d_with_indices')."""
    val = node.meta.get("val")
    if isinstance(val, (tuple, list)) and val and isinstance(val[0], torch.Tensor):
        return val[0]
    return val


def _per_sample(node: Any) -> tuple[int, ...]:
    return tuple(int(s) for s in _val(node).shape)[1:]


def _is_tensor(node: Any) -> bool:
    return isinstance(_val(node), torch.Tensor)


def program_io(ep: Any, input_shape: tuple[int, ...]) -> tuple[Any, Any]:
    """The user input placeholder and the single returned node of ``ep``, checked."""
    sig = ep.graph_signature
    nodes = {n.name: n for n in ep.graph.nodes}
    if len(sig.user_inputs) != 1 or len(sig.user_outputs) != 1:
        raise ConversionError(
            f"the exported program takes {len(sig.user_inputs)} inputs and returns "
            f"{len(sig.user_outputs)} outputs; exactly one of each is supported"
        )
    first = nodes[sig.user_inputs[0]]
    shape = _per_sample(first)
    if shape != tuple(input_shape):
        raise ConversionError(
            f"the exported program takes per-sample inputs of shape {shape}, not input_shape "
            f"{tuple(input_shape)}; give --input-shape {','.join(map(str, shape))}"
        )
    return first, nodes[sig.user_outputs[0]]


def _tensors(ep: Any) -> dict[str, torch.Tensor]:
    """Placeholder name -> parameter, buffer or constant tensor."""
    sig = ep.graph_signature
    out: dict[str, torch.Tensor] = {}
    for name, fqn in {**sig.inputs_to_parameters, **sig.inputs_to_buffers}.items():
        out[name] = ep.state_dict[fqn] if fqn in ep.state_dict else ep.constants[fqn]
    for name, fqn in sig.inputs_to_lifted_tensor_constants.items():
        out[name] = ep.constants[fqn]
    return out


def _name(node: Any) -> tuple[str, str]:
    """(path, type) of a node: its standard layer's path, else the node name and the op."""
    stack = node.meta.get("nn_module_stack") or {}
    if stack:
        path, type_path = list(stack.values())[-1]
        type_name = str(type_path).rsplit(".", 1)[-1]
        if type_name in _LAYER_TYPES and path:
            return str(path), type_name
    return node.name, node.target._opname if hasattr(node.target, "_opname") else str(node.target)


def exported_steps(ep: Any) -> Iterable[tuple[Any, Op | None, list[Any]]]:
    """Each ATen node of ``ep`` as (node, op or ``None`` for a shape helper, tensor inputs)."""
    tensors = _tensors(ep)

    def param(value: Any) -> Any:
        return None if value is None else to_numpy(tensors[value.name])

    for node in ep.graph.nodes:
        if node.op in ("placeholder", "output"):
            continue
        inputs = [a for a in node.all_input_nodes if a.name not in tensors and _is_tensor(a)]
        path, type_name = _name(node)
        if node.op == "call_function" and node.target is operator.getitem:
            src, index = node.args
            if index != 0:
                raise unsupported(path, f"getitem {index} of {src.name}")
            yield node, Op("noop", path, "getitem", _per_sample(src), _per_sample(src)), [src]
            continue
        if node.op != "call_function" or not _is_tensor(node):
            if node.op == "call_function" and "sym_size" in str(node.target):
                yield node, None, inputs
                continue
            raise unsupported(path, str(node.target))
        outs = _per_sample(node)
        ins = _per_sample(inputs[0]) if inputs else ()
        if len(inputs) != 1:
            yield node, join_op(path, type_name, ins, outs, node.args, node.kwargs), inputs
            continue
        yield node, _aten_op(node, path, type_name, ins, outs, param), inputs


def _aten_op(
    node: Any, path: str, type_name: str, ins: tuple[int, ...], outs: tuple[int, ...], param: Any
) -> Op:
    name = node.target._opname
    a = _args(node)
    if name in ("conv2d", "convolution"):
        if a.get("transposed"):
            raise unsupported(path, "conv_transpose2d")
        weight = param(a["weight"])
        if weight.ndim != 4:
            raise unsupported(path, f"{name} on {weight.ndim - 2}-d inputs")
        return conv_op(
            path,
            type_name,
            ins,
            outs,
            weight,
            param(a["bias"]),
            stride=a["stride"],
            padding=a["padding"],
            dilation=a["dilation"],
            groups=a["groups"],
        )
    if name == "linear":
        if len(ins) != 1:
            raise ConversionError(
                f"Linear {path!r} receives per-sample shape {ins}; only vectors are supported "
                "(flatten the input first)"
            )
        weights = {"weight": param(a["weight"]), "bias": param(a["bias"])}
        return Op("linear", path, type_name, ins, outs, weights)
    if name in ("batch_norm", "_native_batch_norm_legit_no_training"):
        if a.get("training") or a["running_mean"] is None:
            raise ConversionError(
                f"{type_name} {path!r} normalises with batch statistics; export the model in "
                "eval mode with running statistics (track_running_stats=True)"
            )
        return bn_op(
            path,
            type_name,
            ins,
            outs,
            mean=param(a["running_mean"]),
            var=param(a["running_var"]),
            eps=float(a["eps"]),
            gamma=param(a["weight"]),
            beta=param(a["bias"]),
        )
    if name in ("relu", "relu_"):
        return Op("relu", path, type_name, ins, outs)
    if name in ("max_pool2d", "max_pool2d_with_indices", "avg_pool2d"):
        if name == "avg_pool2d" and a.get("divisor_override") is not None:
            raise ConversionError(f"{type_name} {path!r}: divisor_override is not supported")
        kind = "avgpool" if name == "avg_pool2d" else "maxpool"
        stride = a.get("stride") or None
        dilation = a.get("dilation", 1)
        return pool_op(
            kind, path, type_name, ins, outs, a["kernel_size"], stride, a["padding"], dilation,
            bool(a["ceil_mode"]), False,
        )  # fmt: skip
    if name in ("adaptive_avg_pool2d", "_adaptive_avg_pool2d"):
        return adaptive_op(path, type_name, ins, outs)
    if name in _RESHAPE:
        return flatten_op(path, type_name, ins, outs)
    if name in _NOOP:
        if name == "dropout" and a.get("train"):
            raise ConversionError(f"dropout {path!r} is in training mode; export in eval mode")
        return Op("noop", path, type_name, ins, outs)
    raise unsupported(path, str(node.target))
