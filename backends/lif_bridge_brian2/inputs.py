r"""The input encoder as a Brian2 group driven by a ``TimedArray`` (changeable via run_args).

Samples are laid out one after the other in one long run: sample ``k`` of a run occupies steps
``k·W .. (k+1)·W - 1`` (``W`` = steps per window), and step ``n`` of its window is
``t_in_timesteps % W``. Three routes, all giving exactly the values ``e[n]`` of
:meth:`lif_bridge.network.Simulation.encode`:

``"rate"`` (``RegularRate``)
    ``p_in(t, i)`` holds ``p = clip(x·max_rate·dt, 0, 1)`` per sample (a ``(B, n)`` table whose
    rows last one window); the group spikes when
    ``floor((n+1)·p) - floor(n·p) > 0.5``, the contract's closed form, evaluated in float64
    like NumPy does. Small: ``B·n`` numbers whatever the window length.
``"trains"`` (``Poisson``; optional for ``RegularRate``)
    ``e_in(t, i)`` holds the 0/1 trains themselves, ``(B·W, n)``; the group spikes when
    ``e_in(t, i) > 0.5``. The reference's seeded trains, bit for bit.
``"current"`` (``ConstantCurrent``)
    No spikes: the group exposes ``p = p_in(t, i)`` and the first layer's synapses carry
    ``a_ext_post = p_pre·w·inv_C_m_post (summed)``, added each step like a spike's jump.
``"poisson_group"`` (opt-in for ``Poisson``)
    A :class:`brian2.PoissonGroup` with rate ``p_in(t, i)/dt``: Bernoulli trains drawn by Brian2's
    own generator, statistically the same coding but **not** the reference's trains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError
from lif_bridge.network import ConstantCurrent, Network, Poisson, RegularRate, Simulation
from lif_bridge.network.encoders import spike_probability
from lif_bridge_brian2.maxpool import COUNTER

__all__ = ["InputRoute", "input_mode", "input_values", "make_input"]


@dataclass
class InputRoute:
    """The input group, its table and how to fill it."""

    mode: str
    group: b2.Group
    table: b2.TimedArray
    event: str = "spike"


def input_mode(simulation: Simulation, trains: bool = False, poisson_group: bool = False) -> str:
    """The route for the simulation's encoder (see module docs)."""
    enc = simulation.encoder
    if isinstance(enc, ConstantCurrent):
        return "current"
    if isinstance(enc, Poisson):
        return "poisson_group" if poisson_group else "trains"
    if isinstance(enc, RegularRate):
        return "trains" if trains else "rate"
    raise BackendError(f"brian2 backend: unsupported encoder {type(enc).__name__}")


def input_values(
    mode: str, network: Network, simulation: Simulation, x: np.ndarray, start_index: int
) -> np.ndarray:
    """The table values of a batch ``x`` (already padded to the run's ``B`` samples)."""
    if mode == "trains":
        e = simulation.encode(network, x, start_index)  # (B, W, n) uint8
        return e.reshape(-1, e.shape[2]).astype(np.float64)
    flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
    return spike_probability(flat, simulation.input_rate(network), simulation.dt)


def make_input(
    mode: str,
    n_in: int,
    samples: int,
    simulation: Simulation,
    *,
    counter: bool,
    clock: b2.Clock,
    namespace: dict[str, Any],
    values: np.ndarray | None,
) -> InputRoute:
    """Create the input group for ``samples`` windows; ``values`` fills its table (or zeros)."""
    dt = simulation.dt
    w = simulation.steps
    if mode == "trains":
        shape: tuple[int, int] = (samples * w, n_in)
        table_dt = dt
    else:
        shape, table_dt = (samples, n_in), w * dt
    data = np.zeros(shape) if values is None else values
    if data.shape != shape:
        raise BackendError(f"brian2 backend: input table has shape {data.shape}, need {shape}")
    name = "e_in" if mode == "trains" else "p_in"
    table = b2.TimedArray(data, dt=table_dt * b2.second, name=name)
    namespace[name] = table
    extra = COUNTER if counter else ""
    if mode == "poisson_group":
        if counter:
            raise BackendError(
                "brian2 backend: a MaxPool2d directly on the input needs a NeuronGroup input; "
                "PoissonGroup input (poisson_group=True) cannot count spikes, use the exact trains"
            )
        group: b2.Group = b2.PoissonGroup(
            n_in, rates="p_in(t, i)/dt", clock=clock, name="input", namespace=namespace
        )
        return InputRoute(mode, group, table)
    if mode == "current":
        group = b2.NeuronGroup(
            n_in, "p = p_in(t, i) : 1\n" + extra, clock=clock, name="input", namespace=namespace
        )
        return InputRoute(mode, group, table, event="")
    if mode == "trains":
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
    return InputRoute(mode, group, table)
