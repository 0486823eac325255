r"""The ANN view of a network description: the ReLU network its rates approximate.

Each population ``l`` stands for a ReLU layer (Lu & Xu Table 1, corrected):

.. math::

    r_l = \frac{1}{V_{th} C_m}\,\max\!\big(0,\; M_l\, r_{l-1} + b_l\big)

with input rates :math:`r_0 = x \cdot f_{max}` [Hz], :math:`M_l` the layer's synapses [C] composed
with the stateless stages before it (average pooling is linear; max pooling takes the max of its
window, as the ANN's max pool), :math:`b_l` the layer's ``ann_bias`` [A] (or ``i_bias`` when
``ann_bias`` is None), and ``ann_activation="identity"`` dropping the max. The rates are in Hz;
dividing by a layer's ``rate_scale`` gives the trained model's activations (``units="ann"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from lif_bridge.connectivity import pool_windows, population_matrix
from lif_bridge.network import Network, check_inputs

__all__ = ["ann_activations", "ann_forward"]


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
    x = check_inputs(network, x)
    rate = max_rate if max_rate is not None else (network.max_rate or 1.0)
    acts: list[np.ndarray] = []
    out: dict[str, np.ndarray] = {}
    r0 = x.reshape(len(x), -1) * rate
    for pop in network.populations:
        z = r0 if pop.source < 0 else acts[pop.source]
        shape = pop.source_shape
        for gate in pop.gates:
            z = z[:, pool_windows(gate, shape)].max(axis=2)
            shape = gate.output_shape(shape)
        m = population_matrix(pop.layer, pop.linear_stages, pop.gated_shape)
        nrn = pop.layer.neurons.broadcast(pop.size)
        bias = pop.layer.ann_bias
        if bias is None:
            b = nrn["i_bias"]
        else:
            b = np.asarray(bias, dtype=np.float64)
            if b.ndim == 1 and b.size != pop.size:  # one value per conv channel
                b = np.repeat(b, pop.size // b.size)
        pre = np.asarray((m @ z.T).T) + b
        if pop.layer.ann_activation == "relu":
            pre = np.maximum(pre, 0.0)
        r = pre / (nrn["v_th"] * nrn["c_m"])
        acts.append(r)
        out[pop.name] = r / pop.layer.rate_scale if units == "ann" else r
    return out


def ann_forward(
    network: Network,
    x: np.ndarray,
    *,
    max_rate: float | None = None,
    units: Literal["rate", "ann"] = "rate",
) -> np.ndarray:
    """Output of the ANN view, ``(samples, outputs)``; see :func:`ann_activations`."""
    return ann_activations(network, x, max_rate=max_rate, units=units)[network.output.name]
