"""Import: a ``nir.NIRGraph`` or ``.nir`` file as a :class:`~lif_bridge.network.Network`.

The graph is checked first (known node kinds, edges between existing nodes, no cycle, finite
parameters; each error names the node). A graph written by :func:`lif_bridge.to_nir` carries
the ``lif_bridge`` metadata and comes back exactly; the weights are read from its map nodes.
A graph without it (another tool's) is read node by node (:mod:`lif_bridge.nir.foreign`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.errors import FileFormatError
from lif_bridge.limits import check_count
from lif_bridge.network import Network, Simulation
from lif_bridge.network.io import FORMAT_VERSION, decode_network
from lif_bridge.nir._lazy import import_nir
from lif_bridge.nir.export import METADATA_KEY, NIR_FORMAT
from lif_bridge.nir.options import NirImportOptions
from lif_bridge.nir.subgraphs import flatten_subgraphs

__all__ = ["SUPPORTED_NODES", "check_graph", "from_nir", "load_graph", "read_nir"]

#: NIR node kinds lif-bridge reads.
SUPPORTED_NODES = (
    "Input",
    "Output",
    "Affine",
    "Linear",
    "Conv2d",
    "Scale",
    "Flatten",
    "SumPool2d",
    "AvgPool2d",
    "IF",
    "LIF",
    "CubaLIF",
    "Delay",
    "NIRGraph",
)
#: The newest NIR file format major version read.
_NIR_MAJOR = 1


def load_graph(graph_or_path: Any) -> tuple[Any, str]:
    """The ``nir.NIRGraph`` (read from a file if a path is given) and a name for messages.

    A file's size, node count and array bytes are checked against :mod:`lif_bridge.limits`
    from the HDF5 headers before ``nir.read`` allocates anything.
    """
    nir = import_nir()
    if not isinstance(graph_or_path, (str, os.PathLike)):
        if not isinstance(graph_or_path, nir.NIRGraph):
            raise FileFormatError(
                f"from_nir: expects a nir.NIRGraph or a .nir path, got "
                f"{type(graph_or_path).__name__}"
            )
        return graph_or_path, "NIR graph"
    path = Path(graph_or_path)
    if not path.is_file():
        raise FileFormatError(f"{path}: no such NIR file")
    import h5py

    check_count(path.stat().st_size, "file_bytes", what=f"{path}: file size (bytes)")
    try:
        with h5py.File(path, "r") as f:
            version = f["version"][()]
            kinds = _node_kinds(f)
            check_count(len(kinds), "layers", what=f"{path}: number of NIR nodes")
            check_count(_dataset_bytes(f), "memory_bytes", what=f"{path}: NIR arrays (bytes)")
    except (OSError, KeyError, TypeError) as exc:
        raise FileFormatError(f"{path}: not a NIR file (HDF5 with a version): {exc}") from exc
    for name, kind in kinds.items():
        if kind not in SUPPORTED_NODES:
            raise FileFormatError(
                f"{path}: node {name!r} is a {kind}, which lif-bridge does not support; "
                f"supported: {', '.join(SUPPORTED_NODES)}"
            )
    version = version.decode() if isinstance(version, bytes) else str(version)
    major = version.split(".")[0]
    if not major.isdigit() or int(major) > _NIR_MAJOR:
        raise FileFormatError(
            f"{path}: NIR version {version!r}; this lif-bridge reads NIR {_NIR_MAJOR}.x "
            "(upgrade lif-bridge)"
        )
    try:
        return nir.read(path, type_check=False), str(path)
    except Exception as exc:  # nir.read raises bare ValueError/KeyError/TypeError on bad nodes
        raise FileFormatError(
            f"{path}: unreadable NIR graph ({type(exc).__name__}: {exc})"
        ) from exc


def _dataset_bytes(f: Any) -> int:
    """Bytes of every dataset once read (uncompressed), from the HDF5 headers only."""
    import h5py

    total = 0

    def add(_name: str, item: Any) -> None:
        nonlocal total
        if isinstance(item, h5py.Dataset):
            total += int(item.size) * int(item.dtype.itemsize)

    f.visititems(add)
    return total


def _node_kinds(f: Any) -> dict[str, str]:
    """``{node name: type}`` of the top-level graph of an open NIR file (read before nir.read)."""
    kinds = {}
    for name, group in f["node"]["nodes"].items():
        kind = group["type"][()] if "type" in group else b"(no type)"
        kinds[str(name)] = kind.decode() if isinstance(kind, bytes) else str(kind)
    return kinds


def _check_cycle(where: str, names: list[str], edges: list[tuple[str, str]]) -> None:
    succ: dict[str, list[str]] = {n: [] for n in names}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    for start in names:
        if start in state:
            continue
        stack = [(start, iter(succ[start]))]
        path = [start]
        state[start] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(nxt) == 1:
                loop = [*path[path.index(nxt) :], nxt]
                raise FileFormatError(
                    f"{where}: the graph has a cycle {' -> '.join(loop)}; lif-bridge runs "
                    "feed-forward graphs only"
                )
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append((nxt, iter(succ[nxt])))


def check_graph(graph: Any, where: str) -> None:
    """Refuse unknown node kinds, dangling edges, cycles and non-finite parameters."""
    nir = import_nir()
    names = list(graph.nodes)
    for name, node in graph.nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED_NODES or not isinstance(node, nir.NIRNode):
            raise FileFormatError(
                f"{where}: node {name!r} is a {kind}, which lif-bridge does not support; "
                f"supported: {', '.join(SUPPORTED_NODES)}"
            )
        for field, value in vars(node).items():
            if (
                isinstance(value, np.ndarray)
                and value.dtype.kind in "fc"
                and not np.all(np.isfinite(value))
                and not _infinite_ok(kind, field, value)
            ):
                raise FileFormatError(
                    f"{where}: node {name!r} ({kind}) has NaN or infinite {field}"
                )
    edges = [(str(a), str(b)) for a, b in graph.edges]
    for a, b in edges:
        for end in (a, b):
            if end not in graph.nodes:
                raise FileFormatError(f"{where}: edge {a!r} -> {b!r} names no node {end!r}")
    _check_cycle(where, names, edges)


def _infinite_ok(kind: str, field: str, value: np.ndarray) -> bool:
    """LIF ``tau``/``r`` are ``+inf`` for non-leaky neurons of a leaky population."""
    return kind == "LIF" and field in ("tau", "r") and not np.any(np.isnan(value))


def _metadata_arrays(graph: Any, meta: Mapping[str, Any], where: str) -> dict[str, np.ndarray]:
    arrays = {str(k): np.asarray(v, dtype=np.float64) for k, v in meta["arrays"].items()}
    for key, (node, field) in json.loads(meta["refs"]).items():
        if node not in graph.nodes:
            raise FileFormatError(f"{where}: lif_bridge metadata names a missing node {node!r}")
        arrays[key] = np.asarray(getattr(graph.nodes[node], field), dtype=np.float64)
    return arrays


def _from_metadata(graph: Any, meta: Any, where: str) -> tuple[Network, Simulation | None]:
    try:
        if meta.get("format") != NIR_FORMAT or int(meta.get("version", 0)) != 1:
            raise FileFormatError(
                f"{where}: metadata {METADATA_KEY!r} is not lif-bridge NIR metadata version 1 "
                "(written by a newer lif-bridge?)"
            )
        header = json.loads(meta["header"])
        arrays = _metadata_arrays(graph, meta, where)
        version = header.get("version")
        if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
            raise FileFormatError(f"{where}: network description version {version!r} unknown")
    except FileFormatError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FileFormatError(f"{where}: invalid {METADATA_KEY!r} metadata ({exc})") from exc
    return decode_network(header, arrays, where)


def _unmapped_nodes(graph: Any, where: str, options: NirImportOptions) -> Any:
    """``graph`` with its ``None`` nodes (nirtorch's unmapped modules) as ``Flatten``, or refused.

    See :attr:`~lif_bridge.nir.NirImportOptions.none_as_flatten`.
    """
    missing = [str(n) for n, node in graph.nodes.items() if node is None]
    if not missing:
        return graph
    if not options.none_as_flatten:
        raise FileFormatError(
            f"{where}: node {missing[0]!r} is None: the exporter (nirtorch's extract_nir_graph, "
            "as in Norse's to_nir) wrote no node for a module it does not map (Norse: "
            "nn.Flatten); if every such module is a flatten, pass none_as_flatten=True"
        )
    nir = import_nir()
    nodes = {
        n: nir.Flatten(input_type=None, start_dim=0) if node is None else node
        for n, node in graph.nodes.items()
    }
    return nir.NIRGraph(nodes=nodes, edges=graph.edges, metadata=graph.metadata, type_check=False)


def read_nir(
    graph_or_path: Any, options: NirImportOptions | None = None
) -> tuple[Network, Simulation | None]:
    """The network and, if the graph carries them, the simulation settings.

    ``options`` (:class:`~lif_bridge.nir.NirImportOptions`) say how to read a graph of another
    tool (spike pulse length, the step for ``Delay`` nodes, ``CubaLIF``); a graph written by
    lif-bridge carries its exact description and ignores them.

    Raises
    ------
    FileFormatError
        A file that is not HDF5/NIR, a newer NIR version, an unknown node kind, a dangling
        edge, a cycle, NaN parameters, bad ``lif_bridge`` metadata; each names the node.
    """
    graph, where = load_graph(graph_or_path)
    options = NirImportOptions() if options is None else options
    graph = _unmapped_nodes(graph, where, options)
    graph = flatten_subgraphs(graph, where)
    check_graph(graph, where)
    meta = (graph.metadata or {}).get(METADATA_KEY)
    if meta is None:  # written by another tool
        from lif_bridge.nir.foreign import foreign_network

        return foreign_network(graph, where, options), None
    return _from_metadata(graph, meta, where)


def from_nir(graph_or_path: Any, **options: Any) -> Network:
    """The :class:`~lif_bridge.network.Network` of a ``nir.NIRGraph`` or ``.nir`` file.

    ``from_nir(to_nir(net)) == net`` exactly (all arrays and fields), also through a file
    (:func:`lif_bridge.write_nir`). ``options`` are the fields of
    :class:`~lif_bridge.nir.NirImportOptions` (``spike_dt``, ``dt``, ``tau_syn_max``,
    ``none_as_flatten``), for graphs of other tools. See :func:`read_nir` for the errors.
    """
    return read_nir(graph_or_path, NirImportOptions(**options))[0]
