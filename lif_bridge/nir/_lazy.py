"""The optional ``nir`` package, imported only when NIR is used."""

from __future__ import annotations

from types import ModuleType

from lif_bridge.errors import BackendUnavailableError

__all__ = ["import_nir"]


def import_nir() -> ModuleType:
    """The ``nir`` module, or a clear error naming the extra to install."""
    try:
        import nir
    except ImportError as exc:
        raise BackendUnavailableError(
            'NIR support needs the nir package: pip install "lif-bridge[nir]"'
        ) from exc
    return nir
