"""The reference simulator: the step rule of :mod:`lif_bridge.semantics`, batched.

It runs the plan of :func:`lif_bridge.plan.lower` population by population over a block of
steps: a population's input in step ``n`` is its sources' spikes of step ``n`` (each weighted
layer adds one step of latency), so once its sources have run the whole block, the population
runs the whole block too. Two paths, with identical counts (those of the step function
:func:`lif_bridge.step.step`):

* compiled (the default, :mod:`.compiled`): one numba kernel per population and block fuses
  every projection's event-driven synaptic input with phases A-D, sample by sample in threads;
* NumPy (``compiled=False`` or ``$LIF_BRIDGE_REFERENCE_COMPILED=0``, :class:`_PopRun`): all the
  block's input jumps are one product per projection (``(steps·batch, n_in) @ (n_in, n_out)``)
  and the element-wise phases A, B and D loop over the steps — the literal transcription.

Memory is bounded by the batch size and the steps per block, both chosen from ``memory_bytes``.
"""

from __future__ import annotations

import os
import time

import numpy as np

from lif_bridge.backend import Result
from lif_bridge.network import Network, Simulation, check_inputs
from lif_bridge.plan import NetworkPlan, PopulationPlan, lower
from lif_bridge.progress import progress_bar
from lif_bridge.semantics import never_spiked
from lif_bridge_reference.compiled import CompiledPopulation, CompiledRun
from lif_bridge_reference.ops import MaxPoolGate, SynapticOp

__all__ = ["COMPILED_ENV", "ReferenceProgram", "batch_size_for", "compiled_default"]

#: Environment variable: ``0`` makes the NumPy step path the default of :class:`ReferenceProgram`.
COMPILED_ENV = "LIF_BRIDGE_REFERENCE_COMPILED"

#: Target size of one population-state array per batch: small enough to stay in cache, which
#: matters more than BLAS efficiency for large (convolutional) populations.
CACHE_BYTES = 8 * 2**20

#: Budget [bytes] of the per-block arrays of one population (input jumps, im2col buffers).
BLOCK_BYTES = 64 * 2**20


def _per_step_bytes(network: Network) -> tuple[int, int]:
    """Bytes per sample and step: all populations' spikes, and the largest population's work."""
    spikes, work = 0, 0
    for pop in network.populations:
        spikes += pop.size
        w = 8 * 2 * pop.size
        for e in pop.projections:
            w += 8 * int(np.prod(e.gated_shape))
            if hasattr(e.map, "stride"):  # im2col buffer of a convolution
                w += 8 * pop.size * int(np.prod(np.shape(e.map.weight)[1:]))  # type: ignore[union-attr]
        work = max(work, w)
    return spikes, work


def batch_size_for(network: Network, simulation: Simulation, memory_bytes: int) -> int:
    """Samples per batch: bounded by ``memory_bytes``, by cache locality, and by 256.

    The working set per sample counts the encoded input (``steps × inputs``, 1 byte per spike or
    8 per analog value), several float64 state arrays per neuron, im2col buffers of
    convolutions and the recorded traces.
    """
    per_sample = simulation.steps * network.n_inputs * (1 if simulation.encoder.is_spiking else 8)
    neurons = 0
    for pop in network.populations:
        neurons += pop.size
        per_sample += 8 * 8 * pop.size
        for e in pop.projections:
            per_sample += 8 * int(np.prod(e.source_shape))
            if hasattr(e.map, "stride"):  # im2col buffer of a convolution
                per_sample += 8 * pop.size * int(np.prod(np.shape(e.map.weight)[1:]))  # type: ignore[union-attr]
    for name in simulation.readout.traces:
        per_sample += 8 * simulation.steps * network.population(name).size
    by_memory = memory_bytes // max(per_sample, 1)
    by_cache = max(16, CACHE_BYTES // (8 * max(neurons, 1)))
    return int(max(1, min(256, by_memory, by_cache)))


def block_steps(
    network: Network, steps: int, batch: int, memory_bytes: int, *, compiled: bool = False
) -> int:
    """Steps simulated per block: the block's spikes and one population's work fit the budget.

    The NumPy path's work per step is float64 jumps and im2col buffers; the compiled kernels'
    is only the 1-byte trains a population receives (gated and side by side), their jumps live
    in a per-thread tile of steps (:data:`lif_bridge_reference.fused.TILE_FLOATS`).
    """
    spikes, work = _per_step_bytes(network)
    if compiled:
        work = 2 * max(sum(int(np.prod(e.gated_shape)) for e in p.projections)
                       for p in network.populations)  # fmt: skip
    budget = min(BLOCK_BYTES, max(memory_bytes // 4, 1))
    return int(max(1, min(steps, budget // max(batch * (spikes + work), 1))))


def compiled_default() -> bool:
    """Whether the compiled kernels run by default: unless ``$LIF_BRIDGE_REFERENCE_COMPILED=0``."""
    return os.environ.get(COMPILED_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


class ReferenceProgram:
    """A network prepared for the reference simulator; runs any number of samples.

    Parameters
    ----------
    network, simulation
        What to run.
    batch_size
        Samples per batch (``None``: :func:`batch_size_for` ``memory_bytes``).
    memory_bytes
        Working-set budget; also bounds the steps per block (:func:`block_steps`).
    compiled
        Run each population's block in the compiled kernels of :mod:`.fused` (the default,
        unless :data:`COMPILED_ENV` is ``0``), or in NumPy, step by step (``False``: the literal
        transcription of the step rule). Both give identical counts.
    """

    def __init__(
        self,
        network: Network,
        simulation: Simulation,
        *,
        batch_size: int | None,
        memory_bytes: int,
        compiled: bool | None = None,
    ) -> None:
        self.network = network
        self.compiled = compiled_default() if compiled is None else bool(compiled)
        self.simulation = simulation
        self.plan: NetworkPlan = lower(network, simulation)
        self.count_layers = self.plan.count_layers
        self.trace_layers = self.plan.trace_layers
        self.batch_size = batch_size or batch_size_for(network, simulation, memory_bytes)
        self.block = block_steps(
            network, simulation.steps, self.batch_size, memory_bytes, compiled=self.compiled
        )
        self.ops = [[SynapticOp(proj) for proj in pop.projections] for pop in self.plan.populations]
        self.prepared = (
            [CompiledPopulation(pop, ops) for pop, ops in zip(self.plan.populations, self.ops,
                                                               strict=True)]
            if self.compiled
            else None
        )  # fmt: skip

    def run(self, x: np.ndarray, *, progress: bool = False, start_index: int = 0) -> Result:
        """Simulate samples ``x`` ``(samples, *input_shape)``; see :class:`lif_bridge.Result`."""
        x = check_inputs(self.network, x)
        t0 = time.perf_counter()
        parts = []
        bar = progress_bar(len(x), "reference", enabled=progress, unit="sample")
        for lo in range(0, len(x), self.batch_size):
            parts.append(self._run_batch(x[lo : lo + self.batch_size], start_index + lo))
            bar.update(len(parts[-1][0][self.network.output.name]))
        bar.close()
        counts = {k: np.concatenate([c[k] for c, _ in parts]) for k in self.count_layers}
        traces = {k: np.concatenate([t[k] for _, t in parts]) for k in self.trace_layers}
        return Result(
            counts=counts,
            traces=traces,
            output=self.network.output.name,
            steps=self.simulation.steps,
            dt=self.simulation.dt,
            backend="reference",
            seconds=time.perf_counter() - t0,
            info={
                "batch_size": self.batch_size,
                "block_steps": self.block,
                "compiled": self.compiled,
            },
        )

    def close(self) -> None:
        """Nothing to release (idempotent)."""

    def _run_batch(
        self, x: np.ndarray, start: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        plan, b = self.plan, len(x)
        e = np.ascontiguousarray(plan.encode(x, start).transpose(1, 0, 2))  # (steps, batch, n_in)
        pops = plan.populations
        runs: list[_PopRun] | list[CompiledRun] = (
            [CompiledRun(p, b) for p in self.prepared]
            if self.prepared is not None
            else [_PopRun(pop, ops, b) for pop, ops in zip(pops, self.ops, strict=True)]
        )
        traces = {
            name: np.empty((b, plan.steps, self.network.population(name).size))
            for name in self.trace_layers
        }
        for t0 in range(0, plan.steps, self.block):
            t1 = min(plan.steps, t0 + self.block)
            block_spikes: list[np.ndarray] = []
            for i, run in enumerate(runs):
                sources = [
                    e[t0:t1] if proj.source < 0 else block_spikes[proj.source]
                    for proj in pops[i].projections
                ]
                v_trace = traces.get(pops[i].name)
                block_spikes.append(run.block(t0, sources, None if v_trace is None else v_trace))
        by_name = {run.pop.name: run.counts for run in runs}
        return {k: by_name[k] for k in self.count_layers}, traces


class _PopRun:
    """The state of one population over a batch, advanced one block of steps at a time."""

    def __init__(self, pop: PopulationPlan, ops: list[SynapticOp], batch: int) -> None:
        self.pop, self.ops, self.b = pop, ops, batch
        self.v = np.broadcast_to(pop.v_rest, (batch, pop.size)).copy()
        self.last = never_spiked((batch, pop.size)) if pop.refractory else None
        self.counts = np.zeros((batch, pop.size), dtype=np.int64)
        self.gates = []
        for proj in pop.projections:
            gates = [MaxPoolGate(g.stage, g.in_shape) for g in proj.gates]
            for gate in gates:
                gate.reset(batch)
            self.gates.append(gates)
        self.history = [np.zeros((p.delay, batch, p.n_in)) for p in pop.projections]
        self.const: list[np.ndarray | None] = [None] * len(pop.projections)

    def _jumps(self, k: int, source: np.ndarray) -> np.ndarray:
        """Input jumps ``(L, batch, n_out)`` of projection ``k`` for its source's block."""
        proj, op, L = self.pop.projections[k], self.ops[k], source.shape[0]
        if proj.analog:  # ConstantCurrent: the same values every step, one product per batch
            if self.const[k] is None:
                self.const[k] = op.values(source[0])
            return np.broadcast_to(self.const[k], (L, self.b, self.pop.size))
        if self.gates[k]:
            z = np.zeros((L, self.b, proj.n_in), dtype=np.uint8)
            for n in range(L):
                flat = np.flatnonzero(source[n])
                for gate in self.gates[k]:
                    flat = gate(flat, self.b)
                z[n].reshape(-1)[flat] = 1
        else:
            z = source
        if proj.delay:
            full = np.concatenate([self.history[k], z.astype(np.float64)], axis=0)
            self.history[k] = full[L:]
            z = full[:L]
        flat = np.flatnonzero(z)
        return op.spikes(flat, L * self.b).reshape(L, self.b, self.pop.size)

    def block(self, t0: int, sources: list[np.ndarray], trace: np.ndarray | None) -> np.ndarray:
        """Run steps ``t0 .. t0 + L - 1``; returns this block's spikes ``(L, batch, size)``."""
        pop = self.pop
        total = self._jumps(0, sources[0])
        for k in range(1, len(sources)):
            total = total + self._jumps(k, sources[k])
        L = total.shape[0]
        out = np.zeros((L, self.b, pop.size), dtype=np.uint8)
        v, last = self.v, self.last
        for n in range(L):
            step = t0 + n
            if last is not None and pop.refractory:  # A (non-refractory), B
                frozen = (step - last) < pop.refractory
                v = np.where(frozen, v, _update(pop, v.copy()))
                s = (v >= pop.v_th) & ~frozen
                last[s] = step  # a neuron spiking now drops this step's input too
                v += np.where((step - last) < pop.refractory, 0.0, total[n])  # C
            else:
                s = _update(pop, v) >= pop.v_th
                v += total[n]  # C
            if pop.subtract:  # D
                v[s] -= np.broadcast_to(pop.v_th, v.shape)[s]
            else:
                v[s] = np.broadcast_to(pop.v_reset, v.shape)[s]
            out[n] = s
            if trace is not None:
                trace[:, step, :] = v
        self.v = v
        self.counts += out.sum(axis=0, dtype=np.int64)
        return out


def _update(pop: PopulationPlan, v: np.ndarray) -> np.ndarray:
    """Phase A on all neurons, in place (refractory ones are restored by the caller).

    ``v_inf + (v - v_inf)·d`` is evaluated as ``((v - v_inf)·d) + v_inf``: the same IEEE
    operations in the same order as :func:`lif_bridge.step.leak_update`.
    """
    if pop.all_leaky:
        v -= pop.v_inf
        v *= pop.d
        v += pop.v_inf
        return v
    if pop.none_leaky:
        v += pop.if_step
        return v
    v[...] = np.where(pop.leaky, pop.v_inf + (v - pop.v_inf) * pop.d, v + pop.if_step)
    return v
