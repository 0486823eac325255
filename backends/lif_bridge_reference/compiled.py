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

from lif_bridge.plan import PopulationPlan
from lif_bridge.semantics import never_spiked
from lif_bridge_reference import fused
from lif_bridge_reference.forms import ConvForm, form_of
from lif_bridge_reference.ops import SynapticOp

__all__ = ["CompiledPopulation", "CompiledRun"]

#: Below this many neuron-steps per block a kernel runs in the calling thread (no thread wake-up).
SERIAL_BELOW = 200_000


class _Packer:
    """Concatenates synapse arrays into one int64 and one float64 array, returning offsets."""

    def __init__(self) -> None:
        self.ints: list[np.ndarray] = []
        self.floats: list[np.ndarray] = []
        self.n_ints = self.n_floats = 0

    def int_(self, a: np.ndarray) -> int:
        """Append ``a`` (as int64) to the int array; its offset there."""
        self.ints.append(np.asarray(a, dtype=np.int64).ravel())
        self.n_ints += self.ints[-1].size
        return self.n_ints - self.ints[-1].size

    def float_(self, a: np.ndarray) -> int:
        """Append ``a`` (as float64) to the float array; its offset there."""
        self.floats.append(np.asarray(a, dtype=np.float64).ravel())
        self.n_floats += self.floats[-1].size
        return self.n_floats - self.floats[-1].size

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The concatenated ``(ints, floats)`` (never empty, for the kernel's types)."""
        ints = np.concatenate(self.ints) if self.ints else np.zeros(1, np.int64)
        floats = np.concatenate(self.floats) if self.floats else np.zeros(1)
        return ints, floats


def _meta_row(kind: int, z_off: int, n_in: int, arrays: Any, pack: _Packer) -> list[int]:
    """A projection's row of ``meta`` (:func:`lif_bridge_reference.fused.population_block`)."""
    if kind == fused.DENSE:
        rest = [pack.float_(arrays[0])]
    elif kind == fused.CSR:
        rest = [pack.int_(arrays[0]), pack.int_(arrays[1]), pack.float_(arrays[2])]
    else:
        c: ConvForm = arrays
        pooled = c.ptr.size > 0
        rest = [
            pack.int_(c.ptr) if pooled else -1,
            pack.int_(c.idx) if pooled else -1,
            pack.float_(c.val) if pooled else -1,
            *(int(g) for g in c.geom),
            pack.int_(c.pix_ptr),
            pack.int_(c.pix_tap),
            pack.int_(c.pix_out),
            pack.float_(c.wb),
            c.wb.shape[1],
            c.wb.shape[2],
            pack.int_(c.pix_len),
        ]
    row = [kind, z_off, n_in, *rest]
    return row + [0] * (fused.META_COLUMNS - len(row))


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
        pack, rows, z_off = _Packer(), [], 0
        self.kinds: list[int] = []
        for k in self.spiking:
            proj = pop.projections[k]
            kind, arrays = form_of(proj, pop.c_m, pop.shape)
            self.kinds.append(kind)
            rows.append(_meta_row(kind, z_off, proj.n_in, arrays, pack))
            z_off += proj.n_in
        self.meta = np.array(rows, dtype=np.int64).reshape(len(rows), fused.META_COLUMNS)
        self.ints, self.floats = pack.arrays()


class CompiledRun:
    """The state of one population over a batch, advanced one block of steps at a time."""

    def __init__(self, prepared: CompiledPopulation, batch: int) -> None:
        pop = prepared.pop
        self.prepared, self.pop, self.b = prepared, pop, batch
        self.v = np.array(np.broadcast_to(pop.v_rest, (batch, pop.size)), np.float64, order="C")
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
            small = z.shape[0] * z.shape[1] * z.shape[2] < SERIAL_BELOW
            gate: Any = fused.gate_block_serial if small else fused.gate_block
            gate(z, windows, counts, winner, gated)
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
        arrived = [self._arrived(k, sources[k]) for k in prepared.spiking]
        if len(arrived) == 1:
            z = arrived[0]
        elif arrived:
            z = np.concatenate(arrived, axis=2)
        else:
            z = np.zeros((L, self.b, 0), dtype=np.uint8)
        out = np.empty((L, self.b, self.pop.size), dtype=np.uint8)
        serial = L * self.b * self.pop.size < SERIAL_BELOW
        kernel: Any = fused.population_block_serial if serial else fused.population_block
        kernel(
            z, prepared.meta, prepared.ints, prepared.floats, self._constant(sources), t0,
            self.v, self.last, *prepared.consts,
            self.pop.subtract, self.pop.refractory, out, self.counts,
            np.empty((0, 0, 0)) if trace is None else trace,
        )  # fmt: skip
        return out
