"""The paper's MLP and CNN as network descriptions, from the zoo weights (tests, benchmarks).

Weights come from ``lif_bridge/zoo/paper_{mlp,cnn}.npz`` when present, else random weights of
the same shapes scaled so that every layer fires (the structure is what a backend test needs).
"""

from __future__ import annotations

import numpy as np

from lif_bridge.network import Conv2d, Dense, Flatten, MaxPool2d, Network, Neurons
from lif_bridge.zoo import load_state_npz, weights_path

__all__ = ["paper_cnn_network", "paper_mlp_network"]


def _state(name: str, shapes: dict[str, tuple[int, ...]], scale: float) -> dict[str, np.ndarray]:
    path = weights_path(name)
    if path.is_file():
        return {k: np.asarray(v, dtype=np.float64) for k, v in load_state_npz(path).items()}
    rng = np.random.default_rng(0)
    return {k: rng.normal(0.02, scale / np.sqrt(np.prod(s[1:])), s) for k, s in shapes.items()}


def paper_mlp_network(neurons: Neurons | None = None) -> Network:
    """784-600-10 without bias (Lu & Xu §5.3), Linear LIF neurons (``g_l = 0`` by default)."""
    st = _state("paper_mlp", {"fc1.weight": (600, 784), "fc2.weight": (10, 600)}, 3.0)
    nrn = neurons or Neurons(c_m=1.0, g_l=0.0, v_th=1.0)
    return Network(
        input_shape=(1, 28, 28),
        layers=(
            Flatten(name="flatten"),
            Dense(name="fc1", weight=st["fc1.weight"], neurons=nrn),
            Dense(name="fc2", weight=st["fc2.weight"], neurons=nrn),
        ),
    )


def paper_cnn_network(neurons: Neurons | None = None) -> Network:
    """The Table 5 ConvNet: conv 12@5×5 → max 2 → conv 64@5×5 → max 2 → fc 100 → fc 10."""
    shapes = {
        "conv1.weight": (12, 1, 5, 5),
        "conv2.weight": (64, 12, 5, 5),
        "fc1.weight": (100, 3136),
        "fc2.weight": (10, 100),
    }
    st = _state("paper_cnn", shapes, 3.0)
    nrn = neurons or Neurons(c_m=1.0, g_l=0.0, v_th=1.0)
    return Network(
        input_shape=(1, 28, 28),
        layers=(
            Conv2d(name="conv1", weight=st["conv1.weight"], padding=2, neurons=nrn),
            MaxPool2d(name="pool1", kernel_size=2),
            Conv2d(name="conv2", weight=st["conv2.weight"], padding=2, neurons=nrn),
            MaxPool2d(name="pool2", kernel_size=2),
            Flatten(name="flatten"),
            Dense(name="fc1", weight=st["fc1.weight"], neurons=nrn),
            Dense(name="fc2", weight=st["fc2.weight"], neurons=nrn),
        ),
    )
