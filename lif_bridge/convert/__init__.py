"""Converters from trained ANNs to network descriptions, and their normalisation.

:func:`from_torch` (needs torch, imported only when called) converts a PyTorch ReLU network;
:mod:`lif_bridge.convert.normalize` holds the data-based normalisation factors (numpy only).
"""

from __future__ import annotations

from typing import Any

from lif_bridge.convert.normalize import (
    NORMALIZATIONS,
    l4_factor,
    max_factor,
    normalization_factors,
    percentile_factor,
)
from lif_bridge.convert.scale import DEFAULT_MAX_RATE, convert_network
from lif_bridge.errors import BackendUnavailableError

__all__ = [
    "DEFAULT_MAX_RATE",
    "NORMALIZATIONS",
    "convert_network",
    "from_torch",
    "l4_factor",
    "max_factor",
    "normalization_factors",
    "percentile_factor",
]


#: What to do when torch is missing (the main install has none).
TORCH_MISSING = (
    "importing a PyTorch model needs torch, which is not installed: "
    "pip install torch --index-url https://download.pytorch.org/whl/cpu && "
    "pip install 'lif-bridge[torch]'"
)


def from_torch(*args: Any, **kwargs: Any) -> Any:
    """Convert a trained PyTorch model; see :func:`lif_bridge.convert.torch.from_torch`.

    torch is imported only when this is called; without it, a
    :class:`~lif_bridge.errors.BackendUnavailableError` says how to install it.
    """
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise BackendUnavailableError(TORCH_MISSING) from exc
    from lif_bridge.convert.torch import from_torch as _from_torch

    return _from_torch(*args, **kwargs)
