"""Random small networks and inputs for conformance tests across backends.

Public so that a third-party backend can run the same conformance checks as the shipped ones:
every backend must give spike counts identical to the reference backend on these networks.
"""

from __future__ import annotations

import numpy as np

from lif_bridge.network import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Layer,
    MaxPool2d,
    Network,
    Neurons,
)

__all__ = ["ARCHITECTURES", "random_inputs", "random_network"]

#: Names of the architectures :func:`random_network` builds.
ARCHITECTURES = ("dense", "conv_avg", "conv_max", "mixed")


def _neurons(rng: np.random.Generator, n: int, reset: str, per_neuron: bool) -> Neurons:
    leak = rng.uniform(0.0, 3.0, n) if per_neuron else float(rng.uniform(0.5, 3.0))
    bias = rng.normal(0.0, 0.3, n) if per_neuron else float(rng.normal(0.0, 0.3))
    c_m = rng.uniform(0.5, 1.5, n) if per_neuron else float(rng.uniform(0.5, 1.5))
    return Neurons(
        c_m=c_m,
        g_l=leak,
        v_th=float(rng.uniform(0.5, 1.5)),
        reset=reset,  # type: ignore[arg-type]
        i_bias=bias,
    )


def random_network(
    seed: int,
    architecture: str = "mixed",
    *,
    reset: str = "subtract",
    per_neuron: bool = False,
    refractory: float = 0.0,
) -> Network:
    """A small random network exercising the layer types of one architecture.

    Parameters
    ----------
    seed
        Seed of the weights and parameters.
    architecture
        ``"dense"`` (784-free MLP on 12 inputs), ``"conv_avg"`` (conv, average pool, dense),
        ``"conv_max"`` (conv, spiking max pool, strided/dilated conv, dense) or ``"mixed"``
        (grouped conv, max pool, avg pool, flatten, two dense layers).
    reset
        ``"subtract"`` or ``"zero"`` for every population.
    per_neuron
        Per-neuron leak, bias and capacitance instead of per-layer values.
    refractory
        Refractory period [s] of every population.
    """
    rng = np.random.default_rng(seed)

    def pop(n: int) -> Neurons:
        nrn = _neurons(rng, n, reset, per_neuron)
        return nrn.replace(refractory=refractory) if refractory else nrn

    layers: list[Layer]
    if architecture == "dense":
        shape: tuple[int, ...] = (12,)
        layers = [
            Dense(weight=rng.normal(0.1, 0.6, (9, 12)), neurons=pop(9)),
            Dense(weight=rng.normal(0.1, 0.6, (5, 9)), neurons=pop(5)),
        ]
    elif architecture == "conv_avg":
        shape = (2, 6, 6)
        layers = [
            Conv2d(weight=rng.normal(0.05, 0.5, (3, 2, 3, 3)), padding=1, neurons=pop(3 * 36)),
            AvgPool2d(kernel_size=2),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (4, 27)), neurons=pop(4)),
        ]
    elif architecture == "conv_max":
        shape = (1, 8, 8)
        layers = [
            Conv2d(weight=rng.normal(0.1, 0.6, (3, 1, 3, 3)), padding=1, neurons=pop(3 * 64)),
            MaxPool2d(kernel_size=2),
            Conv2d(
                weight=rng.normal(0.05, 0.4, (4, 3, 2, 2)),
                stride=2,
                dilation=1,
                neurons=pop(4 * 4),
            ),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (3, 16)), neurons=pop(3)),
        ]
    elif architecture == "mixed":
        shape = (2, 7, 7)
        layers = [
            Conv2d(
                weight=rng.normal(0.1, 0.6, (4, 1, 3, 3)),
                padding=(1, 2),
                dilation=(1, 2),
                groups=2,
                neurons=pop(4 * 49),
            ),
            MaxPool2d(kernel_size=2, stride=1),
            Conv2d(weight=rng.normal(0.05, 0.4, (3, 4, 2, 2)), stride=(2, 1), neurons=pop(3 * 15)),
            AvgPool2d(kernel_size=(1, 2)),
            Flatten(),
            Dense(weight=rng.normal(0.1, 0.5, (6, 18)), neurons=pop(6)),
            Dense(weight=rng.normal(0.1, 0.6, (3, 6)), neurons=pop(3)),
        ]
    else:
        raise ValueError(f"unknown architecture {architecture!r}; choose from {ARCHITECTURES}")
    return Network(input_shape=shape, layers=tuple(layers))


def random_inputs(network: Network, samples: int, seed: int = 0) -> np.ndarray:
    """Uniform inputs in [0, 1] of shape ``(samples, *network.input_shape)``."""
    return np.random.default_rng(seed).random((samples, *network.input_shape))
