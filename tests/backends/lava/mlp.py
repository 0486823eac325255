"""The paper's 784-600-10 MLP as an IF network (the zoo's builder) and its ANN labels (NumPy)."""

from __future__ import annotations

import numpy as np

from lif_bridge.data import resolve_data_dir
from lif_bridge.network import Network, Neurons
from lif_bridge.zoo import load_state_npz, paper_network, weights_path

#: ``$LIF_BRIDGE_DATA_DIR`` (``None`` if unset: ``load_mnist`` then says how to set it).
MNIST_DIR = resolve_data_dir(required=False)


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

    :func:`lif_bridge.zoo.paper_network` with percentile normalisation: layer ``l`` is scaled
    by ``λ_{l-1}/λ_l``; labels are unchanged by the scaling.
    """
    return paper_network(
        "paper_mlp",
        calibration=calibration,
        percentile=percentile,
        neurons=Neurons(c_m=1.0, g_l=0.0, v_th=1.0, reset="subtract"),
    )
