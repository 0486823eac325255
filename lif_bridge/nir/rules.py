r"""snnTorch's ``Leaky`` step rule and lif-bridge's, side by side in numpy, for dense chains.

What makes an snnTorch net read from NIR count differently in lif-bridge, one switch each
(``benchmarks/nir_snntorch.py`` measures each; ``tests/core/test_nir_snntorch.py`` checks that
the all-snnTorch rule reproduces snnTorch's counts and the all-lif-bridge rule the reference
backend's, both exactly; ``tests/core/test_nir_norse.py`` and ``test_nir_sinabs.py`` check that
the ``"snntorch"`` order with forward Euler and ``">"`` (Norse's LIFBox and IAF cells) or ``">="``
(sinabs's IAF) reproduces those tools' counts exactly too). A layer of decay ``beta``, threshold
``th``, bias ``b`` and input ``I[n] = W z[n]`` (``z``: this step's spikes of the layer below,
or the input train) at ``dt = spike_dt`` (weights as a jump per spike):

``leak``
    ``"euler"`` (snnTorch): ``v <- beta v + b``. ``"exact"`` (lif-bridge, NIR's ODE solved over
    the step): ``v <- v_inf + (v - v_inf) exp(-(1 - beta))``, ``v_inf = b / (1 - beta)``.
``threshold``
    ``">"`` (snnTorch and NIR) or ``">="`` (lif-bridge).
``order``
    ``"snntorch"``: ``v <- leak(v) + I[n]; s = v > th``; the reset (to zero: ``v`` zeroed
    before the leak; subtract: ``- th``) uses the previous step's spike; a layer sees the layer
    below's spikes of the same step. ``"lif-bridge"`` (:mod:`lif_bridge.semantics`):
    ``v <- leak(v); s = v >= th; v <- v + I[n]; v <- 0 where s``: the threshold comes before
    this step's input, so a spike costs the input of its own step and each layer adds a step
    of latency.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["dense_chain_counts"]


def _leak(v: np.ndarray, beta: np.ndarray, b: np.ndarray, leak: str) -> np.ndarray:
    if leak == "euler":
        return beta * v + b
    v_inf = b / (1 - beta)
    return v_inf + (v - v_inf) * np.exp(-(1 - beta))


def dense_chain_counts(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    betas: Sequence[np.ndarray],
    spikes: np.ndarray,
    *,
    leak: str = "euler",
    threshold: str = ">",
    order: str = "snntorch",
    reset: str = "zero",
    v_th: float = 1.0,
) -> list[np.ndarray]:
    """Spike counts ``(batch, n_l)`` of each layer of a dense chain under the chosen rule.

    ``weights[l]`` is ``(out, in)``, ``spikes`` the input trains ``(batch, steps, n_in)``;
    ``reset="subtract"`` only with ``order="snntorch"`` (lif-bridge reads NIR's reset to zero).
    """
    if reset == "subtract" and order != "snntorch":
        raise ValueError("reset='subtract' is snnTorch's; lif-bridge reads NIR as reset to zero")
    batch = spikes.shape[0]
    v = [np.zeros((batch, w.shape[0])) for w in weights]
    last = [np.zeros((batch, w.shape[0]), dtype=bool) for w in weights]
    counts = [np.zeros((batch, w.shape[0]), dtype=np.int64) for w in weights]
    fire = np.greater if threshold == ">" else np.greater_equal
    for n in range(spikes.shape[1]):
        z = spikes[:, n].astype(np.float64)
        for i, (w, b, beta) in enumerate(zip(weights, biases, betas, strict=True)):
            inp = z @ w.T
            if order == "snntorch":
                if reset == "zero":
                    v[i] = np.where(last[i], 0.0, v[i])
                v[i] = _leak(v[i], beta, b, leak) + inp
                if reset == "subtract":
                    v[i] = v[i] - v_th * last[i]
                s = fire(v[i], v_th)
            else:
                v[i] = _leak(v[i], beta, b, leak)
                s = fire(v[i], v_th)
                v[i] = np.where(s, 0.0, v[i] + inp)
            last[i] = s
            counts[i] += s
            z = s.astype(np.float64)
    return counts
