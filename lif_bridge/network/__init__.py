"""The backend-agnostic network description (frozen, validated dataclasses).

A network is a chain of layers (``Network(layers=...)``) or a graph of population nodes
(``Network(nodes=...)``, see :mod:`lif_bridge.network.graph`); both resolve to the same
``Network.populations``.
"""

from lif_bridge.network.encoders import ConstantCurrent, Encoder, Poisson, RegularRate
from lif_bridge.network.graph import (
    INPUT,
    Identity,
    Map,
    Node,
    Projection,
    Stage,
    concat_projections,
)
from lif_bridge.network.layers import (
    AvgPool2d,
    Conv2d,
    Dense,
    Flatten,
    Layer,
    MaxPool2d,
    WeightedLayer,
)
from lif_bridge.network.network import Network
from lif_bridge.network.neurons import Neurons, ResetMode
from lif_bridge.network.population import Edge, Population
from lif_bridge.network.simulation import Readout, Simulation, check_inputs

__all__ = [
    "INPUT",
    "AvgPool2d",
    "ConstantCurrent",
    "Conv2d",
    "Dense",
    "Edge",
    "Encoder",
    "Flatten",
    "Identity",
    "Layer",
    "Map",
    "MaxPool2d",
    "Network",
    "Neurons",
    "Node",
    "Poisson",
    "Population",
    "Projection",
    "Readout",
    "RegularRate",
    "ResetMode",
    "Simulation",
    "Stage",
    "WeightedLayer",
    "check_inputs",
    "concat_projections",
]
