"""The reference simulator: the step rule of :mod:`lif_bridge.semantics`, batched in NumPy."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lif_bridge.backend import Result
from lif_bridge.errors import ValidationError
from lif_bridge.network import MaxPool2d, Network, Population, Simulation, check_inputs
from lif_bridge.progress import progress_bar
from lif_bridge.semantics import leak_constants, refractory_steps
from lif_bridge_reference.ops import MaxPoolGate, SynapticOp

__all__ = ["ReferenceProgram", "batch_size_for"]

_NEVER = -(2**40)


@dataclass
class _PopState:
    """Constants and operators of one population (state lives in the step loop)."""

    pop: Population
    d: np.ndarray
    v_inf: np.ndarray
    if_step: np.ndarray  # I_bias·dt/C_m where g_l == 0
    leaky: np.ndarray
    v_th: np.ndarray
    v_reset: np.ndarray
    v_rest: np.ndarray
    subtract: bool
    refractory: int
    gates: list[MaxPoolGate]
    op: SynapticOp

    def __post_init__(self) -> None:
        self.all_leaky = bool(self.leaky.all())
        self.none_leaky = not self.leaky.any()

    def update(self, v: np.ndarray) -> np.ndarray:
        """Phase A on all neurons, in place (refractory ones are restored by the caller).

        ``v_inf + (v - v_inf)·d`` is evaluated as ``((v - v_inf)·d) + v_inf``: the same IEEE
        operations in the same order, so the result is bit-identical.
        """
        if self.all_leaky:
            v -= self.v_inf
            v *= self.d
            v += self.v_inf
            return v
        if self.none_leaky:
            v += self.if_step
            return v
        v[...] = np.where(self.leaky, self.v_inf + (v - self.v_inf) * self.d, v + self.if_step)
        return v


#: Target size of one population-state array per batch: small enough to stay in cache, which
#: matters more than BLAS efficiency for large (convolutional) populations.
CACHE_BYTES = 8 * 2**20


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
        per_sample += 8 * 8 * pop.size + 8 * int(np.prod(pop.source_shape))
        layer = pop.layer
        if hasattr(layer, "stride"):  # im2col buffer of a convolution
            per_sample += 8 * pop.size * int(np.prod(np.shape(layer.weight)[1:]))
    for name in simulation.readout.traces:
        per_sample += 8 * simulation.steps * network.population(name).size
    by_memory = memory_bytes // max(per_sample, 1)
    by_cache = max(16, CACHE_BYTES // (8 * max(neurons, 1)))
    return int(max(1, min(256, by_memory, by_cache)))


class ReferenceProgram:
    """A network prepared for the reference simulator; runs any number of samples."""

    def __init__(
        self, network: Network, simulation: Simulation, *, batch_size: int | None, memory_bytes: int
    ) -> None:
        self.network = network
        self.simulation = simulation
        self.count_layers = simulation.readout.count_layers(network)
        self.trace_layers = simulation.readout.traces
        self.batch_size = batch_size or batch_size_for(network, simulation, memory_bytes)
        dt = simulation.dt
        if not simulation.encoder.is_spiking:
            first = network.populations[0]
            if any(isinstance(s, MaxPool2d) for s in first.stages):
                raise ValidationError(
                    f"MaxPool2d before {first.name!r}: spiking max pooling needs spikes, but "
                    "the ConstantCurrent encoder gives analog input; use a spiking encoder"
                )
        self.states: list[_PopState] = []
        for pop in network.populations:
            p = pop.layer.neurons.broadcast(pop.size)
            d, v_inf = leak_constants(p["c_m"], p["g_l"], p["i_bias"], p["v_rest"], dt)
            gates, shape = [], pop.source_shape
            for gate in pop.gates:
                gates.append(MaxPoolGate(gate, shape))
                shape = gate.output_shape(shape)
            self.states.append(
                _PopState(
                    pop=pop,
                    d=d,
                    v_inf=v_inf,
                    if_step=p["i_bias"] * dt / p["c_m"],
                    leaky=p["g_l"] > 0,
                    v_th=p["v_th"],
                    v_reset=p["v_reset"],
                    v_rest=p["v_rest"],
                    subtract=pop.layer.neurons.reset == "subtract",
                    refractory=refractory_steps(pop.layer.neurons.refractory, dt),
                    gates=gates,
                    op=SynapticOp(pop, p["c_m"], shape),
                )
            )

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
            info={"batch_size": self.batch_size},
        )

    def close(self) -> None:
        """Nothing to release (idempotent)."""

    def _run_batch(
        self, x: np.ndarray, start: int
    ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        sim = self.simulation
        b = len(x)
        e = sim.encode(self.network, x, start)
        binary_in = sim.encoder.is_spiking
        v = [np.broadcast_to(st.v_rest, (b, st.pop.size)).copy() for st in self.states]
        last = [
            np.full((b, st.pop.size), _NEVER, dtype=np.int64) if st.refractory else None
            for st in self.states
        ]
        counts = [np.zeros((b, st.pop.size), dtype=np.int64) for st in self.states]
        traces = {
            name: np.empty((b, sim.steps, self.network.population(name).size))
            for name in self.trace_layers
        }
        trace_idx = {
            name: i for i, st in enumerate(self.states) for name in [st.pop.name] if name in traces
        }
        for st in self.states:
            for gate in st.gates:
                gate.reset(b)
        const_input: np.ndarray | None = None
        flat_counts = [c.reshape(-1) for c in counts]
        for n in range(sim.steps):
            # A. state update, B. threshold -> flat indices of this step's spikes
            spikes = []
            for i, st in enumerate(self.states):
                if last[i] is not None:
                    frozen = (n - last[i]) < st.refractory
                    v[i] = np.where(frozen, v[i], st.update(v[i].copy()))
                    s = (v[i] >= st.v_th) & ~frozen
                    last[i][s] = n
                else:
                    s = st.update(v[i]) >= st.v_th
                spikes.append(np.flatnonzero(s))
            # C. synapses: spikes of this step, every population at once
            for i, st in enumerate(self.states):
                if st.pop.source < 0 and not binary_in:
                    if const_input is None:  # ConstantCurrent: the same input every step
                        const_input = st.op.values(e[:, n, :])
                    jump = const_input
                else:
                    flat = spikes[st.pop.source] if st.pop.source >= 0 else np.flatnonzero(e[:, n])
                    for gate in st.gates:
                        flat = gate(flat, b)
                    jump = st.op.spikes(flat, b)
                if last[i] is not None:
                    jump = np.where((n - last[i]) < st.refractory, 0.0, jump)
                v[i] += jump
            # D. reset (only the neurons that spiked)
            for i, st in enumerate(self.states):
                flat = spikes[i]
                if flat.size:
                    unit = flat % st.pop.size
                    vf = v[i].reshape(-1)
                    if st.subtract:
                        vf[flat] -= st.v_th[unit]
                    else:
                        vf[flat] = st.v_reset[unit]
                    flat_counts[i][flat] += 1
            for name, i in trace_idx.items():
                traces[name][:, n, :] = v[i]
        by_name = {st.pop.name: counts[i] for i, st in enumerate(self.states)}
        return {k: by_name[k] for k in self.count_layers}, traces
