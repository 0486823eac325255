r"""Data-based normalisation factors of a converted network (numpy only).

The converter (:func:`lif_bridge.convert.torch.from_torch`) maps ANN activations ``a_l`` onto
rates ``r_l = f_max · a_l / λ_l`` [Hz], ``f_max`` the input rate for ``x = 1``. The factors
``λ_l`` (``λ_0 = 1`` for inputs in [0, 1]) decide how close the rates come to the ceiling
``1/dt`` of a rate code on a grid of step ``dt``: too small and neurons saturate, too large and
they fire too little to be read in ``T``. This module computes them from the activations of the
ANN on a calibration set:

``"max"`` (Diehl et al. 2015, data-based normalisation)
    ``λ_l = max_{n, j} a_{l,j}^{(n)}``: no neuron of the calibration set needs more than one
    spike per step (with ``f_max = 1/dt``).

``"percentile"`` (Rueckauer et al. 2017, §2.3 "robust normalisation")
    ``λ_l`` = the ``p``-th percentile (default 99.9) of the layer's *positive* activations over
    the calibration set, which ignores rare outliers: a few neurons saturate, most fire faster.

``"l4"`` (after Allred & Roy 2021, arXiv:2111.09446)
    With Poisson-coded inputs the membrane potential does not only integrate its mean input;
    it fluctuates, and a fluctuation over threshold makes a spike the ReLU would not have. The
    paper's statement (abstract) is that the standard deviation of the pre-firing membrane
    potential is proportional to the L4 norm of the neuron's weight vector, and that weights
    are adjusted by it during conversion. **Only the abstract of the paper could be read here
    (the full text, with its exact adjustment rule and constants, was not available), so the
    rule below is this project's derivation of that statement, not a transcription of the
    paper's.** In one step of ``dt = 1/f_max`` an input unit ``i`` of layer ``l`` spikes with
    probability ``p_i = z_i / λ_{l-1}`` (``z`` the layer's input activations), and neuron ``j``'s
    potential, in units of its threshold, moves by ``Σ_i w̃_{ji} s_i`` with
    ``w̃ = W λ_{l-1}/λ_l``. Its mean is ``a_j / λ_l`` and, by Cauchy–Schwarz,

    .. math::

        \sigma_j = \sqrt{\textstyle\sum_i \tilde w_{ji}^2\, p_i (1 - p_i)}
        \le \frac{\lambda_{l-1}}{\lambda_l}\, \lVert W_j \rVert_4\,
            \Big(\textstyle\sum_{i \in \mathrm{in}(j)} p_i^2\Big)^{1/4}

    (the L4 norm of the weights times the root of the L2 norm of the input probabilities). The
    factor is chosen so that the mean plus ``κ`` of these standard deviations stays within one
    threshold per step for every neuron and calibration sample:

    .. math::

        \lambda_l = \max_{n, j}\Big(a_{l,j}^{(n)} + \kappa \sqrt{\lambda_{l-1}}\,
            \lVert W_j \rVert_4 \big(\textstyle\sum_{i \in \mathrm{in}(j)}
            z_i^{(n)\,2}\big)^{1/4}\Big),

    i.e. the max normalisation enlarged by the weight vector's L4 norm, which scales the
    layer's weights ``W λ_{l-1}/λ_l`` down where the noise is large. ``κ = 1`` by default.

Every function takes plain arrays; :func:`normalization_factors` streams a calibration set
(an array, or any iterable of arrays or ``(x, y)`` pairs) through a network description.

References
----------
Diehl, P. U. et al. (2015). Fast-classifying, high-accuracy spiking deep networks through
weight and threshold balancing. IJCNN.
Rueckauer, B. et al. (2017). Conversion of continuous-valued deep networks to efficient
event-driven networks for image classification. Front. Neurosci. 11:682.
Allred, J. M. & Roy, K. (2021). L4-norm weight adjustments for converted spiking neural
networks. arXiv:2111.09446.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from lif_bridge.ann import iter_ann
from lif_bridge.errors import ConversionError
from lif_bridge.network import Network

__all__ = [
    "NORMALIZATIONS",
    "as_calibration_array",
    "l4_factor",
    "max_factor",
    "normalization_factors",
    "percentile_factor",
    "weight_l4_norms",
]

Normalization = Literal["none", "max", "percentile", "l4"]
NORMALIZATIONS: tuple[str, ...] = ("none", "max", "percentile", "l4")


def max_factor(activations: np.ndarray) -> float:
    """``λ = max(a)`` over all samples and neurons (1 if no activation is positive)."""
    a = np.asarray(activations, dtype=np.float64)
    top = float(a.max()) if a.size else 0.0
    return top if top > 0 else 1.0


def percentile_factor(activations: np.ndarray, percentile: float = 99.9) -> float:
    """``λ`` = the ``percentile``-th percentile of the positive activations (1 if none).

    Parameters
    ----------
    activations
        Activations of one layer, any shape.
    percentile
        In (0, 100].
    """
    p = float(percentile)
    if not 0 < p <= 100:
        raise ConversionError(f"percentile must be in (0, 100], got {percentile!r}")
    a = np.asarray(activations, dtype=np.float64).ravel()
    a = a[a > 0]
    if not a.size:
        return 1.0
    return float(np.percentile(a, p))


def weight_l4_norms(matrix: Any) -> np.ndarray:
    r"""``‖W_j‖_4 = (Σ_i W_{ji}^4)^{1/4}`` of every row of a dense or sparse matrix."""
    if sp.issparse(matrix):
        return np.asarray(matrix.power(4).sum(axis=1)).ravel() ** 0.25
    m = np.asarray(matrix, dtype=np.float64)
    return (m**4).sum(axis=1) ** 0.25


def l4_factor(
    activations: np.ndarray, noise: np.ndarray, prev_factor: float, kappa: float = 1.0
) -> float:
    r"""``λ_l = max(a + κ √λ_{l-1} · u)`` (see the module docstring).

    Parameters
    ----------
    activations
        ``a``, ``(samples, neurons)``.
    noise
        ``u_j = ‖W_j‖_4 (Σ_{i∈in(j)} z_i²)^{1/4}``, same shape.
    prev_factor
        ``λ_{l-1}`` (1 for the first layer).
    kappa
        Number of standard deviations kept below threshold, >= 0.
    """
    if not np.isfinite(kappa) or kappa < 0:
        raise ConversionError(f"kappa must be a finite number >= 0, got {kappa!r}")
    a = np.maximum(np.asarray(activations, dtype=np.float64), 0.0)
    total = a + kappa * np.sqrt(prev_factor) * np.asarray(noise, dtype=np.float64)
    return max_factor(total)


def as_calibration_array(calibration: Any, input_shape: tuple[int, ...]) -> np.ndarray:
    """A calibration set as one float64 array ``(samples, *input_shape)``.

    Accepts an array (numpy, torch, nested lists), or an iterable of arrays or of ``(x, y)``
    pairs (a data loader); values must lie in [0, 1].
    """
    if calibration is None:
        raise ConversionError("normalisation needs a calibration set; pass calibration=...")
    if hasattr(calibration, "detach"):
        calibration = calibration.detach().cpu().numpy()
    if isinstance(calibration, np.ndarray):
        parts = [calibration]
    else:
        parts = []
        try:
            for item in calibration:
                if isinstance(item, (tuple, list)) and item and not np.isscalar(item[0]):
                    item = item[0]
                if hasattr(item, "detach"):
                    item = item.detach().cpu().numpy()
                parts.append(np.asarray(item, dtype=np.float64))
        except TypeError as exc:
            raise ConversionError(
                f"calibration must be an array or an iterable of arrays, got "
                f"{type(calibration).__name__}"
            ) from exc
    n_in = int(np.prod(input_shape))
    arrays = []
    for part in parts:
        arr = np.asarray(part, dtype=np.float64)
        if arr.size % n_in:
            raise ConversionError(
                f"calibration samples have shape {arr.shape[1:]}, expected {input_shape}"
            )
        arrays.append(arr.reshape((-1, *input_shape)))
    if not arrays or sum(len(a) for a in arrays) == 0:
        raise ConversionError("the calibration set is empty")
    x = np.concatenate(arrays)
    if not np.all(np.isfinite(x)):
        raise ConversionError("the calibration set contains NaN or infinite values")
    if x.min() < 0 or x.max() > 1:
        raise ConversionError(
            f"calibration inputs must lie in [0, 1] (rates x·max_rate), got "
            f"[{x.min():g}, {x.max():g}]; scale them as the model's inputs"
        )
    return x


def _walk(network: Network, x: np.ndarray, need_noise: bool) -> list[tuple[np.ndarray, Any]]:
    """Activations (and L4 noise terms, one per projection) of every population, ANN units."""
    out: list[tuple[np.ndarray, Any]] = []
    for step in iter_ann(network, x, max_rate=1.0):
        noise = None
        if need_noise:
            noise = []
            for z, m in step.terms:
                mask = sp.csr_matrix(m, copy=True)
                mask.data = np.ones_like(mask.data)
                noise.append(weight_l4_norms(m)[None, :] * np.asarray((mask @ (z**2).T).T) ** 0.25)
        out.append((step.rates, noise))
    return out


def normalization_factors(
    network: Network,
    calibration: np.ndarray,
    method: Normalization,
    *,
    percentile: float = 99.9,
    kappa: float = 1.0,
    batch_size: int = 256,
    progress: bool = False,
) -> list[float]:
    """``λ_l`` of every population of ``network`` (see the module docstring).

    Parameters
    ----------
    network
        The *unnormalised* description: weights ``W`` and ``ann_bias = b`` of the trained
        model, ``V_th C_m = 1`` and ``rate_scale = 1``, so its ANN view with ``max_rate = 1`` is
        the trained model.
    calibration
        ``(samples, *input_shape)`` in [0, 1] (see :func:`as_calibration_array`).
    method
        ``"none"`` (all 1), ``"max"``, ``"percentile"`` or ``"l4"``.
    percentile
        For ``"percentile"``.
    kappa
        For ``"l4"``.
    batch_size
        Samples per batch (memory).
    progress
        Show a tqdm progress bar.
    """
    n_pop = len(network.populations)
    if method == "none":
        return [1.0] * n_pop
    if method not in NORMALIZATIONS:
        raise ConversionError(
            f"unknown normalisation {method!r}; choose one of {', '.join(NORMALIZATIONS)}"
        )
    if method == "percentile":
        percentile_factor(np.ones(1), percentile)  # validate early
    need_noise = method == "l4"
    tops = [0.0] * n_pop
    positives: list[list[np.ndarray]] = [[] for _ in range(n_pop)]
    per_layer: list[list[tuple[np.ndarray, np.ndarray]]] = [[] for _ in range(n_pop)]
    starts = range(0, len(calibration), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="calibration", unit="batch", leave=False)
    for start in starts:
        batch = calibration[start : start + batch_size]
        for k, (a, noise) in enumerate(_walk(network, batch, need_noise)):
            if method == "max":
                tops[k] = max(tops[k], max_factor(a) if np.any(a > 0) else 0.0)
            elif method == "percentile":
                positives[k].append(a[a > 0].astype(np.float32))
            else:
                per_layer[k].append((a, noise))
    if method == "max":
        return [t if t > 0 else 1.0 for t in tops]
    if method == "percentile":
        return [
            percentile_factor(np.concatenate(p) if p else np.zeros(0), percentile)
            for p in positives
        ]
    factors: list[float] = []
    for k, pop in enumerate(network.populations):
        a = np.concatenate([p[0] for p in per_layer[k]])
        prevs = [1.0 if src < 0 else factors[src] for src in pop.sources]
        us = [np.concatenate([p[1][j] for p in per_layer[k]]) for j in range(len(prevs))]
        if len(prevs) == 1:
            factors.append(l4_factor(a, us[0], prevs[0], kappa))
        else:  # several sources: each noise term scaled by its own source's factor
            u = sum(np.sqrt(f) * uj for f, uj in zip(prevs, us, strict=True))
            factors.append(l4_factor(a, u, 1.0, kappa))
    return factors
