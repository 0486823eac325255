r"""How far the spiking network is from the ANN: agreement, accuracy, correlation, rate error.

All functions are pure functions of arrays.

* Label agreement: the fraction of samples where the SNN's most active output neuron equals the
  ANN's arg-max (ties in spike counts resolve to the lowest index, and are counted separately).
* Pearson correlation between SNN rates and ANN activations of a layer (Lu & Xu Eq. 16),
  :math:`\rho = \sum (r - \bar r)(a - \bar a) / \sqrt{\sum (r - \bar r)^2 \sum (a - \bar a)^2}`,
  taken over neurons for each sample (``axis="neurons"``, the paper's figure) or over samples
  for each neuron (``axis="samples"``); constant vectors have no correlation and are left out.
* Potential readout (:func:`potential_scores`): the output neuron's spike count plus its final
  residual, :math:`N + (v_T - v_{rest}) / V_{th}`. With reset by subtraction, no leak and no
  refractoriness this is exactly its integrated input over the window divided by ``V_th`` (bias
  included), i.e. the non-spiking output layer of Rueckauer et al. (2017): spikes emitted early,
  before inhibiting input arrived, are taken back by a negative residual, and count ties are
  broken. It is reported *beside* the count agreement, never instead of it.
* Rate error against the resolution bound: a window of ``T`` seconds counts whole spikes, so
  :math:`|f - N/T| < 1/T` (Eq. 19–21) for a regular train; ``rate_error`` reports the error next
  to the bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from lif_bridge.backend import Result
from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.errors import LifBridgeError
from lif_bridge.network import Network

__all__ = [
    "Agreement",
    "Correlation",
    "accuracy",
    "agreement",
    "correlation",
    "potential_scores",
    "rate_error",
    "spikes_per_neuron",
    "synaptic_operations",
    "synaptic_operations_by_population",
]


@dataclass(frozen=True)
class Agreement:
    """Label agreement between SNN and ANN.

    Attributes
    ----------
    fraction
        Fraction of samples with equal labels.
    samples
        Number of samples.
    ties
        Samples whose top SNN count is shared by several outputs (incl. all-silent ones).
    silent
        Samples whose output layer did not spike at all.
    """

    fraction: float
    samples: int
    ties: int
    silent: int


def agreement(snn_counts: np.ndarray, ann_outputs: np.ndarray) -> Agreement:
    """Label agreement of SNN output counts ``(samples, outputs)`` with ANN outputs."""
    counts = np.asarray(snn_counts)
    ann = np.asarray(ann_outputs)
    if counts.shape != ann.shape:
        raise ValueError(f"shapes differ: SNN {counts.shape}, ANN {ann.shape}")
    top = counts.max(axis=1, keepdims=True)
    ties = int(np.sum((counts == top).sum(axis=1) > 1))
    same = np.argmax(counts, axis=1) == np.argmax(ann, axis=1)
    return Agreement(
        fraction=float(same.mean()) if len(same) else float("nan"),
        samples=len(same),
        ties=ties,
        silent=int(np.sum(top[:, 0] == 0)),
    )


def potential_scores(network: Network, result: Result) -> np.ndarray:
    r"""Scores of the output neurons from counts and final potentials, ``(samples, outputs)``.

    .. math::

        S_k = N_k + \frac{v_k(T) - v_{rest,k}}{V_{th,k}}

    with :math:`N_k` the spike count over the window and :math:`v_k(T)` the membrane potential
    [V] after the last step (after its reset), :math:`v_{rest}` the initial potential. For a
    Linear LIF or IF neuron with reset by subtraction, :math:`v(T) = v_{rest} + \sum_n \Delta
    v_n - N V_{th}`, so with ``g_l = 0`` and no refractoriness :math:`S_k` is the integrated input
    (synaptic jumps and bias) divided by ``V_th``: the membrane read as a non-spiking output
    layer. With a leak it is the leaky integral; with ``reset="zero"`` it is the count plus the
    fraction of a threshold reached at the end (input lost at resets is not restored). Use the
    scores with :func:`agreement` (``agreement(potential_scores(net, r), ann)``).

    Parameters
    ----------
    network
        The description the result came from.
    result
        A run whose readout traced the output layer
        (``Readout(traces=(network.output.name,))``).

    Raises
    ------
    LifBridgeError
        The result holds no trace of the output layer.
    """
    name = network.output.name
    trace = result.traces.get(name)
    if trace is None:
        raise LifBridgeError(
            f"potential_scores: the result has no membrane trace of the output layer {name!r}; "
            f"run with Readout(traces=({name!r},))"
        )
    v_end = np.asarray(trace, dtype=np.float64)[:, -1, :]
    params = network.output.neurons.broadcast(v_end.shape[1])
    residual = (v_end - params["v_rest"]) / params["v_th"]
    return np.asarray(result.counts[name], dtype=np.float64) + residual


def accuracy(predictions: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of ``predictions`` equal to ``labels`` (arg-max taken for 2-D scores)."""
    p = np.asarray(predictions)
    if p.ndim == 2:
        p = np.argmax(p, axis=1)
    return float(np.mean(p == np.asarray(labels)))


@dataclass(frozen=True)
class Correlation:
    """Pearson correlations of one layer.

    Attributes
    ----------
    values
        One coefficient per sample (``axis="neurons"``) or per neuron (``axis="samples"``);
        ``nan`` where a vector is constant.
    axis
        Which dimension the coefficient runs over.
    """

    values: np.ndarray
    axis: str

    @property
    def mean(self) -> float:
        """Mean over the defined coefficients."""
        return float(np.nanmean(self.values))

    @property
    def min(self) -> float:
        """Smallest defined coefficient."""
        return float(np.nanmin(self.values))

    @property
    def max(self) -> float:
        """Largest defined coefficient."""
        return float(np.nanmax(self.values))

    @property
    def defined(self) -> int:
        """How many coefficients are defined (non-constant vectors)."""
        return int(np.sum(~np.isnan(self.values)))


def correlation(
    snn_rates: np.ndarray,
    ann_activations: np.ndarray,
    axis: Literal["neurons", "samples"] = "neurons",
) -> Correlation:
    """Pearson correlation (Eq. 16) between ``(samples, neurons)`` SNN rates and ANN values."""
    r = np.asarray(snn_rates, dtype=np.float64)
    a = np.asarray(ann_activations, dtype=np.float64)
    if r.shape != a.shape:
        raise ValueError(f"shapes differ: SNN {r.shape}, ANN {a.shape}")
    if axis == "samples":
        r, a = r.T, a.T
    elif axis != "neurons":
        raise ValueError("axis must be 'neurons' or 'samples'")
    rc = r - r.mean(axis=1, keepdims=True)
    ac = a - a.mean(axis=1, keepdims=True)
    num = (rc * ac).sum(axis=1)
    den = np.sqrt((rc**2).sum(axis=1) * (ac**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return Correlation(values=values, axis=axis)


def rate_error(counts: np.ndarray, expected_rates: np.ndarray, duration: float) -> dict[str, float]:
    """Rate error ``|f - N/T|`` [Hz] against the bound ``1/T``.

    Returns
    -------
    dict
        ``mean``, ``max`` (absolute errors, Hz), ``bound`` (``1/T``), ``relative_mean``
        (mean error / mean expected rate) and ``within_bound`` (fraction of entries below it).
    """
    f = np.asarray(expected_rates, dtype=np.float64)
    err = np.abs(f - np.asarray(counts, dtype=np.float64) / duration)
    mean_rate = float(np.mean(f)) if f.size else 0.0
    return {
        "mean": float(err.mean()),
        "max": float(err.max()),
        "bound": 1.0 / duration,
        "relative_mean": float(err.mean() / mean_rate) if mean_rate > 0 else float("nan"),
        "within_bound": float(np.mean(err < 1.0 / duration + 1e-12)),
    }


def spikes_per_neuron(result: Result) -> dict[str, float]:
    """Mean spikes per neuron and sample over the window, for each counted layer."""
    return {name: float(np.mean(c)) for name, c in result.counts.items()}


def synaptic_operations(network: Network, result: Result, input_spikes: np.ndarray) -> np.ndarray:
    """Synaptic operations per sample: every spike times the synapses it reaches.

    Parameters
    ----------
    network
        The description.
    result
        A run with counts of every population (``Readout(counts="all")``).
    input_spikes
        Input spike counts per sample and input unit ``(samples, n_inputs)``.

    Notes
    -----
    Where a spiking max pool gates a population's input, every spike of its source is counted
    (an upper bound: the gate lets fewer through).
    """
    per_pop = synaptic_operations_by_population(network, result, input_spikes)
    return np.sum(list(per_pop.values()), axis=0) if per_pop else np.zeros(len(input_spikes))


def synaptic_operations_by_population(
    network: Network, result: Result, input_spikes: np.ndarray
) -> dict[str, np.ndarray]:
    """Synaptic operations per sample delivered *into* each population, summed over its
    projections (see :func:`synaptic_operations`, which adds these up)."""
    out: dict[str, np.ndarray] = {}
    for pop in network.populations:
        total = np.zeros(len(input_spikes))
        for edge in pop.projections:  # every incoming projection (a chain has one)
            src = (
                input_spikes
                if edge.source < 0
                else result.counts[network.populations[edge.source].name]
            )
            shape = edge.source_shape
            for gate in edge.gates:
                # Upper bound: every source spike goes through all of its windows.
                win = pool_windows(gate, shape)
                src = np.asarray(src, dtype=np.float64)[:, win].sum(axis=2)
                shape = gate.output_shape(shape)
            m = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
            fanout = np.diff(m.tocsc().indptr)
            total += np.asarray(src, dtype=np.float64) @ fanout
        out[pop.name] = total
    return out
