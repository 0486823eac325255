"""The one error hierarchy of lif-bridge.

Every error a user can cause derives from :class:`LifBridgeError`, so callers (and the CLI)
can catch one type. Messages name the layer, parameter or file concerned, what was expected,
and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BackendError",
    "BackendUnavailableError",
    "ConversionError",
    "DataError",
    "FileFormatError",
    "LifBridgeError",
    "MappingDomainError",
    "UnsupportedLayerError",
    "ValidationError",
    "one_line",
]


def one_line(exc: BaseException, limit: int = 200) -> str:
    """``"Type: first line"`` of an exception, at most ``limit`` characters.

    For wrapping a framework's error in ours: TorchScript and torch.fx messages carry a
    multi-line traceback of the scripted code, which must not reach the user's one line.
    """
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else ""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class LifBridgeError(Exception):
    """Base class of every error lif-bridge raises on bad input or a missing resource."""


class ValidationError(LifBridgeError, ValueError):
    """A field of the network description or of the simulation settings is invalid."""


class MappingDomainError(LifBridgeError, ValueError):
    """A ReLU <-> Linear LIF mapping was asked outside the domain where it exists."""


class UnsupportedLayerError(LifBridgeError, TypeError):
    """A layer (or module) type that a converter or backend cannot handle.

    Parameters
    ----------
    layer
        Name or path of the offending layer.
    kind
        Its type name.
    where
        The converter or backend that refused it.
    supported
        The types that *are* supported there.
    """

    def __init__(self, layer: str, kind: str, where: str, supported: Iterable[str]) -> None:
        self.layer = layer
        self.kind = kind
        self.where = where
        self.supported = tuple(sorted(supported))
        super().__init__(
            f"{where}: layer {layer!r} of type {kind} is not supported; "
            f"supported types are: {', '.join(self.supported)}"
        )


class ConversionError(LifBridgeError, ValueError):
    """A trained model cannot be turned into a network description."""


class FileFormatError(ValidationError):
    """A file is corrupt, truncated, of the wrong kind, of an unknown format version, or
    declares sizes over :mod:`lif_bridge.limits` (a :class:`ValidationError` of the file)."""


class DataError(LifBridgeError, FileNotFoundError):
    """A data set could not be found or read."""


class BackendUnavailableError(LifBridgeError, ImportError):
    """A backend is not installed, or its framework cannot be imported."""


class BackendError(LifBridgeError, RuntimeError):
    """A backend failed while lowering or running a network (compile error, missing compiler...)."""
