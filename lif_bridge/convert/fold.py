"""Turn a chain of traced operations into weighted layers with folded batch norm (internal).

Pure numpy: the input is the list of :class:`~lif_bridge.convert.ops.Op` that
:func:`~lif_bridge.convert.trace.trace_ops` reads from a torch model.

Folding
-------
A batch norm in eval mode is the affine map ``y = s ⊙ z + t`` per channel with
``s = γ / sqrt(σ² + ε)`` and ``t = β − μ s`` (running mean ``μ`` and variance ``σ²``). Directly
after ``z = W x + b`` it folds into the layer: ``W' = diag(s) W`` (row ``o`` of a dense weight,
output channel ``o`` of a convolution) and ``b' = s ⊙ b + t``.

Order of stages
---------------
The spiking population rectifies right after its synapses, so the model's ReLU must come right
after the weighted layer, possibly behind stages that commute with it: max pooling
(``max(relu(z)) = relu(max(z))``), flatten, dropout, identity. Average pooling does not commute
with ReLU (``mean(relu(z)) != relu(mean(z))``) and must come after the ReLU. A ReLU on the
input, or a repeated ReLU, changes nothing (values are already >= 0) and is dropped. A hidden
weighted layer without ReLU cannot be expressed (its spiking population would rectify), nor can
a value-changing stage after the last weighted layer; the last weighted layer without ReLU gets
``ann_activation="identity"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.convert.ops import SUPPORTED, WHERE, Op
from lif_bridge.errors import ConversionError, UnsupportedLayerError

__all__ = ["AnnLayer", "Stage", "fold_bn_weight", "fold_ops"]


@dataclass
class Stage:
    """A stateless stage before a weighted layer: ``"maxpool"``, ``"avgpool"`` or ``"flatten"``."""

    kind: str
    name: str
    kernel: tuple[int, int] = (1, 1)
    stride: tuple[int, int] = (1, 1)


@dataclass
class AnnLayer:
    """One weighted layer of the ReLU network, batch norm folded in.

    Attributes
    ----------
    kind
        ``"dense"`` or ``"conv"``.
    name
        Module path of the Linear / Conv2d.
    weight
        float64, ``(out, in)`` or ``(out, in/groups, kh, kw)``.
    bias
        float64, one value per output unit / channel (zeros when the layer has none).
    attrs
        Convolution options (``stride``, ``padding``, ``dilation``, ``groups``).
    activation
        ``"relu"`` or ``"identity"``.
    stages
        Stateless stages between the previous weighted layer (or the input) and this one.
    folded
        Paths of the batch norms folded into this layer.
    """

    kind: str
    name: str
    weight: np.ndarray
    bias: np.ndarray
    attrs: dict[str, Any] = field(default_factory=dict)
    activation: str = "identity"
    stages: list[Stage] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)


def fold_bn_weight(weight: np.ndarray, scale: np.ndarray, op: Op) -> np.ndarray:
    """``diag(scale) W``: the batch norm ``op``'s scale on each output unit / channel."""
    n_out = weight.shape[0]
    if scale.shape != (n_out,):
        raise ConversionError(
            f"{op.type_name} {op.path!r} has {scale.size} channels but the layer before it "
            f"has {n_out} outputs"
        )
    return weight * scale.reshape((n_out,) + (1,) * (weight.ndim - 1))


def _fold_bn(layer: AnnLayer, op: Op) -> None:
    scale, shift = op.params["scale"], op.params["shift"]
    layer.weight = fold_bn_weight(layer.weight, scale, op)
    layer.bias = layer.bias * scale + shift
    layer.folded.append(op.path)


def fold_ops(ops: list[Op]) -> list[AnnLayer]:
    """Group traced operations into weighted layers (see the module docstring for the rules).

    Raises
    ------
    ConversionError
        For a batch norm that does not directly follow a weighted layer, an average pool
        between a weighted layer and its ReLU, a hidden weighted layer without ReLU, or a model
        without weighted layers.
    UnsupportedLayerError
        For a value-changing stage after the last weighted layer.
    """
    layers: list[AnnLayer] = []
    pending: list[tuple[Stage, Op]] = []
    pre_act = False  # after a weighted layer, before its ReLU
    for op in ops:
        if op.kind == "noop":
            continue
        cur = layers[-1] if layers else None
        if op.kind == "bn":
            if cur is None or not pre_act or pending:
                raise ConversionError(
                    f"{op.type_name} {op.path!r} must directly follow a Linear or Conv2d "
                    "(before its ReLU and any pooling) to be folded into it"
                )
            _fold_bn(cur, op)
        elif op.kind in ("linear", "conv"):
            if cur is not None and pre_act:
                raise ConversionError(
                    f"hidden layer {cur.name!r} has no ReLU before {op.path!r}: the spiking "
                    "population would rectify it; add a ReLU or merge the two layers"
                )
            weight = op.params["weight"]
            bias = op.params.get("bias")
            layers.append(
                AnnLayer(
                    kind="dense" if op.kind == "linear" else "conv",
                    name=op.path,
                    weight=weight,
                    bias=np.zeros(weight.shape[0]) if bias is None else bias,
                    attrs=dict(op.attrs),
                    stages=[s for s, _ in pending],
                )
            )
            pending = []
            pre_act = True
        elif op.kind == "relu":
            if cur is None or not pre_act:
                continue  # values are already >= 0 here
            bad = [o for s, o in pending if s.kind == "avgpool"]
            if bad:
                raise ConversionError(
                    f"{bad[0].type_name} {bad[0].path!r} sits between {cur.name!r} and its ReLU "
                    f"{op.path!r}; average pooling does not commute with ReLU, so move the "
                    "pooling after the ReLU"
                )
            cur.activation = "relu"
            pre_act = False
        elif op.kind in ("maxpool", "avgpool", "flatten"):
            stage = Stage(op.kind, op.path.replace(".", "_"))
            if op.kind != "flatten":
                stage.kernel, stage.stride = op.attrs["kernel"], op.attrs["stride"]
            pending.append((stage, op))
        else:  # pragma: no cover - trace emits no other kinds
            raise UnsupportedLayerError(op.path, op.type_name, WHERE, SUPPORTED)
    if not layers:
        raise ConversionError("the model has no Linear or Conv2d layer to convert")
    for stage, op in pending:
        if stage.kind != "flatten":
            raise UnsupportedLayerError(
                op.path,
                op.type_name,
                f"{WHERE} (after the last weighted layer {layers[-1].name!r}, where a layer "
                "must not change values)",
                SUPPORTED,
            )
    return layers
