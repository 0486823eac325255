"""Nested ``NIRGraph`` nodes (subgraphs) spliced into one flat graph before it is read.

A subgraph node ``s`` becomes its nodes, named ``s.<inner>``; an edge into ``s`` (or into
``s.<its Input>``) goes to what its ``Input`` feeds, an edge out of ``s`` (or ``s.<its Output>``)
leaves from what feeds its ``Output``; the inner ``Input``/``Output`` nodes disappear. Nested
subgraphs are flattened first (innermost out). A recurrent subgraph (snnTorch's ``RLeaky``)
flattens into a cycle, which :func:`lif_bridge.nir.importer.check_graph` then refuses by name.
"""

from __future__ import annotations

from typing import Any

from lif_bridge.errors import FileFormatError
from lif_bridge.nir._lazy import import_nir

__all__ = ["flatten_subgraphs"]


def _ports(name: str, inner: Any, where: str) -> tuple[str, str]:
    kinds = {k: type(v).__name__ for k, v in inner.nodes.items()}
    ins = [k for k, kind in kinds.items() if kind == "Input"]
    outs = [k for k, kind in kinds.items() if kind == "Output"]
    if len(ins) != 1 or len(outs) != 1:
        raise FileFormatError(
            f"{where}: subgraph {name!r} has {len(ins)} Input and {len(outs)} Output nodes; "
            "lif-bridge flattens subgraphs with one of each"
        )
    return f"{name}.{ins[0]}", f"{name}.{outs[0]}"


def _splice(edges: list[tuple[str, str]], port: str) -> list[tuple[str, str]]:
    """``edges`` without the pass-through node ``port``: each of its inputs to each output."""
    preds = [a for a, b in edges if b == port]
    succs = [b for a, b in edges if a == port]
    return [e for e in edges if port not in e] + [(a, b) for a in preds for b in succs]


def flatten_subgraphs(graph: Any, where: str) -> Any:
    """``graph`` with every nested ``NIRGraph`` node spliced in (``graph`` if it has none)."""
    nir = import_nir()
    if not any(isinstance(n, nir.NIRGraph) for n in graph.nodes.values()):
        return graph
    nodes: dict[str, Any] = {}
    edges: list[tuple[str, str]] = []
    ports: dict[str, tuple[str, str]] = {}
    for name, node in graph.nodes.items():
        if not isinstance(node, nir.NIRGraph):
            nodes[name] = node
            continue
        inner = flatten_subgraphs(node, f"{where}: subgraph {name!r}")
        ports[name] = _ports(name, inner, where)
        for k, v in inner.nodes.items():
            full = f"{name}.{k}"
            if full in graph.nodes:
                raise FileFormatError(
                    f"{where}: node {full!r} exists both in subgraph {name!r} and outside it"
                )
            nodes[full] = v
        edges += [(f"{name}.{a}", f"{name}.{b}") for a, b in inner.edges]
    for a, b in graph.edges:
        a, b = str(a), str(b)
        edges.append((ports[a][1] if a in ports else a, ports[b][0] if b in ports else b))
    for inp, out in ports.values():
        edges = _splice(_splice(edges, inp), out)
        del nodes[inp], nodes[out]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=graph.metadata, type_check=False)
