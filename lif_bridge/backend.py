"""The backend protocol, the run result, and the entry-point registry of backends.

A backend is any object with a ``name`` and a ``lower(network, simulation) -> Program`` method;
a :class:`Program` runs batches of inputs and returns a :class:`Result`. Backends are found
through the entry-point group ``lif_bridge.backends`` (name -> ``module:attribute``, the
attribute being a class or factory called with the backend's options) and imported only when
asked for, so ``import lif_bridge`` never imports a simulator framework or torch. Every backend,
shipped or a third party's, is added the same way, in its own distribution::

    [project.entry-points."lif_bridge.backends"]
    mysim = "my_package.backend:MySimBackend"

Its command-line options, extra commands and install hint come through the entry points of
:mod:`lif_bridge.plugins`.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from lif_bridge.errors import BackendError, BackendUnavailableError, LifBridgeError
from lif_bridge.network import Network, Simulation
from lif_bridge.plugins import install_hint

__all__ = [
    "ENTRY_POINT_GROUP",
    "Backend",
    "Program",
    "Result",
    "available_backends",
    "get_backend",
    "simulate",
]

ENTRY_POINT_GROUP = "lif_bridge.backends"


@dataclass(frozen=True, kw_only=True)
class Result:
    """Spike counts (and optional traces) of a run over a batch of samples.

    Attributes
    ----------
    counts
        Layer name -> ``(samples, neurons)`` int array of spike counts over the window
        (neurons flattened in C order). Always holds the output layer.
    output
        Name of the output layer.
    steps, dt
        The window: ``steps`` steps of ``dt`` seconds.
    traces
        Layer name -> ``(samples, steps, neurons)`` membrane potential [V] after each step.
    backend
        Name of the backend (and device/variant) that produced it.
    seconds
        Wall time of the run [s], lowering excluded.
    info
        Backend-specific figures (compile time, device...).
    """

    counts: Mapping[str, np.ndarray]
    output: str
    steps: int
    dt: float
    traces: Mapping[str, np.ndarray] = field(default_factory=dict)
    backend: str = ""
    seconds: float = 0.0
    info: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output_counts(self) -> np.ndarray:
        """Spike counts of the output layer, ``(samples, outputs)``."""
        return np.asarray(self.counts[self.output])

    @property
    def duration(self) -> float:
        """Window length ``T = steps · dt`` [s]."""
        return self.steps * self.dt

    def rates(self, layer: str | None = None) -> np.ndarray:
        """Firing rates [Hz] of a layer (default: output), ``count / T``."""
        return np.asarray(self.counts[layer or self.output]) / self.duration

    def predictions(self) -> np.ndarray:
        """Predicted labels: the output neuron with the most spikes (lowest index on ties)."""
        return np.argmax(self.output_counts, axis=1)

    @staticmethod
    def concatenate(parts: list[Result]) -> Result:
        """Join results of consecutive batches (same network and settings)."""
        if not parts:
            raise LifBridgeError("Result.concatenate: no results to join")
        first = parts[0]
        return Result(
            counts={k: np.concatenate([p.counts[k] for p in parts]) for k in first.counts},
            traces={k: np.concatenate([p.traces[k] for p in parts]) for k in first.traces},
            output=first.output,
            steps=first.steps,
            dt=first.dt,
            backend=first.backend,
            seconds=sum(p.seconds for p in parts),
            info=dict(first.info),
        )


@runtime_checkable
class Program(Protocol):
    """A network lowered onto a backend, ready to run many samples without rebuilding."""

    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Run samples ``x`` of shape ``(samples, *input_shape)`` with values in [0, 1].

        ``start_index`` is the index of the first sample in the data set (it seeds Poisson
        trains, see :class:`lif_bridge.network.Poisson`).
        """
        ...

    def close(self) -> None:
        """Release what the program holds (processes, build folders); idempotent."""
        ...


@runtime_checkable
class Backend(Protocol):
    """A simulator that lowers a network description to a runnable :class:`Program`."""

    name: str

    def lower(self, network: Network, simulation: Simulation) -> Program:
        """Build the backend's program for ``network`` under ``simulation``."""
        ...


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_backends() -> list[str]:
    """Names of the registered backends (installed or not importable alike)."""
    return sorted(_entry_points())


def get_backend(name: str, **options: Any) -> Backend:
    """Load the backend registered as ``name`` and make it with ``options``.

    Raises
    ------
    BackendUnavailableError
        If no backend of that name is registered, or its framework cannot be imported; the
        message names the extra to install.
    """
    eps = _entry_points()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise BackendUnavailableError(
            f"backend {name!r} is not registered (registered: {known}); install the package "
            "that provides it"
        )
    try:
        factory = eps[name].load()
    except (ImportError, AttributeError) as exc:
        raise BackendUnavailableError(
            f"backend {name!r} cannot be imported ({exc}); {install_hint(name)}"
        ) from exc
    try:
        backend = factory(**options)
    except TypeError as exc:
        given = ", ".join(sorted(options)) or "none"
        raise BackendError(
            f"backend {name!r} does not accept the options given ({given}): {exc}; see the "
            "backend's documentation for its options"
        ) from exc
    if not isinstance(backend, Backend):
        raise BackendUnavailableError(
            f"entry point {eps[name].value!r} for backend {name!r} does not give a Backend "
            "(needs a name and a lower(network, simulation) method)"
        )
    return backend


def simulate(
    network: Network,
    x: np.ndarray,
    simulation: Simulation,
    backend: str | Backend = "reference",
    *,
    progress: bool = False,
    **options: Any,
) -> Result:
    """Lower ``network`` on a backend, run the samples ``x``, release the program.

    Parameters
    ----------
    network, simulation
        What to run and how.
    x
        Samples ``(samples, *network.input_shape)``, values in [0, 1].
    backend
        A backend name from :func:`available_backends` or a backend object.
    progress
        Show a progress bar.
    **options
        Passed to the backend's constructor when ``backend`` is a name.
    """
    be = get_backend(backend, **options) if isinstance(backend, str) else backend
    program = be.lower(network, simulation)
    try:
        return program.run(x, progress=progress)
    finally:
        program.close()
