"""Load the model to convert: a module, a program, a model file, or a factory (internal).

Nothing read from a file is executed as Python: state_dicts are read with
``torch.load(..., weights_only=True)`` (which refuses pickled code) or from ``.npz`` with
``allow_pickle=False``; TorchScript files are read with ``torch.jit.load`` and rebuilt from
their submodules (:mod:`lif_bridge.convert.torchscript`); ``.pt2`` files of ``torch.export``
are checked for pickled entries before ``torch.export.load``
(:mod:`lif_bridge.convert.export`). A ``"module.path:factory"`` imports the named module, which
is code the user chose to run.
"""

from __future__ import annotations

import importlib
import os
import pickle
import re
import warnings
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lif_bridge.convert.export import load_exported
from lif_bridge.convert.torchscript import load_torchscript, rebuild_scripted, scripted_graph
from lif_bridge.errors import ConversionError, DataError, FileFormatError

__all__ = ["is_exported", "load_model", "load_state_dict_file"]

_FACTORY = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state_dict from ``.pt``/``.pth`` (``weights_only=True``) or ``.npz`` (no pickle).

    A checkpoint dictionary holding the weights under ``"state_dict"`` or
    ``"model_state_dict"`` is accepted too. Nothing in the file is executed: ``torch.load``
    with ``weights_only=True`` refuses pickled code, and ``.npz`` files are read with
    ``allow_pickle=False``.

    Raises
    ------
    DataError
        If the file does not exist.
    FileFormatError
        If it is truncated, not a weights file, holds pickled code, or is not a mapping of
        parameter names to tensors.
    """
    from lif_bridge.zoo import load_state_npz

    p = Path(path)
    if not p.is_file():
        raise DataError(f"weights file {p} not found")
    suffix = p.suffix.lower()
    if suffix == ".npz":
        return {k: torch.from_numpy(v.copy()) for k, v in load_state_npz(p).items()}
    if suffix not in (".pt", ".pth"):
        raise FileFormatError(
            f"{p}: unknown weights file type {p.suffix!r}; give a state_dict saved with "
            "torch.save (.pt/.pth) or an .npz of arrays named by state_dict keys"
        )
    try:
        obj = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(
            f"{p}: refused to load: the file holds pickled objects other than tensors, which "
            f"weights_only loading does not execute ({first[:200]}); save only "
            "model.state_dict() with torch.save"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise FileFormatError(
            f"{p}: not a readable PyTorch weights file, or truncated ({type(exc).__name__}: "
            f"{str(exc).strip()[:200]}); save the weights again with "
            "torch.save(model.state_dict(), path)"
        ) from exc
    if isinstance(obj, Mapping):
        for key in ("state_dict", "model_state_dict"):
            if isinstance(obj.get(key), Mapping):
                obj = obj[key]
                break
    if (
        not isinstance(obj, Mapping)
        or not obj
        or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())
    ):
        raise FileFormatError(
            f"{p}: holds a {type(obj).__name__}, not a state_dict (a mapping of parameter names "
            "to tensors); save model.state_dict()"
        )
    return dict(obj)


def _load_into(model: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k} (file {tuple(state[k].shape)}, model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {missing[:5]}" + (" ..." if len(missing) > 5 else ""))
    if unexpected:
        problems.append(
            f"unexpected keys {unexpected[:5]}" + (" ..." if len(unexpected) > 5 else "")
        )
    if shapes:
        problems.append(f"shape mismatch {', '.join(shapes[:5])}")
    if problems:
        raise FileFormatError(
            f"{source}: the weights do not fit the model: {'; '.join(problems)}; use the "
            "factory the weights were trained with"
        )
    with torch.no_grad():
        model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})


def _from_factory(spec: str, weights: str | os.PathLike[str] | None) -> nn.Module:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConversionError(f"model {spec!r}: expected 'module.path:factory'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConversionError(
            f"model {spec!r}: cannot import module {module_name!r} ({exc})"
        ) from exc
    factory: Any = module
    for part in attr.split("."):
        factory = getattr(factory, part, None)
        if factory is None:
            raise ConversionError(f"model {spec!r}: module {module_name!r} has no {attr!r}")
    if callable(factory) and not isinstance(factory, nn.Module):
        try:
            model = factory()
        except TypeError as exc:
            raise ConversionError(
                f"model {spec!r}: {attr} must be callable without arguments ({exc})"
            ) from exc
    else:
        model = factory
    if not isinstance(model, nn.Module):
        raise ConversionError(
            f"model {spec!r}: {attr} returned a {type(model).__name__}, not a torch.nn.Module"
        )
    if weights is not None:
        _load_into(model, load_state_dict_file(weights), os.fspath(weights))
    else:
        warnings.warn(
            f"model {spec!r} is converted with the weights its factory created (random unless "
            "the factory loads trained ones); pass weights=FILE to convert trained weights",
            UserWarning,
            stacklevel=4,
        )
    return model


def _from_script(script: Any, input_shape: tuple[int, ...]) -> nn.Module:
    """A chain of the script's leaves when that is its forward, else its graph read as fx."""
    try:
        return rebuild_scripted(script, input_shape)
    except ConversionError as chain_error:
        try:
            return scripted_graph(script, input_shape)
        except ConversionError:
            raise chain_error from None


def is_exported(model: Any) -> bool:
    """Whether ``model`` is a ``torch.export.ExportedProgram``."""
    return isinstance(model, torch.export.ExportedProgram)


def load_model(
    model: Any,
    *,
    input_shape: tuple[int, ...],
    weights: str | os.PathLike[str] | None = None,
) -> Any:
    """The eager ``nn.Module`` (in eval mode) or the ``ExportedProgram`` to convert.

    Parameters
    ----------
    model
        A module (weights loaded from ``weights`` if given), an ``ExportedProgram``, the path
        of a TorchScript file or of a ``.pt2`` file saved with ``torch.export.save``, or
        ``"module.path:factory"`` (a callable returning a module, imported and called).
    input_shape
        Per-sample input shape (used to check a rebuilt TorchScript model).
    weights
        A state_dict file for the module / factory (see :func:`load_state_dict_file`).
    """
    if is_exported(model):
        if weights is not None:
            raise ConversionError("an exported program holds its own weights; drop weights")
        return model
    if isinstance(model, nn.Module):
        if isinstance(model, torch.jit.ScriptModule):
            return _from_script(model.eval(), input_shape)
        if weights is not None:
            _load_into(model, load_state_dict_file(weights), os.fspath(weights))
        return model.eval()
    if not isinstance(model, (str, os.PathLike)):
        raise ConversionError(
            "model must be a torch.nn.Module, an ExportedProgram, a TorchScript or .pt2 file or "
            f"'module:factory', got "
            f"{type(model).__name__}"
        )
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.is_file():
        if weights is not None:
            raise ConversionError(
                f"{text}: a model file holds its own weights; drop the weights argument"
            )
        if path.suffix.lower() == ".pt2":
            return load_exported(os.fspath(path))
        script = load_torchscript(os.fspath(path))
        return _from_script(script.eval(), input_shape)
    if _FACTORY.match(text):
        return _from_factory(text, weights).eval()
    if path.suffix or os.sep in text:
        raise DataError(f"model file {text} not found")
    raise ConversionError(
        f"model {text!r} is neither a file nor 'module.path:factory' (e.g. "
        "'lif_bridge.zoo:paper_mlp')"
    )
