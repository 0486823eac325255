"""The contract of :mod:`lif_bridge.semantics`, executable once: a pure step function.

``step(plan, state, drive) -> (state, spikes)`` advances every population of a
:class:`~lif_bridge.plan.NetworkPlan` by one step (phases A-D) without mutating its arguments.
Tests call it directly; backends reuse its pieces (:func:`gate_step`, :func:`leak_update`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lif_bridge.plan import GatePlan, NetworkPlan, PopulationPlan, ProjectionPlan
from lif_bridge.semantics import never_spiked

__all__ = ["State", "gate_step", "initial_state", "leak_update", "simulate", "step"]


@dataclass(frozen=True)
class State:
    """The state of a batch, per population (in plan order).

    Attributes
    ----------
    n
        Index of the next step.
    v
        Membrane potentials ``(batch, size)`` [V].
    last
        Step of each neuron's last spike ``(batch, size)`` int64.
    gates
        Per population, per projection, per gate: ``(counts (batch, n_in), winner (batch, n_out))``
        (winner ``-1``: none yet).
    history
        Per population, per projection: the last ``delay`` gate outputs ``(delay, batch, n_in)``,
        oldest first.
    """

    n: int
    v: tuple[np.ndarray, ...]
    last: tuple[np.ndarray, ...]
    gates: tuple[tuple[tuple[tuple[np.ndarray, np.ndarray], ...], ...], ...]
    history: tuple[tuple[np.ndarray, ...], ...]


def initial_state(plan: NetworkPlan, batch: int) -> State:
    """The state at the start of a sample window (``v = v_rest``, counts zero, no winners)."""
    return State(
        n=0,
        v=tuple(np.broadcast_to(p.v_rest, (batch, p.size)).copy() for p in plan.populations),
        last=tuple(never_spiked((batch, p.size)) for p in plan.populations),
        gates=tuple(
            tuple(
                tuple(
                    (np.zeros((batch, g.n_in), np.int64), np.full((batch, g.n_out), -1, np.int64))
                    for g in proj.gates
                )
                for proj in p.projections
            )
            for p in plan.populations
        ),
        history=tuple(
            tuple(np.zeros((proj.delay, batch, proj.n_in)) for proj in p.projections)
            for p in plan.populations
        ),
    )


def leak_update(pop: PopulationPlan, v: np.ndarray) -> np.ndarray:
    """Phase A on every neuron (a new array): the exact leak or the IF step.

    Evaluated as ``((v - v_inf)·d) + v_inf`` where leaky, ``v + if_step`` elsewhere.
    """
    leaky = (v - pop.v_inf) * pop.d + pop.v_inf
    return np.where(pop.leaky, leaky, v + pop.if_step)


def gate_step(
    gate: GatePlan, counts: np.ndarray, winner: np.ndarray, spikes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One step of a spiking max pool: ``(counts, winner, out)`` for this step's 0/1 ``spikes``.

    ``counts += spikes``; per window the incumbent winner stays while its count is the window's
    maximum, else the first unit (row-major) with the maximum wins; ``out[u] = spikes[winner]``.
    """
    counts = counts + spikes.astype(np.int64)
    c = counts[:, gate.windows]  # (batch, n_out, k)
    top = c.max(axis=2)
    rows = np.arange(counts.shape[0])[:, None]
    incumbent = np.where(winner >= 0, counts[rows, np.maximum(winner, 0)], -1)
    first = gate.windows[np.arange(gate.n_out)[None, :], np.argmax(c == top[:, :, None], axis=2)]
    touched = spikes[:, gate.windows].any(axis=2)
    keep = (winner >= 0) & (incumbent == top)
    new = np.where(touched & ~keep, first, winner)
    out = np.where(new >= 0, spikes[rows, np.maximum(new, 0)], 0)
    return counts, new, out.astype(spikes.dtype)


def _deliver(
    proj: ProjectionPlan,
    source: np.ndarray,
    gates: tuple[tuple[np.ndarray, np.ndarray], ...],
    history: np.ndarray,
) -> tuple[np.ndarray, tuple[tuple[np.ndarray, np.ndarray], ...], np.ndarray, np.ndarray]:
    """Gates, then the delay line: ``(jump (batch, n_out), gates, history)``."""
    z = source
    new_gates = []
    for gate, (counts, winner) in zip(proj.gates, gates, strict=True):
        counts, winner, z = gate_step(gate, counts, winner, z)
        new_gates.append((counts, winner))
    z = z.astype(np.float64)
    if proj.delay:
        arrived = history[0]
        history = np.concatenate([history[1:], z[None]], axis=0)
        z = arrived
    jump = np.asarray((proj.matrix @ z.T).T)
    return jump, tuple(new_gates), history, z


def step(
    plan: NetworkPlan, state: State, drive: np.ndarray
) -> tuple[State, tuple[np.ndarray, ...]]:
    """Advance one step; ``drive`` is the encoder's ``e[n]`` ``(batch, n_inputs)``.

    Returns the new state and this step's spikes per population ``(batch, size)`` (bool).
    """
    n = state.n
    v_a, spikes = [], []
    for i, pop in enumerate(plan.populations):  # A. state update, B. threshold
        fr = (n - state.last[i]) < pop.refractory
        va = np.where(fr, state.v[i], leak_update(pop, state.v[i]))
        v_a.append(va)
        spikes.append((va >= pop.v_th) & ~fr)
    v_out, last_out, gates_out, hist_out = [], [], [], []
    for i, pop in enumerate(plan.populations):  # C. synapses (this step's spikes), D. reset
        total = np.zeros_like(v_a[i])
        g_i, h_i = [], []
        for k, proj in enumerate(pop.projections):
            src = drive if proj.source < 0 else spikes[proj.source].astype(np.uint8)
            jump, g, h, _ = _deliver(proj, src, state.gates[i][k], state.history[i][k])
            total = total + jump
            g_i.append(g)
            h_i.append(h)
        s = spikes[i]
        last = np.where(s, n, state.last[i])  # a neuron spiking now drops this step's input
        v = v_a[i] + np.where((n - last) < pop.refractory, 0.0, total)
        v = np.where(s, v - pop.v_th, v) if pop.subtract else np.where(s, pop.v_reset, v)
        v_out.append(v)
        last_out.append(last)
        gates_out.append(tuple(g_i))
        hist_out.append(tuple(h_i))
    new = State(n + 1, tuple(v_out), tuple(last_out), tuple(gates_out), tuple(hist_out))
    return new, tuple(spikes)


def simulate(plan: NetworkPlan, e: np.ndarray) -> dict[str, np.ndarray]:
    """Spike counts ``name -> (batch, size)`` of every population for encoded input ``e``.

    ``e`` is ``(batch, steps, n_inputs)`` (:meth:`NetworkPlan.encode`).
    """
    state = initial_state(plan, e.shape[0])
    counts = [np.zeros((e.shape[0], p.size), np.int64) for p in plan.populations]
    for n in range(e.shape[1]):
        state, spikes = step(plan, state, e[:, n, :])
        for c, s in zip(counts, spikes, strict=True):
            c += s
    return {p.name: c for p, c in zip(plan.populations, counts, strict=True)}
