"""Export: a :class:`~lif_bridge.network.Network` as a ``nir.NIRGraph`` (see the package doc)."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.fileio import atomic_path
from lif_bridge.network import (
    INPUT,
    AvgPool2d,
    Conv2d,
    Dense,
    Edge,
    Flatten,
    Identity,
    MaxPool2d,
    Network,
    Neurons,
    Population,
    Simulation,
)
from lif_bridge.network.io import encode_network
from lif_bridge.nir._lazy import import_nir

__all__ = ["METADATA_KEY", "NIR_FORMAT", "NirExportWarning", "to_nir", "write_nir"]

#: The graph-metadata key holding what NIR cannot say (see the package documentation).
METADATA_KEY = "lif_bridge"
#: The ``format`` value under :data:`METADATA_KEY`.
NIR_FORMAT = "lif-bridge-nir"


class NirExportWarning(UserWarning):
    """What a reader that ignores the ``lif_bridge`` metadata loses."""


def map_name(population: str, k: int) -> str:
    """NIR name of the weighted map of projection ``k`` of ``population``."""
    return f"{population}.p{k}"


def stage_name(population: str, k: int, j: int) -> str:
    """NIR name of stage ``j`` of projection ``k`` of ``population``."""
    return f"{population}.p{k}.s{j}"


def output_name(network: Network) -> str:
    """NIR name of the Output node (``output``, unless a population has that name)."""
    names = {p.name for p in network.populations}
    return "output" if "output" not in names else "output.nir"


def neuron_node(nir: Any, neurons: Neurons, shape: tuple[int, ...]) -> Any:
    r"""The NIR neuron node of a population: IF without leak, else LIF.

    ``IF``: ``r = 1 / C_m``. ``LIF``: ``tau = C_m / g_l``, ``r = 1 / g_l``, ``v_leak = v_rest``
    (``inf`` where a neuron of a leaky population has ``g_l = 0``). Both: ``v_threshold = V_th``,
    ``v_reset = v_reset``.
    """
    p = {k: v.reshape(shape) for k, v in neurons.broadcast(int(np.prod(shape))).items()}
    if neurons.kind == "if":
        return nir.IF(r=1.0 / p["c_m"], v_threshold=p["v_th"], v_reset=p["v_reset"])
    with np.errstate(divide="ignore"):
        tau, r = p["c_m"] / p["g_l"], 1.0 / p["g_l"]
    return nir.LIF(tau=tau, r=r, v_leak=p["v_rest"], v_threshold=p["v_th"], v_reset=p["v_reset"])


def _bias(edge: Edge, pop: Population, left: np.ndarray | None) -> np.ndarray | None:
    """The bias the map can carry for the remaining ``left`` bias (``None``: it cannot)."""
    if left is None:
        return None
    if isinstance(edge.map, Dense):
        return left.reshape(-1)
    if isinstance(edge.map, Conv2d):
        per_unit = left.reshape(pop.shape[0], -1)
        if np.all(per_unit == per_unit[:, :1]):
            return per_unit[:, 0].copy()
    return None


def _map_node(nir: Any, edge: Edge, bias: np.ndarray | None) -> Any:
    m = edge.map
    if isinstance(m, Dense):
        b = np.zeros(m.n_units) if bias is None else bias
        return nir.Affine(weight=np.asarray(m.weight, dtype=np.float64), bias=b)
    if isinstance(m, Conv2d):
        b = np.zeros(m.n_units) if bias is None else bias
        return nir.Conv2d(
            input_shape=tuple(edge.input_shape[1:]),
            weight=np.asarray(m.weight, dtype=np.float64),
            stride=tuple(m.stride),  # type: ignore[arg-type]
            padding=tuple(m.padding),  # type: ignore[arg-type]
            dilation=tuple(m.dilation),  # type: ignore[arg-type]
            groups=int(m.groups),
            bias=b,
        )
    assert isinstance(m, Identity)  # Projection admits Dense, Conv2d, Identity only
    shape = edge.input_shape
    scale = np.broadcast_to(m.unit_scale(shape).reshape(shape), shape).copy()
    return nir.Scale(scale=scale)


def _stage_nodes(nir: Any, edge: Edge) -> list[Any]:
    nodes = []
    shape = edge.source_shape
    for st in edge.stages:
        if isinstance(st, Flatten):
            nodes.append(nir.Flatten(input_type={"input": np.array(shape)}, start_dim=0))
        else:
            assert isinstance(st, (AvgPool2d, MaxPool2d))
            nodes.append(
                nir.AvgPool2d(
                    kernel_size=np.array(st.kernel_size),
                    stride=np.array(st.stride),
                    padding=np.array([0, 0]),
                )
            )
        shape = st.output_shape(shape)
    return nodes


def _graph_nodes(nir: Any, network: Network) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    nodes: dict[str, Any] = {INPUT: nir.Input(input_type={"input": np.array(network.input_shape)})}
    edges: list[tuple[str, str]] = []

    def add(name: str, node: Any) -> None:
        if name in nodes:
            raise ValidationError(
                f"to_nir: NIR node name {name!r} is taken twice; rename population {name!r}"
            )
        nodes[name] = node

    for pop in network.populations:
        add(pop.name, neuron_node(nir, pop.neurons, pop.shape))
        left: np.ndarray | None = np.broadcast_to(pop.neurons.i_bias, (pop.size,)).copy()
        for k, edge in enumerate(pop.projections):
            prev = edge.source_name
            for j, node in enumerate(_stage_nodes(nir, edge)):
                add(stage_name(pop.name, k, j), node)
                edges.append((prev, stage_name(pop.name, k, j)))
                prev = stage_name(pop.name, k, j)
            bias = _bias(edge, pop, left)
            if bias is not None:
                left = None
            add(map_name(pop.name, k), _map_node(nir, edge, bias))
            edges.append((prev, map_name(pop.name, k)))
            edges.append((map_name(pop.name, k), pop.name))
    out = output_name(network)
    add(out, nir.Output(output_type={"output": np.array(network.output.shape)}))
    edges.append((network.output.name, out))
    return nodes, edges


def _weight_refs(network: Network, doc: dict[str, Any]) -> dict[str, list[str]]:
    """``{"a<i>": [nir node, "weight"]}`` for every weight the graph's map nodes hold."""
    refs: dict[str, list[str]] = {}
    if "layers" in doc:
        weighted = [d for d in doc["layers"] if d["type"] in ("Dense", "Conv2d")]
        maps = [[d] for d in weighted]
    else:
        maps = [[p["map"] for p in n["projections"]] for n in doc["nodes"]]
    for pop, docs in zip(network.populations, maps, strict=True):
        for k, d in enumerate(docs):
            if d["type"] in ("Dense", "Conv2d"):
                refs[d["weight"][1:]] = [map_name(pop.name, k), "weight"]
    return refs


def _losses(network: Network, simulation: Simulation | None) -> list[str]:
    """What a reader that ignores the ``lif_bridge`` metadata loses, one phrase each."""
    pops = network.populations
    lost = ["the v >= v_th rule and the discrete step order"]
    if any(p.neurons.reset == "subtract" for p in pops):
        lost.append("subtractive reset (NIR resets to v_reset)")
    if any(p.neurons.refractory > 0 for p in pops):
        lost.append("refractory periods")
    if any(e.delay for p in pops for e in p.projections):
        lost.append("projection delays")
    if any(e.gates for p in pops for e in p.projections):
        lost.append("spiking max pools (written as AvgPool2d)")
    if any(p.neurons.kind == "if" and np.any(np.asarray(p.neurons.v_rest) != 0) for p in pops):
        lost.append("the initial potential v_rest of IF neurons")
    if network.max_rate is not None or simulation is not None:
        lost.append("max_rate, encoder and simulation settings")
    lost.append("the ANN-view fields (ann_bias, ann_activation, rate_scale)")
    return lost


def _json(header: dict[str, Any]) -> str:
    try:
        return json.dumps(header, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            f"to_nir: network metadata must be JSON-serialisable ({exc})"
        ) from exc


def to_nir(network: Network, simulation: Simulation | None = None, *, warn: bool = True) -> Any:
    """``network`` (and optionally its ``simulation``) as a ``nir.NIRGraph``.

    Parameters
    ----------
    network
        Any lif-bridge network (chain or graph).
    simulation
        Simulation settings to carry in the metadata (read back by :func:`read_nir`).
    warn
        Emit a :class:`NirExportWarning` listing what a metadata-ignoring reader loses.

    Returns
    -------
    nir.NIRGraph
        The graph; ``graph.metadata["lif_bridge"]`` makes :func:`from_nir` exact.
    """
    nir = import_nir()
    nodes, edges = _graph_nodes(nir, network)
    header, arrays = encode_network(network, simulation)
    refs = _weight_refs(network, header["network"])
    metadata = {
        METADATA_KEY: {
            "format": NIR_FORMAT,
            "version": 1,
            "header": _json(header),
            "refs": json.dumps(refs),
            "arrays": {k: v for k, v in arrays.items() if k not in refs},
        }
    }
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata=metadata, type_check=False)
    if warn:
        warnings.warn(
            "NIR export: a reader that ignores the 'lif_bridge' metadata loses "
            + "; ".join(_losses(network, simulation)),
            NirExportWarning,
            stacklevel=2,
        )
    return graph


def write_nir(
    path: str | os.PathLike[str],
    network: Network,
    simulation: Simulation | None = None,
    *,
    warn: bool = True,
) -> Path:
    """Write ``to_nir(network, simulation)`` to ``path`` (HDF5) atomically, umask honoured."""
    nir = import_nir()
    graph = to_nir(network, simulation, warn=warn)
    with atomic_path(path) as tmp:
        nir.write(tmp, graph)
    return Path(path)
