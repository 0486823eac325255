"""The operations a torch model is read as, and the shape-only checks they share (internal).

Torch-free: :mod:`lif_bridge.convert.fx_ops` (torch.fx modules and functions),
:mod:`lif_bridge.convert.export` (ATen operators of a ``torch.export`` program) and the fold
(:mod:`lif_bridge.convert.fold`) all speak :class:`Op`. Every reader names an op by its module
path (``"layer1.0.conv1"``) where the model has one, else by its graph node name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lif_bridge.errors import ConversionError, UnsupportedLayerError

__all__ = [
    "SUPPORTED",
    "WHERE",
    "Op",
    "adaptive_op",
    "bn_op",
    "conv_op",
    "flatten_op",
    "join_op",
    "pair",
    "pool_op",
    "unsupported",
]

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
    "addition of two branches (+, torch.add, operator.add; ReLU, BatchNorm or max pooling "
    "after it, or the output)",
    "torch.cat of branches after their ReLU, along dim 1",
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


def pair(v: Any) -> tuple[int, int]:
    """``(v, v)`` for an int, the first and last entries for a sequence."""
    if isinstance(v, (tuple, list)):
        return (int(v[0]), int(v[-1]))
    return (int(v), int(v))


def pool_op(
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
    """A ``"maxpool"`` / ``"avgpool"`` op, refusing the options the spiking pool lacks."""
    problems = []
    if pair(padding) != (0, 0):
        problems.append(f"padding={padding}")
    if pair(dilation) != (1, 1):
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
    k = pair(kernel)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride
    return Op(kind, path, name, ins, outs, attrs={"kernel": k, "stride": pair(s)})


def adaptive_op(path: str, name: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    """Adaptive average pooling as a fixed window (the input a multiple of the output)."""
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


def flatten_op(path: str, name: str, ins: tuple[int, ...], outs: tuple[int, ...]) -> Op:
    """Flattening each sample to a vector (a reshape that keeps the shape is a no-op)."""
    if outs == ins:
        return Op("noop", path, name, ins, outs)
    if len(outs) == 1 and outs[0] == math.prod(ins):
        return Op("flatten", path, name, ins, outs)
    raise ConversionError(
        f"{name} {path!r} reshapes per-sample {ins} to {outs}; only flattening each sample to "
        "a vector (keeping the batch dimension) is supported"
    )


def conv_op(
    path: str,
    name: str,
    ins: tuple[int, ...],
    outs: tuple[int, ...],
    weight: np.ndarray,
    bias: np.ndarray | None,
    *,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
) -> Op:
    """A ``"conv"`` op; ``padding`` may be ints or ``"valid"`` / ``"same"`` (odd kernels)."""
    kh, kw = weight.shape[2:]
    dil = pair(dilation)
    if isinstance(padding, str):
        if padding == "valid":
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
        pad = pair(padding)
    params = {"weight": weight} if bias is None else {"weight": weight, "bias": bias}
    return Op(
        "conv",
        path,
        name,
        ins,
        outs,
        params,
        {"stride": pair(stride), "padding": pad, "dilation": dil, "groups": int(groups)},
    )


def bn_op(
    path: str,
    name: str,
    ins: tuple[int, ...],
    outs: tuple[int, ...],
    *,
    mean: Any,
    var: Any,
    eps: float,
    gamma: Any = None,
    beta: Any = None,
) -> Op:
    r"""A ``"bn"`` op: eval-mode batch norm ``y = s z + t``, ``s = γ/√(σ²+ε)``, ``t = β − μ s``."""
    mean = np.asarray(mean, dtype=np.float64)
    scale = 1.0 / np.sqrt(np.asarray(var, dtype=np.float64) + float(eps))
    if gamma is not None:
        scale = np.asarray(gamma, dtype=np.float64) * scale
    shift = -mean * scale
    if beta is not None:
        shift = shift + np.asarray(beta, dtype=np.float64)
    return Op("bn", path, name, ins, outs, {"scale": scale, "shift": shift})


def join_op(
    path: str, name: str, ins: tuple[int, ...], outs: tuple[int, ...], args: Any, kwargs: Any
) -> Op:
    """A ``"join"`` op (a node reading several tensors): ``add`` (``alpha`` 1) or ``cat``.

    ``attrs["dim"]`` is a concatenation's dimension counted with the batch (``1``: channels).
    Other functions keep their name and are refused by the fold.
    """
    attrs: dict[str, Any] = {}
    if name in ("add", "add_", "iadd"):
        alpha = kwargs.get("alpha", 1)
        if alpha != 1:
            raise ConversionError(f"{name} {path!r}: alpha={alpha} is not supported (only a + b)")
    if name == "cat":
        dim = kwargs.get("dim", args[1] if len(args) > 1 else 0)
        attrs["dim"] = int(dim) + (len(outs) + 1 if int(dim) < 0 else 0)
    return Op("join", path, name, ins, outs, attrs=attrs)
