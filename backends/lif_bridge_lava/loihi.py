r"""Will a network fit on Loihi 2? A per-layer report (pure NumPy: no Lava needed).

For every population the report gives neurons, synapses (the layer's, as ``convert`` counts
them, and the stored ones of the composed matrix), input axons, fan-in and fan-out, the shared
weight exponent and the error of quantising ``W/C_m`` to an 8-bit mantissa (the formats of
:mod:`lif_bridge_lava.quantize`), values that do not fit their formats (weights, bias,
threshold), and, after an optional calibration run of the integer rules
(:mod:`lif_bridge_lava.fixedsim`), the voltage range against the 24-bit limit and the number of
saturations. It then estimates the cores each layer needs.

Core model and its numbers (:class:`LoihiLimits`; override them if you know better)
------------------------------------------------------------------------------------
* 128 neuro-cores per chip, up to 1 M neurons per chip, so **8,192 neurons per core**, and
  up to 120 M synapses per chip (Intel Labs, "Taking Neuromorphic Computing to the Next Level
  with Loihi 2", technology brief, 2021).
* **128 KiB of synaptic memory per core**, **4,096 input axons** (fan-in sources) and **4,096
  output axons** per core: Loihi 1's figures (Davies et al., "Loihi: a neuromorphic manycore
  processor with on-chip learning", IEEE Micro 38(1), 2018); Intel has not published per-core
  Loihi 2 figures, which are at least these, so the estimate is conservative.
* A dense layer stores 8 bits per synapse; a convolution lowered to a sparse matrix stores 8 bits
  of weight plus a 16-bit index per synapse (no weight sharing assumed).

Cores of a layer = ``max(ceil(neurons / 8192), ceil(synapse bits / (128 KiB · 8)))``; a layer
does not fit when one of its cores receives more than 4,096 distinct inputs (input axons, over
all its projections) or its neurons need more than 4,096 output axons (one per destination core
each neuron reaches, over every projection leaving it): both are counted core by core from the
stored matrices (:mod:`lif_bridge_lava.axons`). The network fits when every layer fits, no
weight, bias or threshold had to be clipped, the calibration saw no saturation, and the total
of cores is at most ``chips · 128``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from lif_bridge.errors import ValidationError
from lif_bridge.network import Network, Simulation
from lif_bridge_lava.quantize import V_MAX

__all__ = ["LayerFit", "LoihiLimits", "LoihiReport", "loihi_report"]


@dataclass(frozen=True)
class LoihiLimits:
    """Loihi 2 resources used by the estimate (sources in the module docstring)."""

    cores_per_chip: int = 128
    neurons_per_core: int = 8192
    synapse_memory_bits_per_core: int = 128 * 1024 * 8
    input_axons_per_core: int = 4096
    output_axons_per_core: int = 4096
    dense_bits_per_synapse: int = 8
    sparse_bits_per_synapse: int = 24
    chips: int = 1


@dataclass
class LayerFit:
    """The fit of one population (see :func:`loihi_report`); voltages in volts and LSB.

    ``synapses`` counts the weighted layer's own connections on its input (zero-padding taps
    excluded; what ``lif-bridge convert`` and ``Network.summary`` report); ``stored_synapses``
    the nonzero entries of the composed matrix that is stored (Lava's Dense/Sparse, Loihi's
    synaptic memory): larger when an average pool before the layer is folded into it (each
    tap then reaches every unit of its pooling window). ``input_axons`` is the number of
    distinct source units with at least one synapse; ``core_input_axons`` and
    ``core_output_axons`` the largest numbers that one of the layer's cores needs.
    ``projections`` has one row per incoming projection: its source, synapses, stored
    synapses, input axons, delay, its weight exponent ``weight_exp`` (``e_k``; the layer's
    ``weight_exp`` is the finest, that of its voltage unit) and the relative error of its block
    (``weight_rel_error``).
    """

    name: str
    kind: str
    neurons: int
    synapses: int
    stored_synapses: int
    input_axons: int
    fan_in: int
    fan_out: int
    weight_exp: int
    voltage_unit: float
    weight_rel_error: float
    weight_max_error: float
    weights_clipped: int
    bias_clipped: int
    vth_clipped: int
    decay_rel_error: float
    cores: int
    core_input_axons: int = 0
    core_output_axons: int = 0
    v_min: int | None = None
    v_max: int | None = None
    v_range_fraction: float | None = None
    saturated_high: int | None = None
    saturated_low: int | None = None
    input_max: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    projections: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        """Whether nothing in this layer exceeds a Loihi limit."""
        return not self.problems


@dataclass
class LoihiReport:
    """Per-layer fit of a network on Loihi 2 and the verdict."""

    layers: list[LayerFit]
    limits: LoihiLimits
    calibration_samples: int = 0
    calibration_steps: int = 0

    @property
    def total_cores(self) -> int:
        """Cores needed by all layers together."""
        return sum(layer.cores for layer in self.layers)

    @property
    def chips_needed(self) -> int:
        """Chips of ``cores_per_chip`` cores needed."""
        return max(1, math.ceil(self.total_cores / self.limits.cores_per_chip))

    @property
    def problems(self) -> list[str]:
        """Everything that prevents a fit, layer by layer, and the core budget."""
        out = [f"{layer.name}: {p}" for layer in self.layers for p in layer.problems]
        budget = self.limits.cores_per_chip * self.limits.chips
        if self.total_cores > budget:
            out.append(
                f"needs {self.total_cores} cores, more than {budget} on {self.limits.chips} chip(s)"
            )
        return out

    @property
    def fits(self) -> bool:
        """Whether the network fits (no problem listed)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: layers, limits, totals and the verdict."""
        return {
            "fits": self.fits,
            "total_cores": self.total_cores,
            "chips_needed": self.chips_needed,
            "problems": self.problems,
            "calibration": {
                "samples": self.calibration_samples,
                "steps": self.calibration_steps,
            },
            "limits": asdict(self.limits),
            "layers": [dict(asdict(layer), fits=layer.fits) for layer in self.layers],
        }

    def to_text(self) -> str:
        """A table per layer and the verdict."""
        head = (
            f"{'layer':<12} {'kind':<7} {'neurons':>8} {'synapses':>11} {'stored':>11} "
            f"{'axons':>7} {'in/core':>7} {'out/core':>8} {'fan-in':>7} "
            f"{'fan-out':>7} {'w_exp':>5} {'w_err%':>7} {'v+used%':>8} {'sat+/-':>11} {'cores':>5}"
        )
        rows = [head, "-" * len(head)]
        for ly in self.layers:
            used = "-" if ly.v_range_fraction is None else f"{100 * ly.v_range_fraction:.3g}"
            sat = "-" if ly.saturated_high is None else f"{ly.saturated_high}/{ly.saturated_low}"
            rows.append(
                f"{ly.name:<12} {ly.kind:<7} {ly.neurons:>8,} {ly.synapses:>11,} "
                f"{ly.stored_synapses:>11,} {ly.input_axons:>7,} {ly.core_input_axons:>7,} "
                f"{ly.core_output_axons:>8,} {ly.fan_in:>7,} "
                f"{ly.fan_out:>7,} {ly.weight_exp:>5} {100 * ly.weight_rel_error:>7.3f} "
                f"{used:>8} {sat:>11} {ly.cores:>5}"
            )
            if len(ly.projections) > 1:
                for p in ly.projections:
                    delay = f", delay {p['delay']}" if p["delay"] else ""
                    rows.append(
                        f"  <- {p['source']:<9} {'':<7} {'':>8} {p['synapses']:>11,} "
                        f"{p['stored_synapses']:>11,} {p['input_axons']:>7,}{delay}, w_exp "
                        f"{p['weight_exp']}, weight error {100 * p['weight_rel_error']:.3f} %"
                    )
        rows.append("")
        if self.calibration_samples:
            rows.append(
                f"calibration: {self.calibration_samples} samples × {self.calibration_steps} "
                "steps of the fixed-point rules"
            )
        else:
            rows.append("calibration: none (voltage range and saturation not checked)")
        rows.append(
            f"cores: {self.total_cores} of {self.limits.cores_per_chip} per chip "
            f"({self.chips_needed} chip(s) needed)"
        )
        rows.extend(f"note: {ly.name}: {n}" for ly in self.layers for n in ly.notes)
        rows.extend(f"problem: {p}" for p in self.problems)
        rows.append(f"fits on Loihi 2: {'yes' if self.fits else 'no'}")
        return "\n".join(rows)


def _projection_row(edge: Any, mant: sp.csr_matrix, weight_exp: int) -> dict[str, Any]:
    """Synapses, input axons and quantisation error of one projection (``LoweredEdge``).

    ``mant`` is the projection's block of the population's mantissas, ``weight_exp`` its
    exponent ``e_k``: the error is ``||J - m·2**e_k||_2 / ||J||_2`` over this block alone.
    """
    m = edge.jumps
    norm = float(sp.linalg.norm(m)) if m.nnz else 0.0
    err = float(sp.linalg.norm(m - mant * 2.0**weight_exp)) if m.nnz else 0.0
    return {
        "source": edge.source_name,
        "synapses": int(edge.synapses),
        "stored_synapses": int(m.nnz),
        "input_axons": int(np.count_nonzero(m.getnnz(axis=0))) if m.nnz else 0,
        "delay": int(edge.delay),
        "weight_exp": int(weight_exp),
        "weight_rel_error": err / norm if norm > 0 else 0.0,
    }


def loihi_report(
    network: Network,
    calibration_inputs: np.ndarray | None = None,
    simulation: Simulation | None = None,
    limits: LoihiLimits | None = None,
) -> LoihiReport:
    """Estimate whether ``network`` fits Loihi 2 under the fixed-point formats.

    Parameters
    ----------
    network
        The network description.
    calibration_inputs
        Samples ``(n, *input_shape)`` in [0, 1] run through the integer rules to measure the
        voltage range and saturation; ``None`` skips the run.
    simulation
        Time step (for the decay and bias constants) and window of the calibration run;
        default ``Simulation(steps=100, dt=0.01)``. Needs a spiking encoder to calibrate.
    limits
        The resources assumed (default :class:`LoihiLimits`).
    """
    from lif_bridge_lava.axons import input_axons_per_core, output_axons_per_core
    from lif_bridge_lava.fixedsim import simulate_fixed
    from lif_bridge_lava.lowering import lowered_edges, quantize_edges, split_columns

    limits = limits or LoihiLimits()
    sim = simulation or Simulation(steps=100, dt=0.01)
    edges = lowered_edges(network)
    quantised = []
    layers: list[LayerFit] = []
    for pop, es in zip(network.populations, edges, strict=True):
        params = pop.neurons.broadcast(pop.size)
        q = quantize_edges(es, params, sim.dt)
        quantised.append(q)
        matrix = sp.csr_matrix(sp.hstack([e.jumps for e in es])) if len(es) > 1 else es[0].jumps
        nz = q.weight_mant if q.weight_mant.nnz else matrix
        csr = nz.tocsr()
        fan_in = int(np.diff(csr.indptr).max()) if csr.shape[0] else 0
        fan_out = int(np.diff(csr.tocsc().indptr).max()) if csr.shape[1] else 0
        synapses = sum(e.synapses for e in es)
        stored = int(matrix.nnz)
        conv = not all(e.dense for e in es)
        bits = stored * (limits.sparse_bits_per_synapse if conv else limits.dense_bits_per_synapse)
        cores = max(
            1,
            math.ceil(pop.size / limits.neurons_per_core),
            math.ceil(bits / limits.synapse_memory_bits_per_core),
        )
        fit = LayerFit(
            name=pop.name,
            kind="+".join(dict.fromkeys(type(pp.map).__name__ for pp in pop.projections)),
            neurons=pop.size,
            synapses=synapses,
            stored_synapses=stored,
            input_axons=int(np.count_nonzero(csr.getnnz(axis=0))) if csr.nnz else 0,
            projections=[
                _projection_row(e, m, k)
                for e, m, k in zip(es, split_columns(q.weight_mant, es), q.block_exps, strict=True)
            ],
            fan_in=fan_in,
            fan_out=fan_out,
            weight_exp=q.weight_exp,
            voltage_unit=q.q_v,
            weight_rel_error=q.weight_rel_error,
            weight_max_error=q.weight_max_error,
            weights_clipped=q.weights_clipped,
            bias_clipped=q.bias_clipped,
            vth_clipped=q.vth_clipped,
            decay_rel_error=q.decay_rel_error,
            cores=cores,
        )
        if stored != synapses:
            fit.notes.append(
                f"{stored:,} stored synapses for the layer's {synapses:,} (the count of "
                "`convert`): the average pool before it is folded into the matrix, so each "
                "tap reaches every unit of its pooling window"
            )
        fit.core_input_axons = int(input_axons_per_core(csr, cores).max())
        if fit.core_input_axons > limits.input_axons_per_core:
            fit.problems.append(
                f"a core receives {fit.core_input_axons:,} inputs, more than "
                f"{limits.input_axons_per_core:,} input axons"
            )
        fit.problems.extend(
            f"every weight of its projection from {es[k].source_name!r} rounds to zero"
            for k in q.vanished
        )
        for what, count in (
            ("weights", q.weights_clipped),
            ("biases", q.bias_clipped),
            ("thresholds", q.vth_clipped),
        ):
            if count:
                fit.problems.append(f"{count} {what} do not fit their fixed-point format")
        layers.append(fit)
    # Output axons: each source neuron needs one axon per destination core it reaches.
    sizes, cores_of = [ly.neurons for ly in layers], [ly.cores for ly in layers]
    outputs = output_axons_per_core(edges, sizes, cores_of)
    for i, (fit, axons) in enumerate(zip(layers, outputs, strict=True)):
        fit.core_output_axons = int(axons.max()) if axons.size else 0
        if fit.core_output_axons > limits.output_axons_per_core:
            targets = [
                layers[t].name for t, es in enumerate(edges) if any(e.source == i for e in es)
            ]
            fit.problems.append(
                f"a core's neurons need {fit.core_output_axons:,} output axons (one per "
                f"destination core of {', '.join(targets)} each neuron reaches), more than "
                f"{limits.output_axons_per_core:,}"
            )
    report = LoihiReport(layers=layers, limits=limits)
    if calibration_inputs is not None:
        if not sim.encoder.is_spiking:
            raise ValidationError("loihi_report: calibration needs a spiking encoder")
        stats = simulate_fixed(network, calibration_inputs, sim, quantised, lowered_edges(network))
        for fit, st in zip(layers, stats, strict=True):
            fit.v_min, fit.v_max = st.v_min, st.v_max
            fit.v_range_fraction = max(st.v_max, 0) / V_MAX
            fit.saturated_high, fit.saturated_low = st.saturated_high, st.saturated_low
            fit.input_max = st.input_max
            if st.saturated_high:
                fit.problems.append(
                    f"the 24-bit voltage saturated at the top {st.saturated_high:,} times"
                )
            if st.saturated_low:
                fit.notes.append(
                    f"the voltage of neurons driven below -{V_MAX * fit.voltage_unit:.3g} V was "
                    f"held at the 24-bit floor {st.saturated_low:,} times (silent neurons; a "
                    "spike then needs less positive input than in floating point)"
                )
        report.calibration_samples = len(calibration_inputs)
        report.calibration_steps = sim.steps
    return report
