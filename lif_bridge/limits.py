"""Size limits on what lif-bridge reads and runs, checked before anything is allocated.

A network file is a few kilobytes of JSON plus arrays, and it *declares* its sizes: a 12 KB file
can ask for a layer of 10^12 neurons, a zip member can claim (or inflate to) terabytes, a
command line can ask for 10^12 steps. Every such size is checked against a limit first, and a
refusal names the file or parameter, the size asked for, the limit and how to raise it.

Limits (defaults; each is overridable)
--------------------------------------
=====================  =========================================  ======================
name                   what                                       default
=====================  =========================================  ======================
``header_bytes``       JSON header of a network file              16 MiB
``array_bytes``        one array of a network file, decompressed  4 GiB
``file_bytes``         all arrays of a network file together      8 GiB
``layers``             layers of a network                        10,000
``neurons``            neurons of a network (and input size)      100,000,000
``steps``              steps of one simulation window             10,000,000
``events``             input events of one ``transfer`` point     100,000,000
``memory_bytes``       estimated working set of a run             half the physical memory
``run_seconds``        estimated duration of a run                86,400 (one day)
=====================  =========================================  ======================

Override one with the environment variable ``LIF_BRIDGE_LIMIT_<NAME>`` (upper case, e.g.
``LIF_BRIDGE_LIMIT_ARRAY_BYTES=2e10``), or in Python with ``with lif_bridge.limits.override(
array_bytes=2e10): ...``; :func:`current` gives the limits in force.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any

from lif_bridge.errors import ValidationError

__all__ = [
    "ENV_PREFIX",
    "Limits",
    "RunEstimate",
    "check_count",
    "check_network_size",
    "check_run",
    "check_runs",
    "check_shape",
    "current",
    "estimate_run",
    "format_bytes",
    "override",
]

ENV_PREFIX = "LIF_BRIDGE_LIMIT_"

#: Rough cost model of a run (reference backend on one core): per neuron-step and per
#: synapse-step [s]. Used only for the order of magnitude in estimates and refusals.
NEURON_STEP_SECONDS = 2e-8
SYNAPSE_STEP_SECONDS = 2e-10


def _physical_memory() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The limits in force (see the module docstring for each field's meaning and default)."""

    header_bytes: int = 16 * 2**20
    array_bytes: int = 4 * 2**30
    file_bytes: int = 8 * 2**30
    layers: int = 10_000
    neurons: int = 100_000_000
    steps: int = 10_000_000
    events: int = 100_000_000
    memory_bytes: int = 0  # 0: half the physical memory
    run_seconds: float = 86_400.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or not value >= 0 or not math.isfinite(value):
                raise ValidationError(
                    f"limit {f.name} must be a finite number >= 0, got {value!r} (set it with "
                    f"{ENV_PREFIX}{f.name.upper()})"
                )
        if self.memory_bytes == 0:
            object.__setattr__(self, "memory_bytes", _physical_memory() // 2)


_OVERRIDES: dict[str, Any] = {}


def current() -> Limits:
    """The limits in force: defaults, then ``LIF_BRIDGE_LIMIT_*`` variables, then
    :func:`override` blocks.

    Raises
    ------
    ValidationError
        If an environment variable is not a number.
    """
    values: dict[str, Any] = {}
    for f in fields(Limits):
        env = ENV_PREFIX + f.name.upper()
        raw = os.environ.get(env)
        if raw is None:
            continue
        try:
            number = float(raw)
        except ValueError:
            raise ValidationError(f"${env} must be a number, got {raw!r}") from None
        values[f.name] = number if f.name == "run_seconds" else _as_int(number, env)
    values.update(_OVERRIDES)
    return Limits(**values)


def _as_int(number: float, env: str) -> int:
    if not math.isfinite(number) or number < 0:
        raise ValidationError(f"${env} must be a finite number >= 0, got {number!r}")
    return int(number)


@contextlib.contextmanager
def override(**limits: float) -> Iterator[Limits]:
    """Raise (or lower) limits inside a ``with`` block, e.g. ``override(neurons=10**9)``."""
    unknown = set(limits) - {f.name for f in fields(Limits)}
    if unknown:
        raise ValidationError(
            f"unknown limit(s) {', '.join(sorted(unknown))}; known: "
            f"{', '.join(f.name for f in fields(Limits))}"
        )
    saved = dict(_OVERRIDES)
    _OVERRIDES.update(limits)
    try:
        yield replace(current())
    finally:
        _OVERRIDES.clear()
        _OVERRIDES.update(saved)


def format_bytes(n: float) -> str:
    """``n`` bytes for people (``"3.2 GiB"``)."""
    for unit, size in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 2**10:.3g} KiB" if n >= 2**10 else f"{int(n)} B"


def _format_seconds(s: float) -> str:
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            return f"{s / size:.3g} {unit}"
    return f"{s:.3g} s"


def _hint(name: str) -> str:
    return f"raise it with {ENV_PREFIX}{name.upper()} if this is intended"


def check_count(value: int, name: str, *, what: str, limits: Limits | None = None) -> None:
    """Refuse ``value`` above limit ``name``; ``what`` says whose size it is."""
    lim = limits or current()
    bound = getattr(lim, name)
    if value > bound:
        raise ValidationError(
            f"{what}: {value:,} exceeds the limit {name} = {bound:,}; {_hint(name)}"
        )


def check_shape(shape: Any, *, what: str, limits: Limits | None = None) -> None:
    """Refuse a declared shape whose size exceeds the ``neurons`` limit (Python ints, no
    overflow); a shape that is not a list of ints is left to the description's validation."""
    try:
        dims = [int(d) for d in shape]
    except (TypeError, ValueError, OverflowError):
        return
    check_count(
        math.prod(max(d, 0) for d in dims), "neurons", what=f"{what} {tuple(dims)}", limits=limits
    )


def check_network_size(network: Any, *, where: str, limits: Limits | None = None) -> None:
    """Refuse a network whose layers, input or neurons exceed the limits.

    Sizes are computed with Python integers (no overflow), from the shapes alone.

    Parameters
    ----------
    network
        A :class:`lif_bridge.Network` (anything with ``input_shape``, ``layers`` and
        ``populations`` having ``shape``).
    where
        The file or object named in the error.
    """
    lim = limits or current()
    check_count(len(network.layers), "layers", what=f"{where}: number of layers", limits=lim)
    n_in = math.prod(int(d) for d in network.input_shape)
    check_count(
        n_in, "neurons", what=f"{where}: input size {tuple(network.input_shape)}", limits=lim
    )
    total = sum(math.prod(int(d) for d in pop.shape) for pop in network.populations)
    check_count(total, "neurons", what=f"{where}: number of neurons", limits=lim)


@dataclass(frozen=True)
class RunEstimate:
    """What a run will cost, roughly: working set [bytes] and duration [s]."""

    memory_bytes: float
    seconds: float

    def __str__(self) -> str:
        return (
            f"≈ {format_bytes(self.memory_bytes)} of memory and ≈ {_format_seconds(self.seconds)}"
        )


def estimate_run(
    network: Any, steps: int, samples: int, *, traces: int = 0, batch: int = 1
) -> RunEstimate:
    """Order-of-magnitude cost of simulating ``samples`` samples for ``steps`` steps.

    Memory: the encoded input of one batch (``batch · steps · n_in`` bytes), the counts
    (``samples · neurons · 8``) and the traces asked for (``samples · steps · traced · 8``).
    Time: ``samples · steps · (neurons · c_n + synapses · c_s)`` with the constants
    :data:`NEURON_STEP_SECONDS` and :data:`SYNAPSE_STEP_SECONDS`.
    """
    n_in = math.prod(int(d) for d in network.input_shape)
    neurons = sum(math.prod(int(d) for d in pop.shape) for pop in network.populations)
    synapses = sum(_synapses_bound(pop) for pop in network.populations)
    memory = (
        float(batch) * steps * n_in
        + float(samples) * neurons * 8
        + float(samples) * steps * traces * 8
    )
    seconds = (
        float(samples) * steps * (neurons * NEURON_STEP_SECONDS + synapses * SYNAPSE_STEP_SECONDS)
    )
    return RunEstimate(memory_bytes=memory, seconds=seconds)


def _synapses_bound(pop: Any) -> int:
    """Synapses of a population over its projections, from shapes only (convolutions: padding
    taps included; an identity map: one per unit)."""
    total = 0
    for edge in pop.projections:
        weight = getattr(edge.map, "weight", None)
        if weight is None:  # Identity
            total += math.prod(int(d) for d in pop.shape)
            continue
        weight_shape = tuple(int(d) for d in weight.shape)
        if len(weight_shape) == 2:  # dense: one synapse per weight
            total += math.prod(weight_shape)
        else:
            total += math.prod(int(d) for d in pop.shape) * math.prod(weight_shape[1:])
    return total


def check_run(
    network: Any,
    steps: int,
    samples: int,
    *,
    traces: int = 0,
    what: str = "steps",
    limits: Limits | None = None,
) -> RunEstimate:
    """Refuse a run above the ``steps``, ``memory_bytes`` or ``run_seconds`` limits.

    Returns
    -------
    RunEstimate
        The estimate, when the run is within the limits.

    Raises
    ------
    ValidationError
        Naming ``what`` (the parameter, e.g. ``"--steps"``), the estimate and the limit.
    """
    return check_runs(network, [steps], samples, traces=traces, what=what, limits=limits)


def check_runs(
    network: Any,
    steps: Sequence[int],
    samples: int,
    *,
    traces: int = 0,
    what: str = "steps",
    limits: Limits | None = None,
) -> RunEstimate:
    """Refuse a series of runs (one window of ``steps[i]`` steps each, over ``samples``
    samples) above the limits: every window against ``steps``, the largest run's working set
    against ``memory_bytes``, and the series' total time against ``run_seconds``.

    Used before a sweep's grid or a diagnosis's windows start, so that a huge value is refused
    with its estimate before anything is allocated.

    Returns
    -------
    RunEstimate
        The largest run's memory and the whole series' time, when within the limits.

    Raises
    ------
    ValidationError
        Naming ``what``, the estimate and the limit.
    """
    lim = limits or current()
    steps = [int(s) for s in steps]
    if not steps:
        return RunEstimate(memory_bytes=0.0, seconds=0.0)
    each = [estimate_run(network, s, samples, traces=traces) for s in steps]
    est = RunEstimate(
        memory_bytes=max(e.memory_bytes for e in each), seconds=sum(e.seconds for e in each)
    )
    shown = f"{steps[0]:,}" if len(steps) == 1 else ", ".join(f"{s:,}" for s in steps)
    runs = "" if len(steps) == 1 else f" ({len(steps)} runs)"
    head = f"{what} = {shown} for {samples:,} samples{runs} would need {est}"
    if max(steps) > lim.steps:
        raise ValidationError(f"{head}; the limit steps = {lim.steps:,}; {_hint('steps')}")
    if est.memory_bytes > lim.memory_bytes:
        raise ValidationError(
            f"{head}; the limit memory_bytes = {format_bytes(lim.memory_bytes)}; use fewer "
            f"steps or samples, or {_hint('memory_bytes')}"
        )
    if est.seconds > lim.run_seconds:
        raise ValidationError(
            f"{head}; the limit run_seconds = {lim.run_seconds:,.0f}; use fewer steps or "
            f"samples, or {_hint('run_seconds')}"
        )
    return est
