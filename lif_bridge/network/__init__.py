"""The backend-agnostic network description (frozen, validated dataclasses)."""

from lif_bridge.network.encoders import ConstantCurrent, Encoder, Poisson, RegularRate
from lif_bridge.network.layers import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Layer,
    MaxPool2d,
    WeightedLayer,
)
from lif_bridge.network.network import Network, Population, Readout, Simulation, check_inputs
from lif_bridge.network.neurons import Neurons, ResetMode

__all__ = [
    "AvgPool2d",
    "ConstantCurrent",
    "Conv2d",
    "Dense",
    "Encoder",
    "Flatten",
    "Layer",
    "MaxPool2d",
    "Network",
    "Neurons",
    "Poisson",
    "Population",
    "Readout",
    "RegularRate",
    "ResetMode",
    "Simulation",
    "WeightedLayer",
    "check_inputs",
]
