"""lif-bridge: trained ReLU networks as Linear LIF spiking networks, on Brian2, Lava or NumPy.

The flow is one way::

    trained torch model --from_torch--> Network --backend.lower--> Program --run--> Result
                                          ^                                          |
                       mapping, normalisation                analysis (agreement, rho, 1/T)

Importing this package imports neither Brian2, Lava nor torch; backends are found through the
entry-point group ``lif_bridge.backends`` and loaded when asked for (:func:`get_backend`).
"""

from lif_bridge.analysis import (
    Agreement,
    Correlation,
    accuracy,
    agreement,
    correlation,
    potential_scores,
    rate_error,
    spikes_per_neuron,
    synaptic_operations,
)
from lif_bridge.ann import ann_activations, ann_forward
from lif_bridge.backend import (
    Backend,
    Program,
    Result,
    available_backends,
    get_backend,
    simulate,
)
from lif_bridge.errors import (
    BackendError,
    BackendUnavailableError,
    ConversionError,
    DataError,
    FileFormatError,
    LifBridgeError,
    MappingDomainError,
    UnsupportedLayerError,
    ValidationError,
)
from lif_bridge.mapping import (
    BIAS_MODES,
    LifParameters,
    ReluParameters,
    leak_for_bias,
    lif_to_relu,
    onset_rate,
    relu_to_lif,
)
from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    ConstantCurrent,
    Conv2d,
    Dense,
    Flatten,
    Identity,
    MaxPool2d,
    Network,
    Neurons,
    Node,
    Poisson,
    Population,
    Projection,
    Readout,
    RegularRate,
    Simulation,
)
from lif_bridge.network.io import FORMAT_VERSION, load_network, save_network
from lif_bridge.nir import from_nir, to_nir
from lif_bridge.transfer import TransferCurve, lif_rate, transfer_curve

__version__ = "0.1.0"

__all__ = [
    "BIAS_MODES",
    "FORMAT_VERSION",
    "INPUT",
    "Agreement",
    "AvgPool2d",
    "Backend",
    "BackendError",
    "BackendUnavailableError",
    "ConstantCurrent",
    "Conv2d",
    "ConversionError",
    "Correlation",
    "DataError",
    "Dense",
    "FileFormatError",
    "Flatten",
    "Identity",
    "LifBridgeError",
    "LifParameters",
    "MappingDomainError",
    "MaxPool2d",
    "Network",
    "Neurons",
    "Node",
    "Poisson",
    "Population",
    "Program",
    "Projection",
    "Readout",
    "RegularRate",
    "ReluParameters",
    "Result",
    "Simulation",
    "TransferCurve",
    "UnsupportedLayerError",
    "ValidationError",
    "__version__",
    "accuracy",
    "agreement",
    "ann_activations",
    "ann_forward",
    "available_backends",
    "correlation",
    "from_nir",
    "from_torch",
    "get_backend",
    "leak_for_bias",
    "lif_rate",
    "lif_to_relu",
    "load_network",
    "onset_rate",
    "potential_scores",
    "rate_error",
    "relu_to_lif",
    "save_network",
    "simulate",
    "spikes_per_neuron",
    "synaptic_operations",
    "to_nir",
    "transfer_curve",
]


def from_torch(*args, **kwargs):  # type: ignore[no-untyped-def]
    """Convert a trained PyTorch model; see :func:`lif_bridge.convert.torch.from_torch`.

    torch is imported only when this is called.
    """
    from lif_bridge.convert import from_torch as _from_torch

    return _from_torch(*args, **kwargs)
