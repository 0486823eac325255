"""The compiled path of the reference simulator: one population over a block of steps per call.

:class:`CompiledPopulation` prepares, once per network, what a population of the plan needs:
each spiking projection in its synapse form (:mod:`.forms`), its max-pool windows and delay, and
the per-neuron constants. :class:`CompiledRun` holds the state of that population over one batch
(potentials, last spikes, gate counts and winners, delay lines) and advances it one block of
steps at a time with :func:`lif_bridge_reference.fused.population_block`, taking its sources'
trains of the block: the same interface as the NumPy path of :mod:`.simulator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import typed, types

from lif_bridge.plan import PopulationPlan
from lif_bridge.semantics import never_spiked
from lif_bridge_reference import fused
from lif_bridge_reference.forms import ConvForm, form_of
from lif_bridge_reference.ops import SynapticOp

__all__ = ["CompiledPopulation", "CompiledRun"]

_I1 = types.int64[::1]
_F1 = types.float64[::1]


def _typed(items: list[np.ndarray], kind: Any) -> Any:
    """A numba typed list of ``items`` (``kind``: the item type, for an empty list)."""
    out = typed.List.empty_list(kind)
    for a in items:
        out.append(a)
    return out


class CompiledPopulation:
    """A population of the plan lowered for the compiled kernels (built once per network)."""

    def __init__(self, pop: PopulationPlan, ops: list[SynapticOp]) -> None:
        self.pop, self.ops = pop, ops
        n = pop.size
        self.consts = tuple(
            np.ascontiguousarray(np.broadcast_to(a, (n,)), dtype=t)
            for a, t in (
                (pop.d, np.float64), (np.nan_to_num(pop.v_inf, nan=0.0), np.float64),
                (pop.if_step, np.float64), (pop.leaky, np.bool_), (pop.v_th, np.float64),
                (pop.v_reset, np.float64),
            )
        )  # fmt: skip
        self.spiking = [k for k, p in enumerate(pop.projections) if not p.analog]
        self.analog = [k for k, p in enumerate(pop.projections) if p.analog]
        self.windows = [
            [np.ascontiguousarray(g.windows, dtype=np.int64) for g in pop.projections[k].gates]
            for k in range(len(pop.projections))
        ]
        kinds, slots = [], []
        dense: list[np.ndarray] = []
        csr: list[tuple[np.ndarray, ...]] = []
        conv: list[ConvForm] = []
        for k in self.spiking:
            kind, arrays = form_of(pop.projections[k], pop.c_m, pop.shape)
            kinds.append(kind)
            buckets: dict[int, list[Any]] = {fused.DENSE: dense, fused.CSR: csr, fused.CONV: conv}
            bucket = buckets[kind]
            slots.append(len(bucket))
            bucket.append(arrays)
        self.kinds = [int(k) for k in kinds]
        self.args = (
            np.array(kinds, dtype=np.int64),
            np.array(slots, dtype=np.int64),
            _typed([a[0] for a in dense], types.float64[:, ::1]),
            _typed([a[0] for a in csr], _I1),
            _typed([a[1] for a in csr], _I1),
            _typed([a[2] for a in csr], _F1),
            *(_typed([getattr(c, f) for c in conv], t) for f, t in (
                ("ptr", _I1), ("idx", _I1), ("val", _F1), ("geom", _I1), ("pix_ptr", _I1),
                ("pix_tap", _I1), ("pix_out", _I1), ("wb", types.float64[:, :, ::1]),
            )),
        )  # fmt: skip


class CompiledRun:
    """The state of one population over a batch, advanced one block of steps at a time."""

    def __init__(self, prepared: CompiledPopulation, batch: int) -> None:
        pop = prepared.pop
        self.prepared, self.pop, self.b = prepared, pop, batch
        self.v = np.array(np.broadcast_to(pop.v_rest, (batch, pop.size)), dtype=np.float64)
        self.last = never_spiked((batch, pop.size))
        self.counts = np.zeros((batch, pop.size), dtype=np.int64)
        self.gates = [
            [
                (np.zeros((batch, g.n_in), np.int64), np.full((batch, g.n_out), -1, np.int64))
                for g in proj.gates
            ]
            for proj in pop.projections
        ]
        self.history = [np.zeros((p.delay, batch, p.n_in), np.uint8) for p in pop.projections]
        self.const: np.ndarray | None = None

    def _arrived(self, k: int, source: np.ndarray) -> np.ndarray:
        """What projection ``k`` delivers in each step of the block: gated, then delayed."""
        z = np.ascontiguousarray(source, dtype=np.uint8)
        for windows, (counts, winner) in zip(self.prepared.windows[k], self.gates[k], strict=True):
            gated = np.empty((z.shape[0], self.b, windows.shape[0]), dtype=np.uint8)
            fused.gate_block(z, windows, counts, winner, gated)
            z = gated
        delay = self.pop.projections[k].delay
        if delay:
            full = np.concatenate([self.history[k], z], axis=0)
            self.history[k] = full[z.shape[0] :]
            z = full[: z.shape[0]]
        return np.ascontiguousarray(z)

    def _constant(self, sources: list[np.ndarray]) -> np.ndarray:
        """Jumps of the ConstantCurrent projections (the same in every step), once per batch."""
        if self.const is None:
            const = np.zeros((0, 0))
            for k in self.prepared.analog:
                jumps = self.prepared.ops[k].values(sources[k][0])
                const = jumps if const.size == 0 else const + jumps
            self.const = np.ascontiguousarray(const, dtype=np.float64)
        return self.const

    def block(self, t0: int, sources: list[np.ndarray], trace: np.ndarray | None) -> np.ndarray:
        """Run steps ``t0 .. t0 + L - 1``; returns this block's spikes ``(L, batch, size)``.

        ``sources[k]`` is projection ``k``'s source train of the block ``(L, batch, n_source)``;
        ``trace``, if given, ``(batch, T, size)``, receives ``v`` after every step.
        """
        prepared, L = self.prepared, sources[0].shape[0]
        zs = _typed(
            [self._arrived(k, sources[k]) for k in prepared.spiking], types.uint8[:, :, ::1]
        )
        out = np.empty((L, self.b, self.pop.size), dtype=np.uint8)
        kernel: Any = fused.population_block
        kernel(
            zs, *prepared.args, self._constant(sources), t0, self.v, self.last, *prepared.consts,
            self.pop.subtract, self.pop.refractory, out, self.counts,
            np.empty((0, 0, 0)) if trace is None else trace,
        )  # fmt: skip
        return out
