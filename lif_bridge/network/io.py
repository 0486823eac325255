"""Saving and loading network descriptions: a versioned, documented ``.npz`` format.

Format (version 1)
------------------
A NumPy ``.npz`` archive (a zip file, each member CRC-checked) holding:

* ``lif_bridge_header``: a 0-d unicode array with a JSON document::

      {"format": "lif-bridge-network", "version": 1,
       "network": {"input_shape": [...], "max_rate": null | float, "metadata": {...},
                   "layers": [{"type": "Dense" | "Conv2d" | "AvgPool2d" | "MaxPool2d"
                                       | "Flatten",
                               "name": ..., <fields>, "neurons": {<Neurons fields>}}, ...]},
       "simulation": null | {"steps": ..., "dt": ..., "max_rate": ...,
                             "encoder": {"type": "RegularRate"|"Poisson"|"ConstantCurrent", ...},
                             "readout": {"counts": ..., "traces": [...]}}}

  where every array-valued field is the string ``"@<key>"`` naming a member of the archive;
* ``a0``, ``a1``, ...: the float64 arrays (weights, per-neuron parameters).

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
from lif_bridge.network.layers import AvgPool2d, Conv2d, Dense, Flatten, MaxPool2d
from lif_bridge.network.network import Network, Readout, Simulation
from lif_bridge.network.neurons import Neurons

__all__ = ["FORMAT_VERSION", "load_network", "save_network"]

FORMAT_VERSION = 1
_FORMAT = "lif-bridge-network"
_HEADER = "lif_bridge_header"
_LAYERS = {cls.__name__: cls for cls in (Dense, Conv2d, AvgPool2d, MaxPool2d, Flatten)}
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


def _network_doc(network: Network, w: _Writer) -> dict[str, Any]:
    layers = []
    for layer in network.layers:
        doc = {"type": type(layer).__name__}
        doc.update({f: w.value(getattr(layer, f)) for f in layer.__dataclass_fields__})
        layers.append(doc)
    return {
        "input_shape": list(network.input_shape),
        "max_rate": network.max_rate,
        "metadata": dict(network.metadata),
        "layers": layers,
    }


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
    w = _Writer()
    header = {
        "format": _FORMAT,
        "version": FORMAT_VERSION,
        "network": _network_doc(network, w),
        "simulation": None if simulation is None else _simulation_doc(simulation),
    }
    try:
        text = json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise LifBridgeError(
            f"cannot save {path}: network metadata must be JSON-serialisable ({exc})"
        ) from exc
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **{_HEADER: np.array(text)}, **w.arrays)
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


def load_network(path: str | os.PathLike[str]) -> Network:
    """Read a network description written by :func:`save_network`."""
    return load_network_and_simulation(path)[0]


def load_network_and_simulation(
    path: str | os.PathLike[str],
) -> tuple[Network, Simulation | None]:
    """Read a network and, if the file has one, its simulation settings."""
    path = Path(path)
    header, arrays = _read(path)
    try:
        doc = header["network"]
        check_count(len(doc["layers"]), "layers", what=f"{path}: number of layers")
        check_shape(doc["input_shape"], what=f"{path}: input size")
        layers = []
        for i, item in enumerate(doc["layers"]):
            item = dict(item)
            kind = item.pop("type", None)
            cls = _LAYERS.get(kind) if isinstance(kind, str) else None
            if cls is None:
                raise FileFormatError(
                    f"{path}: layer {i}: unknown layer type {kind!r}; known types: "
                    f"{', '.join(_LAYERS)} (written by a newer or another program?)"
                )
            fields = {k: _resolve(v, arrays, path) for k, v in item.items()}
            if "neurons" in fields:
                fields["neurons"] = Neurons(
                    **{k: _resolve(v, arrays, path) for k, v in fields["neurons"].items()}
                )
            for key in ("stride", "padding", "dilation", "kernel_size"):
                if isinstance(fields.get(key), list):
                    fields[key] = tuple(fields[key])
            layers.append(cls(**fields))
        network = Network(
            input_shape=tuple(doc["input_shape"]),
            layers=tuple(layers),
            max_rate=doc.get("max_rate"),
            metadata=doc.get("metadata", {}),
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
