r"""The ANN view of a network description: the ReLU network its rates approximate.

Each population ``l`` stands for a ReLU layer (Lu & Xu Table 1, corrected):

.. math::

    r_l = \frac{1}{V_{th} C_m}\,\max\!\big(0,\; M_l\, r_{l-1} + b_l\big)

(a sum over the incoming projections of a graph population, each :math:`M_{l,p}\, r_{src(p)}`)
with input rates :math:`r_0 = x \cdot f_{max}` [Hz], :math:`M_l` the layer's synapses [C] composed
with the stateless stages before it (average pooling is linear; max pooling takes the max of its
window, as the ANN's max pool), :math:`b_l` the layer's ``ann_bias`` [A] (or ``i_bias`` when
``ann_bias`` is None), and ``ann_activation="identity"`` dropping the max. The rates are in Hz;
dividing by a layer's ``rate_scale`` gives the trained model's activations (``units="ann"``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.network import Network, Population, check_inputs

__all__ = ["AnnStep", "ann_activations", "ann_bias", "ann_forward", "iter_ann"]


@dataclass(frozen=True)
class AnnStep:
    """One population of the ANN view, as :func:`iter_ann` computes it.

    Attributes
    ----------
    population
        The population.
    inputs
        What its synapses receive, ``(samples, n_in)`` [Hz] (after the max-pool stages; of the
        last projection for a population with several).
    matrix
        Its synapses composed with the linear stages, ``(neurons, n_in)`` sparse [C] (of the
        last projection for a population with several).
    rates
        Its rates ``r_l`` [Hz], ``(samples, neurons)``.
    terms
        ``(inputs, matrix)`` of every incoming projection, in order.
    """

    population: Population
    inputs: np.ndarray
    matrix: sp.csr_matrix
    rates: np.ndarray
    terms: tuple[tuple[np.ndarray, sp.csr_matrix], ...] = ()


def iter_ann(
    network: Network, x: np.ndarray, *, max_rate: float | None = None
) -> Iterator[AnnStep]:
    """The ANN view population by population (see the module docstring for the maths)."""
    x = check_inputs(network, x)
    rate = max_rate if max_rate is not None else (network.max_rate or 1.0)
    acts: list[np.ndarray] = []
    r0 = x.reshape(len(x), -1) * rate
    for pop in network.populations:
        pre = np.zeros((len(x), pop.size))
        terms = []
        for edge in pop.projections:
            z = r0 if edge.source < 0 else acts[edge.source]
            shape = edge.source_shape
            for gate in edge.gates:
                z = z[:, pool_windows(gate, shape)].max(axis=2)
                shape = gate.output_shape(shape)
            m = population_matrix(edge.map, edge.linear_stages, edge.gated_shape)
            pre = pre + np.asarray((m @ z.T).T)
            terms.append((z, m))
        nrn = pop.neurons.broadcast(pop.size)
        pre = pre + ann_bias(pop)
        if pop.ann_activation == "relu":
            pre = np.maximum(pre, 0.0)
        r = pre / (nrn["v_th"] * nrn["c_m"])
        acts.append(r)
        yield AnnStep(population=pop, inputs=z, matrix=m, rates=r, terms=tuple(terms))


def ann_bias(pop: Population) -> np.ndarray:
    """The ReLU bias ``b_l`` [A] of a population, one value per neuron.

    ``ann_bias`` of the layer (per unit or per conv channel), or its ``i_bias`` when None.
    """
    bias = pop.ann_bias
    if bias is None:
        return pop.neurons.broadcast(pop.size)["i_bias"]
    b = np.asarray(bias, dtype=np.float64)
    if b.ndim == 1 and b.size != pop.size:  # one value per conv channel
        b = np.repeat(b, pop.size // b.size)
    return np.broadcast_to(b, (pop.size,))


def ann_activations(
    network: Network,
    x: np.ndarray,
    *,
    max_rate: float | None = None,
    units: Literal["rate", "ann"] = "rate",
) -> dict[str, np.ndarray]:
    """Activations of every population of the ANN view, ``name -> (samples, neurons)``.

    Parameters
    ----------
    network
        The description.
    x
        Inputs ``(samples, *input_shape)`` in [0, 1].
    max_rate
        Input rate [Hz] for ``x = 1``; default the network's ``max_rate`` (else 1 Hz, which
        makes rates equal activations for a bias-free network).
    units
        ``"rate"`` (Hz, what spike counts / T approximate) or ``"ann"`` (rate / rate_scale).
    """
    return {
        step.population.name: (
            step.rates / step.population.rate_scale if units == "ann" else step.rates
        )
        for step in iter_ann(network, x, max_rate=max_rate)
    }


def ann_forward(
    network: Network,
    x: np.ndarray,
    *,
    max_rate: float | None = None,
    units: Literal["rate", "ann"] = "rate",
) -> np.ndarray:
    """Output of the ANN view, ``(samples, outputs)``; see :func:`ann_activations`."""
    return ann_activations(network, x, max_rate=max_rate, units=units)[network.output.name]
