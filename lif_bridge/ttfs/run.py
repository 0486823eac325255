"""Running TTFS networks: the result, the backend protocol and registry, the figures of a run.

TTFS backends are found through the entry-point group ``lif_bridge.ttfs_backends`` (name ->
``module:attribute``, called with the backend's options), like the rate-coding backends of
:mod:`lif_bridge.backend`, so the core names no backend and imports no simulator.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from lif_bridge.connectivity import population_matrix
from lif_bridge.errors import BackendError, BackendUnavailableError
from lif_bridge.network import Network
from lif_bridge.plugins import install_hint
from lif_bridge.ttfs.semantics import first_spike_pool

__all__ = [
    "TTFS_ENTRY_POINT_GROUP",
    "TtfsBackend",
    "TtfsProgram",
    "TtfsResult",
    "available_ttfs_backends",
    "get_ttfs_backend",
    "simulate_ttfs",
    "synaptic_operations",
]

TTFS_ENTRY_POINT_GROUP = "lif_bridge.ttfs_backends"


@dataclass(frozen=True, kw_only=True)
class TtfsResult:
    """Spike times and the decoded readout of a TTFS run over a batch of samples.

    Attributes
    ----------
    spike_times
        ``"input"`` and every hidden layer name -> ``(samples, units)`` spike times [s]
        (``inf``: no spike). A neuron fires at most once.
    output
        The readout ``V(t_min(N)) + D`` of the output layer, ``(samples, outputs)``
        (rectified when the trained output layer had a ReLU).
    output_name
        Name of the output layer.
    readout_time
        ``t_min(N)`` [s], when the output is read.
    dt
        Time step [s] of a clock-driven run, ``None`` for the exact continuous-time solution.
    backend, seconds, info
        Who produced it, wall time [s] (lowering excluded), backend-specific figures.
    """

    spike_times: Mapping[str, np.ndarray]
    output: np.ndarray
    output_name: str
    readout_time: float
    dt: float | None = None
    backend: str = ""
    seconds: float = 0.0
    info: Mapping[str, Any] = field(default_factory=dict)

    def predictions(self) -> np.ndarray:
        """Predicted labels: arg-max of the readout (lowest index on ties)."""
        return np.argmax(self.output, axis=1)

    def spike_counts(self, layer: str) -> np.ndarray:
        """Spikes per neuron (0 or 1) of a layer, ``(samples, units)``."""
        return np.isfinite(self.spike_times[layer]).astype(np.int64)

    @property
    def latency_steps(self) -> int | None:
        """Readout time in steps of ``dt`` (``None`` in continuous time)."""
        return None if self.dt is None else round(self.readout_time / self.dt)

    def spikes_per_neuron(self) -> dict[str, float]:
        """Mean and max spikes per hidden neuron and sample (the output layer does not spike)."""
        hidden = [k for k in self.spike_times if k != "input"]
        if not hidden:
            return {"mean": 0.0, "max": 0.0}
        counts = np.concatenate([self.spike_counts(k) for k in hidden], axis=1)
        return {"mean": float(counts.mean()), "max": float(counts.max(initial=0))}

    @staticmethod
    def concatenate(parts: list[TtfsResult]) -> TtfsResult:
        """Join results of consecutive batches."""
        first = parts[0]
        return TtfsResult(
            spike_times={
                k: np.concatenate([p.spike_times[k] for p in parts]) for k in first.spike_times
            },
            output=np.concatenate([p.output for p in parts]),
            output_name=first.output_name,
            readout_time=first.readout_time,
            dt=first.dt,
            backend=first.backend,
            seconds=sum(p.seconds for p in parts),
            info=dict(first.info),
        )


@runtime_checkable
class TtfsProgram(Protocol):
    """A TTFS network lowered onto a backend."""

    def run(self, x: np.ndarray, *, progress: bool = False) -> TtfsResult:
        """Run samples ``(samples, *input_shape)`` with values in [0, 1]."""
        ...

    def close(self) -> None:
        """Release what the program holds; idempotent."""
        ...


@runtime_checkable
class TtfsBackend(Protocol):
    """A simulator of TTFS networks."""

    name: str

    def lower(self, network: Network, dt: float | None = None) -> TtfsProgram:
        """Build the program; ``dt`` [s] is the time step of a clock-driven backend."""
        ...


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=TTFS_ENTRY_POINT_GROUP)
    return {ep.name: ep for ep in eps}


def available_ttfs_backends() -> list[str]:
    """Names of the registered TTFS backends."""
    return sorted(_entry_points())


def get_ttfs_backend(name: str, **options: Any) -> TtfsBackend:
    """Load the TTFS backend registered as ``name`` and make it with ``options``."""
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise BackendUnavailableError(
            f"backend {name!r} has no TTFS implementation (TTFS backends: {known})"
        )
    try:
        factory = eps[name].load()
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(
            f"TTFS backend {name!r} cannot be imported ({exc}); {install_hint(name)}"
        ) from exc
    try:
        return factory(**options)  # type: ignore[no-any-return]
    except TypeError as exc:
        raise BackendError(f"TTFS backend {name!r} does not accept these options: {exc}") from exc


def simulate_ttfs(
    network: Network,
    x: np.ndarray,
    backend: str | TtfsBackend = "reference",
    *,
    dt: float | None = None,
    progress: bool = False,
    **options: Any,
) -> TtfsResult:
    """Lower a TTFS network on a backend, run ``x``, release the program."""
    be = get_ttfs_backend(backend, **options) if isinstance(backend, str) else backend
    program = be.lower(network, dt)
    try:
        return program.run(x, progress=progress)
    finally:
        program.close()


def synaptic_operations(network: Network, result: TtfsResult) -> dict[str, float]:
    """Synaptic operations per sample of a run: every spike that reaches a layer x its fan-out.

    A spike passes the max-pool stages in front of a layer only if it is the first of its
    window; the fan-out of a unit is the number of non-zero synapses it drives (through the
    linear stages), summed over a graph population's projections. Returns layer name -> mean
    SynOps per sample, and ``"total"``.
    """
    out: dict[str, float] = {}
    names = ["input", *(p.name for p in network.populations[:-1])]
    for pop in network.populations:
        ops = 0.0
        for edge in pop.projections:
            times = np.asarray(result.spike_times[names[edge.source + 1]])
            gated = first_spike_pool(times, edge.gates, edge.source_shape)
            matrix = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
            fan_out = np.diff(matrix.tocsc().indptr) if matrix is not None else 0
            ops += float((np.isfinite(gated) * fan_out).sum(axis=1).mean())
        out[pop.name] = ops
    out["total"] = float(sum(out.values()))
    return out
