"""Time-to-first-spike coding (Stanojevic et al. 2023): the exact ReLU -> single-spike mapping.

The semantics are in :mod:`lif_bridge.ttfs.semantics`; conversion in
:mod:`lif_bridge.ttfs.convert` (also reached as ``from_torch(..., coding="ttfs")`` and
``convert_network(..., coding="ttfs")``); running in :mod:`lif_bridge.ttfs.run`.
"""

from __future__ import annotations

from lif_bridge.ttfs.coding import (
    TtfsCoding,
    TtfsLayer,
    graph_plan,
    is_ttfs,
    layer_plan,
    population_depths,
    ttfs_coding,
)
from lif_bridge.ttfs.convert import DEFAULT_SAFETY, DEFAULT_TAU_C, convert_ttfs
from lif_bridge.ttfs.run import (
    TtfsBackend,
    TtfsProgram,
    TtfsResult,
    available_ttfs_backends,
    get_ttfs_backend,
    simulate_ttfs,
    synaptic_operations,
)

__all__ = [
    "DEFAULT_SAFETY",
    "DEFAULT_TAU_C",
    "TtfsBackend",
    "TtfsCoding",
    "TtfsLayer",
    "TtfsProgram",
    "TtfsResult",
    "available_ttfs_backends",
    "convert_ttfs",
    "get_ttfs_backend",
    "graph_plan",
    "is_ttfs",
    "layer_plan",
    "population_depths",
    "simulate_ttfs",
    "synaptic_operations",
    "ttfs_coding",
]
