"""Saving and loading network descriptions: a versioned, documented ``.npz`` format.

Format (version 2)
------------------
A NumPy ``.npz`` archive (a zip file, each member CRC-checked) holding:

* ``lif_bridge_header``: a 0-d unicode array with a JSON document::

      {"format": "lif-bridge-network", "version": 2,
       "network": {"input_shape": [...], "max_rate": null | float, "metadata": {...},
                   "layers": [<layer>, ...]            (a chain), or
                   "nodes": [{"name": ..., "neurons": {<Neurons fields>},
                              "ann_bias": ..., "ann_activation": ..., "rate_scale": ...,
                              "projections": [{"source": <node name> | "input",
                                               "delay": <int>, "map": <layer>,
                                               "stages": [<layer>, ...]}, ...]}, ...]
                                                        (a graph, in topological order)},
       "simulation": null | {"steps": ..., "dt": ..., "max_rate": ...,
                             "encoder": {"type": "RegularRate"|"Poisson"|"ConstantCurrent", ...},
                             "readout": {"counts": ..., "traces": [...]}}}

  where ``<layer>`` is ``{"type": "Dense" | "Conv2d" | "AvgPool2d" | "MaxPool2d" | "Flatten"
  | "Identity", "name": ..., <fields>}`` (a weighted layer with ``"neurons": {...}``) and every
  array-valued field is the string ``"@<key>"`` naming a member of the archive;
* ``a0``, ``a1``, ...: the float64 arrays (weights, per-neuron parameters).

Version 1 (lif-bridge 0.1) is version 2 without ``"nodes"``: chains are still written as
version 1 (so 0.1 reads them), graphs as version 2; both load. A file of a newer version is
refused with a message to upgrade.

Loading never unpickles, reads only the members the header references, and checks every
declared size against :mod:`lif_bridge.limits` before allocating (:mod:`._archive`). Writing is
atomic: the archive is written to a temporary file in the target folder and renamed over the
target (:mod:`lif_bridge.fileio`; the umask gives the permissions), so an interrupted save
leaves no partial file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.errors import FileFormatError, LifBridgeError
from lif_bridge.fileio import atomic_path
from lif_bridge.limits import check_count, check_network_size, check_shape
from lif_bridge.network._archive import ArchiveArrays, read_archive
from lif_bridge.network.encoders import ConstantCurrent, Poisson, RegularRate
from lif_bridge.network.graph import Identity, Node, Projection
from lif_bridge.network.layers import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d
from lif_bridge.network.network import Network
from lif_bridge.network.neurons import Neurons
from lif_bridge.network.simulation import Readout, Simulation

__all__ = ["FORMAT_VERSION", "decode_network", "encode_network", "load_network", "save_network"]

FORMAT_VERSION = 2
_FORMAT = "lif-bridge-network"
_HEADER = "lif_bridge_header"
_LAYERS = {cls.__name__: cls for cls in (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten, Identity)}
_ENCODERS = {cls.__name__: cls for cls in (RegularRate, Poisson, ConstantCurrent)}
#: What a well-formed archive with a malformed description raises while it is built.
_INVALID = (
    LifBridgeError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
    IndexError,
    OverflowError,
    RecursionError,
)


class _Writer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def value(self, v: Any) -> Any:
        if isinstance(v, np.ndarray):
            if v.ndim == 0:
                return float(v)
            key = f"a{len(self.arrays)}"
            self.arrays[key] = np.ascontiguousarray(v, dtype=np.float64)
            return "@" + key
        if isinstance(v, Neurons):
            return {f: self.value(getattr(v, f)) for f in v.__dataclass_fields__}
        if isinstance(v, tuple):
            return [self.value(x) for x in v]
        if isinstance(v, (np.floating, np.integer)):
            return v.item()
        return v


def _layer_doc(layer: Any, w: _Writer) -> dict[str, Any]:
    doc = {"type": type(layer).__name__}
    doc.update({f: w.value(getattr(layer, f)) for f in layer.__dataclass_fields__})
    return doc


def _node_doc(node: Node, w: _Writer) -> dict[str, Any]:
    return {
        "name": node.name,
        "neurons": w.value(node.neurons),
        "ann_bias": w.value(node.ann_bias),
        "ann_activation": node.ann_activation,
        "rate_scale": node.rate_scale,
        "projections": [
            {
                "source": p.source,
                "delay": p.delay,
                "map": _layer_doc(p.map, w),
                "stages": [_layer_doc(st, w) for st in p.stages],
            }
            for p in node.projections
        ],
    }


def _network_doc(network: Network, w: _Writer) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "input_shape": list(network.input_shape),
        "max_rate": network.max_rate,
        "metadata": dict(network.metadata),
    }
    if network.is_chain:
        doc["layers"] = [_layer_doc(layer, w) for layer in network.layers]
    else:
        doc["nodes"] = [_node_doc(node, w) for node in network.nodes]
    return doc


def _simulation_doc(sim: Simulation) -> dict[str, Any]:
    enc: dict[str, Any] = {"type": type(sim.encoder).__name__}
    if isinstance(sim.encoder, Poisson):
        enc["seed"] = int(sim.encoder.seed)
    counts = sim.readout.counts
    return {
        "steps": sim.steps,
        "dt": sim.dt,
        "max_rate": sim.max_rate,
        "encoder": enc,
        "readout": {
            "counts": counts if isinstance(counts, str) else list(counts),
            "traces": list(sim.readout.traces),
        },
    }


def save_network(
    path: str | os.PathLike[str], network: Network, simulation: Simulation | None = None
) -> Path:
    """Write ``network`` (and optionally ``simulation``) to ``path`` atomically.

    Returns
    -------
    Path
        The path written (``.npz`` appended if missing).
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_suffix(path.suffix + ".npz")
    # a chain is written as version 1, which lif-bridge 0.1 reads too
    header, arrays = encode_network(network, simulation)
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LifBridgeError(
            f"cannot save {path}: network metadata must be JSON-serialisable ({exc})"
        ) from exc
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **{_HEADER: np.array(text)}, **arrays)
    return path


def _read(path: Path) -> tuple[dict[str, Any], ArchiveArrays]:
    """Header and lazily read arrays; sizes checked (:mod:`lif_bridge.network._archive`)."""
    header, arrays = read_archive(path, _HEADER)
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise FileFormatError(f"{path}: not a lif-bridge network file (wrong format tag)")
    version = header.get("version")
    if not isinstance(version, int) or version < 1:
        raise FileFormatError(f"{path}: invalid format version {version!r}")
    if version > FORMAT_VERSION:
        raise FileFormatError(
            f"{path}: written by a newer lif-bridge (format version {version}, this one reads "
            f"up to {FORMAT_VERSION}); upgrade lif-bridge"
        )
    return header, arrays


def _resolve(v: Any, arrays: Mapping[str, np.ndarray], path: Path) -> Any:
    if isinstance(v, str) and v.startswith("@"):
        if v[1:] not in arrays:
            raise FileFormatError(f"{path}: array {v[1:]!r} referenced but missing")
        return arrays[v[1:]]
    return v


def _neurons(doc: dict[str, Any], arrays: Mapping[str, np.ndarray], path: Path) -> Neurons:
    return Neurons(**{k: _resolve(v, arrays, path) for k, v in doc.items()})


def _layer(
    item: dict[str, Any], arrays: Mapping[str, np.ndarray], path: Path, where: str = "layer"
) -> Any:
    item = dict(item)
    kind = item.pop("type", None)
    cls = _LAYERS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise FileFormatError(
            f"{path}: {where}: unknown layer type {kind!r}; known types: "
            f"{', '.join(_LAYERS)} (written by a newer or another program?)"
        )
    fields = {k: _resolve(v, arrays, path) for k, v in item.items()}
    if "neurons" in fields:
        fields["neurons"] = _neurons(fields["neurons"], arrays, path)
    for key in ("stride", "padding", "dilation", "kernel_size"):
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    return cls(**fields)


def _node(item: dict[str, Any], arrays: Mapping[str, np.ndarray], path: Path) -> Node:
    projections = tuple(
        Projection(
            source=p["source"],
            delay=p.get("delay", 0),
            map=_layer(p["map"], arrays, path, f"node {item.get('name')!r}, map"),
            stages=tuple(
                _layer(st, arrays, path, f"node {item.get('name')!r}, stage")
                for st in p.get("stages", ())
            ),
        )
        for p in item["projections"]
    )
    return Node(
        name=item["name"],
        projections=projections,
        neurons=_neurons(item["neurons"], arrays, path),
        ann_bias=_resolve(item.get("ann_bias"), arrays, path),
        ann_activation=item.get("ann_activation", "relu"),
        rate_scale=item.get("rate_scale", 1.0),
    )


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network description written by :func:`save_network`."""
    return load_network_and_simulation(path)[0]


def load_network_and_simulation(
    path: str | os.PathLike[str],
) -> tuple[Network, Simulation | None]:
    """Read a network and, if the file has one, its simulation settings."""
    path = Path(path)
    header, arrays = _read(path)
    return decode_network(header, arrays, str(path))


def encode_network(
    network: Network, simulation: Simulation | None = None
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The JSON header and float64 arrays :func:`save_network` writes (also used by NIR export)."""
    w = _Writer()
    header = {
        "format": _FORMAT,
        "version": FORMAT_VERSION if not network.is_chain else 1,
        "network": _network_doc(network, w),
        "simulation": None if simulation is None else _simulation_doc(simulation),
    }
    return header, w.arrays


def decode_network(
    header: dict[str, Any], arrays: Mapping[str, np.ndarray], where: str
) -> tuple[Network, Simulation | None]:
    """Inverse of :func:`encode_network`; ``where`` names the source in error messages."""
    path = Path(where)
    try:
        doc = header["network"]
        check_shape(doc["input_shape"], what=f"{path}: input size")
        if "nodes" in doc and header["version"] >= 2:
            check_count(len(doc["nodes"]), "layers", what=f"{path}: number of nodes")
            structure: dict[str, Any] = {
                "nodes": tuple(_node(item, arrays, path) for item in doc["nodes"])
            }
        else:
            check_count(len(doc["layers"]), "layers", what=f"{path}: number of layers")
            structure = {
                "layers": tuple(
                    _layer(item, arrays, path, f"layer {i}") for i, item in enumerate(doc["layers"])
                )
            }
        network = Network(
            input_shape=tuple(doc["input_shape"]),
            max_rate=doc.get("max_rate"),
            metadata=doc.get("metadata", {}),
            **structure,
        )
        simulation = None
        if header.get("simulation") is not None:
            s = header["simulation"]
            enc = dict(s["encoder"])
            kind = enc.pop("type", None)
            enc_cls = _ENCODERS.get(kind) if isinstance(kind, str) else None
            if enc_cls is None:
                raise FileFormatError(
                    f"{path}: simulation encoder has unknown type {kind!r}; known types: "
                    f"{', '.join(_ENCODERS)}"
                )
            counts = s["readout"]["counts"]
            simulation = Simulation(
                steps=s["steps"],
                dt=s["dt"],
                max_rate=s.get("max_rate"),
                encoder=enc_cls(**enc),
                readout=Readout(
                    counts=counts if isinstance(counts, str) else tuple(counts),
                    traces=tuple(s["readout"]["traces"]),
                ),
            )
        check_network_size(network, where=str(path))
    except FileFormatError:
        raise
    except _INVALID as exc:
        raise FileFormatError(f"{path}: invalid network description ({exc})") from exc
    return network, simulation
