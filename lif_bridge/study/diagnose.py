r"""Where a converted network departs from its ANN, layer by layer, and what to change.

:func:`diagnose` runs one network on samples at several windows ``T`` and measures, all on the
data given:

* agreement and accuracy against ``T`` (next to the one-spike resolution ``1/T``);
* per population, at the longest window: the Pearson correlation (Lu & Xu Eq. 16) of SNN rates
  with the ANN's activations in rate units (per sample, over neurons), the rate error
  ``|r_SNN − r_ANN|`` [Hz] next to the bound ``1/T``, *saturated* entries (the ANN asks for more
  than the grid's maximum ``1/dt`` and the neuron spikes at every step), *silent* neurons (no
  spike on any sample; those the ANN activates are counted apart), spikes per neuron and
  SynOps per sample (an output layer without ReLU is compared with ``max(a, 0)``);
* the disagreements, and how many are *near ties*: the ANN's two largest outputs differ by less
  than one spike over the window, ``Δ·T < 1`` with ``Δ`` the margin in Hz;
* suggestions. **T for the target agreement** (default 99 %) from a margin model: a sample is
  resolved once its margin carries ``κ`` spikes, ``Δ·T ≥ κ``; ``κ`` is the smallest value for
  which the model's agreement stays at or below the measured one at every window run, so the
  model is pessimistic on the data; the ``T`` it predicts is then *run* and, if it falls short,
  raised by half until the target is met (each try is reported). **Saturation**: per layer, the
  share of activations above ``1/dt``, the factor by which the layer's rate must shrink so the
  largest one fits (``r_max·dt``), and the percentile of the layer's positive rates at which the
  current maximum rate sits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lif_bridge.analysis import (
    accuracy,
    agreement,
    correlation,
    synaptic_operations_by_population,
)
from lif_bridge.ann import ann_activations
from lif_bridge.backend import Result, get_backend
from lif_bridge.errors import ValidationError
from lif_bridge.limits import check_runs
from lif_bridge.limits import current as current_limits
from lif_bridge.network import Network, Readout, Simulation
from lif_bridge.network.encoders import Encoder, RegularRate
from lif_bridge.progress import progress_bar
from lif_bridge.study.evaluate import input_spike_counts

__all__ = ["diagnose", "layer_synops", "margin_model", "suggest_steps"]

#: Share of saturated activations below which a layer is not flagged.
SATURATION_TOLERANCE = 1e-3


def layer_synops(network: Network, result: Result, input_spikes: np.ndarray) -> dict[str, float]:
    """SynOps per sample delivered *into* each population (source spikes × fan-out), the mean of
    :func:`lif_bridge.analysis.synaptic_operations_by_population`."""
    per_pop = synaptic_operations_by_population(network, result, input_spikes)
    return {name: float(np.mean(v)) for name, v in per_pop.items()}


def margin_model(
    margins_hz: np.ndarray, measured: dict[int, float], dt: float
) -> tuple[float, Any]:
    """``κ`` [spikes] and the predicted agreement ``A(steps)`` of the margin model.

    Parameters
    ----------
    margins_hz
        ANN top-two output margins ``Δ`` [Hz], one per sample.
    measured
        Steps -> measured agreement.
    dt
        Time step [s].
    """
    d = np.sort(np.asarray(margins_hz, dtype=np.float64))[::-1]
    n = len(d)
    kappa = 0.0
    for steps, agree in measured.items():
        k = math.floor(agree * n + 1e-9)  # at most k samples may be predicted resolved
        if k < n:
            kappa = max(kappa, float(d[k] * steps * dt) * (1 + 1e-9) + 1e-12)

    def predict(steps: int) -> float:
        return float(np.mean(d * steps * dt >= kappa))

    return kappa, predict


def suggest_steps(margins_hz: np.ndarray, kappa: float, dt: float, target: float) -> int | None:
    """Fewest steps at which the margin model predicts ``target`` agreement (None: never)."""
    d = np.sort(np.asarray(margins_hz, dtype=np.float64))
    allowed = len(d) - math.ceil(target * len(d) - 1e-9)
    q = d[max(allowed, 0)] if len(d) else 0.0
    if q <= 0:
        return None
    return max(1, math.ceil(kappa / (q * dt) - 1e-9)) if kappa > 0 else 1


def _run(network: Network, x: np.ndarray, sim: Simulation, backend: str) -> Result:
    program = get_backend(backend).lower(network, sim)
    try:
        return program.run(x)
    finally:
        program.close()


def _layer_figures(
    network: Network, res: Result, ann: dict[str, np.ndarray], sim: Simulation, x: np.ndarray
) -> list[dict[str, Any]]:
    t_sec = sim.duration
    top = 1.0 / sim.dt
    syn = layer_synops(network, res, input_spike_counts(sim, network, x, 0))
    layers = []
    for pop in network.populations:
        # a rate cannot be negative: an output layer without ReLU is compared with max(a, 0)
        r, a = res.rates(pop.name), np.maximum(ann[pop.name], 0.0)
        corr = correlation(r, a)
        err = np.abs(r - a)
        over = a > top * (1 + 1e-9)
        at_max = np.asarray(res.counts[pop.name]) >= sim.steps
        silent = np.asarray(res.counts[pop.name]).sum(axis=0) == 0
        active = (a > 0).any(axis=0)
        pos = a[a > 0]
        layers.append(
            {
                "layer": pop.name,
                "neurons": pop.size,
                "correlation_mean": corr.mean if corr.defined else None,
                "correlation_min": corr.min if corr.defined else None,
                "rate_error_mean_hz": float(err.mean()),
                "rate_error_max_hz": float(err.max()),
                "rate_error_relative": float(err.mean() / a.mean()) if a.mean() > 0 else None,
                "bound_hz": 1.0 / t_sec,
                "ann_above_max_rate": float(over.mean()),
                "saturated": float((over & at_max).mean()),
                "at_max_rate": float(at_max.mean()),
                "silent_neurons": int(silent.sum()),
                "silent_but_ann_active": int((silent & active).sum()),
                "spikes_per_neuron": float(np.mean(res.counts[pop.name])),
                "synops_per_sample": syn[pop.name],
                "ann_max_rate_hz": float(a.max()),
                "max_rate_hz": top,
                "max_rate_percentile": float(np.mean(pos <= top) * 100) if pos.size else None,
            }
        )
    return layers


def _saturation_advice(layers: list[dict[str, Any]]) -> list[str]:
    advice = []
    for lay in layers:
        if lay["ann_above_max_rate"] <= SATURATION_TOLERANCE:
            continue
        factor = lay["max_rate_hz"] / lay["ann_max_rate_hz"]
        pct = lay["max_rate_percentile"]
        advice.append(
            f"layer {lay['layer']}: {100 * lay['ann_above_max_rate']:.2f} % of ANN activations "
            f"ask for more than 1/dt = {lay['max_rate_hz']:g} Hz (largest "
            f"{lay['ann_max_rate_hz']:.1f} Hz; {100 * lay['saturated']:.2f} % spike at every "
            f"step). Scaling this layer's rates by {factor:.3f} (its normalisation factor × "
            f"{1 / factor:.3f}, i.e. normalize=max or percentile 100 for this layer, or a "
            f"layer_rate {factor:.3f}× lower) removes saturation on these data; 1/dt now sits at "
            f"the {pct:.2f}th percentile of its positive rates."
        )
    return advice


@dataclass(frozen=True)
class _Probe:
    """Runs ``network`` on ``x`` for a window of ``n`` steps and scores it against the ANN."""

    network: Network
    x: np.ndarray
    labels: np.ndarray | None
    ann_out: np.ndarray  # the ANN's output rates [Hz]
    dt: float
    encoder: Encoder
    backend: str

    def sim(self, n: int) -> Simulation:
        """The simulation of ``n`` steps, every layer's counts read out."""
        return Simulation(steps=n, dt=self.dt, encoder=self.encoder, readout=Readout(counts="all"))

    def run(self, n: int) -> Result:
        """The result of ``n`` steps on ``x``."""
        return _run(self.network, self.x, self.sim(n), self.backend)

    def score(self, res: Result, n: int) -> dict[str, Any]:
        """The curve point of ``res``: agreement, ties, accuracies, spikes per neuron."""
        return _curve_point(res, self.ann_out, self.labels, n)


def diagnose(
    network: Network,
    x: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    steps: Sequence[int] = (16, 32, 64, 100, 300),
    dt: float = 0.01,
    encoder: Encoder | None = None,
    target: float = 0.99,
    backend: str = "reference",
    max_tries: int = 4,
    progress: bool = True,
) -> dict[str, Any]:
    """Diagnose ``network`` on ``x`` (see the module docstring); returns the JSON payload."""
    steps = _checked_steps(steps, target)
    x = np.asarray(x)
    check_runs(network, steps, len(x), what="diagnose: steps")
    enc = encoder or RegularRate()
    sim0 = Simulation(steps=steps[-1], dt=dt, encoder=enc, readout=Readout(counts="all"))
    ann = ann_activations(network, x, max_rate=sim0.input_rate(network), units="rate")
    probe = _Probe(network, x, labels, ann[network.output.name], dt, enc, backend)
    margins = _margins(probe.ann_out)
    curve, detail = _curve(probe, steps, progress)
    layers = _layer_figures(network, detail, ann, sim0, x)
    same = detail.predictions() == np.argmax(probe.ann_out, axis=1)
    near = ~same & (margins * sim0.duration < 1.0)
    kappa, predict = margin_model(margins, {c["steps"]: c["agreement"] for c in curve}, dt)
    suggested = suggest_steps(margins, kappa, dt, target)
    cap = min(10 * steps[-1], current_limits().steps)  # longest window a check may run
    tries = _checks(probe, curve, suggested, predict, cap, max_tries, target)
    verified = next((t for t in tries if t["agreement"] >= target - 1e-12), None)
    return {
        "samples": len(x),
        "dt": dt,
        "encoder": enc.kind,
        "max_rate_hz": sim0.input_rate(network),
        "target_agreement": target,
        "curve": curve,
        "detail_steps": steps[-1],
        "layers": layers,
        "disagreements": int((~same).sum()),
        "near_ties": int(near.sum()),
        "near_tie_samples": np.flatnonzero(near).tolist()[:50],
        "snn_ties": int(agreement(detail.output_counts, probe.ann_out).ties),
        "margin_kappa_spikes": kappa,
        "suggested_steps": verified["steps"] if verified else None,
        "model_steps": suggested,
        "checks": tries,
        "check_cap_steps": cap,
        "saturation_advice": _saturation_advice(layers),
    }


def _checked_steps(steps: Sequence[int], target: float) -> list[int]:
    """The windows sorted and deduplicated; refuses windows < 1 and a target outside (0, 1]."""
    out = sorted({int(s) for s in steps})
    if not out or out[0] < 1:
        raise ValidationError("diagnose: steps must be integers >= 1")
    if not 0 < target <= 1:
        raise ValidationError(f"diagnose: target agreement must be in (0, 1], got {target}")
    return out


def _margins(ann_out: np.ndarray) -> np.ndarray:
    """Per sample, the ANN's top output minus the runner-up [Hz] (0 for a single output)."""
    top2 = np.sort(ann_out, axis=1)[:, -2:] if ann_out.shape[1] > 1 else np.zeros((len(ann_out), 2))
    return top2[:, 1] - top2[:, 0]


def _curve(probe: _Probe, steps: list[int], progress: bool) -> tuple[list[dict[str, Any]], Result]:
    """One curve point per window in ``steps``; and the result of the longest, for the detail."""
    curve, results = [], {}
    bar = progress_bar(len(steps), "windows", enabled=progress, unit="T")
    for n in steps:
        res = probe.run(n)
        results[n] = res
        curve.append(probe.score(res, n))
        bar.update(1)
    bar.close()
    return curve, results[steps[-1]]


def _checks(
    probe: _Probe,
    curve: list[dict[str, Any]],
    suggested: int | None,
    predict: Any,
    cap: int,
    max_tries: int,
    target: float,
) -> list[dict[str, Any]]:
    """Check the suggested window by running it, ×1.5 until ``target`` (``max_tries``, ``cap``).

    A window of the curve that already reached ``target`` bounds the search: no candidate
    exceeds it, and when the tries run out below it, it is the answer (measured, not modelled).
    """
    tries: list[dict[str, Any]] = []
    if suggested is None:
        return tries
    reached = [c for c in curve if c["agreement"] >= target - 1e-12]
    known = min(reached, key=lambda c: c["steps"]) if reached else None
    candidate = suggested if known is None else min(suggested, known["steps"])
    for _ in range(max_tries):
        if candidate > cap or not _within_limits(probe.network, candidate, len(probe.x)):
            break
        measured = next((c for c in curve + tries if c["steps"] == candidate), None)
        if measured is None:
            measured = probe.score(probe.run(candidate), candidate)
        measured = {**measured, "predicted": predict(candidate)}
        tries.append(measured)
        if measured["agreement"] >= target - 1e-12:
            return tries
        candidate = max(math.ceil(candidate * 1.5), candidate + 1)
        if known is not None:
            candidate = min(candidate, known["steps"])
    if known is not None:
        tries.append({**known, "predicted": predict(known["steps"])})
    return tries


def _within_limits(network: Network, steps: int, samples: int) -> bool:
    """Whether one more check window stays within :mod:`lif_bridge.limits` (else it is skipped)."""
    try:
        check_runs(network, [steps], samples)
    except ValidationError:
        return False
    return True


def _curve_point(
    res: Result, ann_out: np.ndarray, labels: np.ndarray | None, n: int
) -> dict[str, Any]:
    agree = agreement(res.output_counts, ann_out)
    return {
        "steps": n,
        "agreement": agree.fraction,
        "ties": agree.ties,
        "ann_accuracy": accuracy(ann_out, labels) if labels is not None else None,
        "snn_accuracy": accuracy(res.predictions(), labels) if labels is not None else None,
        "spikes_per_neuron": float(
            sum(float(np.sum(c)) for c in res.counts.values())
            / sum(c.shape[1] for c in res.counts.values())
            / len(ann_out)
        ),
        "run_s": res.seconds,
    }
