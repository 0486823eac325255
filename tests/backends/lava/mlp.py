"""The paper's 784-600-10 MLP as a Linear LIF network, built from the shipped weights (NumPy)."""

from __future__ import annotations

import numpy as np

from lif_bridge.network import Dense, Flatten, Network, Neurons
from lif_bridge.zoo import load_state_npz, weights_path


def paper_mlp_weights() -> tuple[np.ndarray, np.ndarray]:
    """``fc1.weight`` (600, 784) and ``fc2.weight`` (10, 600) of the shipped paper MLP."""
    state = load_state_npz(weights_path("paper_mlp"))
    return state["fc1.weight"].astype(np.float64), state["fc2.weight"].astype(np.float64)


def ann_labels(w1: np.ndarray, w2: np.ndarray, x: np.ndarray) -> np.ndarray:
    """ANN labels: ``argmax(W2 · relu(W1 · x))``."""
    flat = x.reshape(len(x), -1)
    return np.argmax(np.maximum(flat @ w1.T, 0.0) @ w2.T, axis=1)


def paper_mlp_network(calibration: np.ndarray, percentile: float = 99.9) -> Network:
    """IF neurons (``v_th = 1``, reset by subtraction), weights normalised on ``calibration``.

    Layer ``l`` is scaled by ``λ_{l-1}/λ_l`` (``λ`` = the percentile of its ReLU activations),
    so a rate of one spike per step stands for ``λ``; labels are unchanged by the scaling.
    """
    w1, w2 = paper_mlp_weights()
    flat = calibration.reshape(len(calibration), -1)
    a1 = np.maximum(flat @ w1.T, 0.0)
    lam1 = float(np.percentile(a1, percentile))
    a2 = np.maximum(a1 @ w2.T, 0.0)
    lam2 = float(np.percentile(a2, percentile))
    neurons = Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract")
    return Network(
        input_shape=(1, 28, 28),
        layers=(
            Flatten(name="flatten"),
            Dense(name="fc1", weight=w1 / lam1, neurons=neurons),
            Dense(name="fc2", weight=w2 * lam1 / lam2, neurons=neurons),
        ),
        max_rate=100.0,
    )
