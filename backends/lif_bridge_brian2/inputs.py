r"""The input encoder as a Brian2 group driven by a ``TimedArray`` (changeable via run_args).

Samples are laid out one after the other in one long run: sample ``k`` of a run occupies steps
``k·W .. (k+1)·W - 1`` (``W`` = steps per window), and step ``n`` of its window is
``t_in_timesteps % W``. The route is one :class:`InputRoute`; the first three give exactly the
values ``e[n]`` of :meth:`lif_bridge.network.Simulation.encode`:

``RATE`` (``RegularRate``)
    ``p_in(t, i)`` holds ``p = clip(x·max_rate·dt, 0, 1)`` per sample (a ``(B, n)`` table whose
    rows last one window); the group spikes when
    ``floor((n+1)·p) - floor(n·p) > 0.5``, the contract's closed form, evaluated in float64
    like NumPy does. Small: ``B·n`` numbers whatever the window length.
``TRAINS`` (``Poisson``; optional for ``RegularRate``)
    ``e_in(t, i)`` holds the 0/1 trains themselves, ``(B·W, n)``; the group spikes when
    ``e_in(t, i) > 0.5``. The reference's seeded trains, bit for bit.
``CURRENT`` (``ConstantCurrent``)
    No spikes: the group exposes ``p = p_in(t, i)`` and the first layer's synapses carry
    ``a_ext_post = p_pre·w·inv_C_m_post (summed)``, added each step like a spike's jump.
``POISSON_GROUP`` (opt-in for ``Poisson``)
    A :class:`brian2.PoissonGroup` with rate ``p_in(t, i)/dt``: Bernoulli trains drawn by Brian2's
    own generator, statistically the same coding but **not** the reference's trains.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError
from lif_bridge.network import ConstantCurrent, Network, Poisson, RegularRate, Simulation
from lif_bridge.network.encoders import spike_probability
from lif_bridge_brian2.maxpool import COUNTER

__all__ = ["InputGroup", "InputRoute", "input_route", "input_values", "make_input"]


class InputRoute(enum.Enum):
    """How the encoder's values reach the first layer (see the module docs)."""

    RATE = "rate"
    TRAINS = "trains"
    CURRENT = "current"
    POISSON_GROUP = "poisson_group"

    @property
    def table_name(self) -> str:
        """Name of the input ``TimedArray``: ``e_in`` (trains) or ``p_in`` (probabilities)."""
        return "e_in" if self is InputRoute.TRAINS else "p_in"

    def table_shape(self, samples: int, steps: int, n_in: int) -> tuple[int, int]:
        """Rows × inputs of the table of ``samples`` windows: one row per step or per sample."""
        return (samples * steps, n_in) if self is InputRoute.TRAINS else (samples, n_in)

    def table_bytes_per_sample(self, steps: int, n_in: int) -> int:
        """Bytes of float64 table one sample window needs."""
        return 8 * n_in * (steps if self is InputRoute.TRAINS else 1)


@dataclass
class InputGroup:
    """The input group, its table and the event the first layer's synapses listen to."""

    route: InputRoute
    group: b2.Group
    table: b2.TimedArray
    event: str = "spike"


def input_route(
    simulation: Simulation, *, trains: bool = False, poisson_group: bool = False
) -> InputRoute:
    """The route for the simulation's encoder; ``trains``/``poisson_group`` are the opt-ins."""
    enc = simulation.encoder
    if isinstance(enc, ConstantCurrent):
        return InputRoute.CURRENT
    if isinstance(enc, Poisson):
        return InputRoute.POISSON_GROUP if poisson_group else InputRoute.TRAINS
    if isinstance(enc, RegularRate):
        return InputRoute.TRAINS if trains else InputRoute.RATE
    raise BackendError(f"brian2 backend: unsupported encoder {type(enc).__name__}")


def input_values(
    route: InputRoute, network: Network, simulation: Simulation, x: np.ndarray, start_index: int
) -> np.ndarray:
    """The table values of a batch ``x`` (already padded to the run's ``B`` samples)."""
    if route is InputRoute.TRAINS:
        e = simulation.encode(network, x, start_index)  # (B, W, n) uint8
        return e.reshape(-1, e.shape[2]).astype(np.float64)
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return spike_probability(flat, simulation.input_rate(network), simulation.dt)


def make_input(
    route: InputRoute,
    n_in: int,
    samples: int,
    simulation: Simulation,
    *,
    counter: bool,
    clock: b2.Clock,
    namespace: dict[str, Any],
    values: np.ndarray | None,
) -> InputGroup:
    """Create the input group for ``samples`` windows; ``values`` fills its table (or zeros)."""
    dt = simulation.dt
    w = simulation.steps
    shape = route.table_shape(samples, w, n_in)
    table_dt = dt if route is InputRoute.TRAINS else w * dt
    data = np.zeros(shape) if values is None else values
    if data.shape != shape:
        raise BackendError(f"brian2 backend: input table has shape {data.shape}, need {shape}")
    name = route.table_name
    table = b2.TimedArray(data, dt=table_dt * b2.second, name=name)
    namespace[name] = table
    extra = COUNTER if counter else ""
    if route is InputRoute.POISSON_GROUP:
        if counter:
            raise BackendError(
                "brian2 backend: a MaxPool2d directly on the input needs a NeuronGroup input; "
                "PoissonGroup input (poisson_group=True) cannot count spikes, use the exact trains"
            )
        group: b2.Group = b2.PoissonGroup(
            n_in, rates="p_in(t, i)/dt", clock=clock, name="input", namespace=namespace
        )
        return InputGroup(route, group, table)
    if route is InputRoute.CURRENT:
        group = b2.NeuronGroup(
            n_in, "p = p_in(t, i) : 1\n" + extra, clock=clock, name="input", namespace=namespace
        )
        return InputGroup(route, group, table, event="")
    if route is InputRoute.TRAINS:
        cond = "e_in(t, i) > 0.5"
    else:
        n = "(t_in_timesteps % W_steps)"
        cond = f"floor(({n} + 1)*p_in(t, i)) - floor({n}*p_in(t, i)) > 0.5"
    group = b2.NeuronGroup(
        n_in,
        extra or "",
        threshold=cond,
        reset="",
        clock=clock,
        name="input",
        namespace=namespace,
    )
    return InputGroup(route, group, table)
