"""``lif-bridge export``: a saved network description -> another format (NIR)."""

from __future__ import annotations

import argparse
import sys
import warnings

from lif_bridge.cli.common import emit

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``export`` sub-command."""
    p = sub.add_parser(
        "export",
        help="export a network file to NIR (.nir, needs lif-bridge[nir])",
        description="Write a saved network (and its simulation settings, if the file has "
        "them) as a NIR graph (HDF5 .nir) with lif_bridge.nir.write_nir; what NIR cannot say "
        "travels in the graph's 'lif_bridge' metadata, and a note on stderr lists what a reader "
        "ignoring it loses.",
    )
    p.add_argument("network", metavar="NET", help="network file (.npz) to export")
    p.add_argument("--to", choices=("nir",), required=True, help="target format")
    p.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_export)


def _export(args: argparse.Namespace) -> int:
    from lif_bridge.fileio import check_writable
    from lif_bridge.network.io import load_network_and_simulation
    from lif_bridge.nir import NirExportWarning, to_nir, write_nir
    from lif_bridge.nir._lazy import import_nir

    import_nir()  # a missing extra fails before any work
    check_writable(args.output, what="-o/--output", inputs=[args.network])
    net, sim = load_network_and_simulation(args.network)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NirExportWarning)
        path = write_nir(args.output, net, sim)
    for w in caught:
        print(f"lif-bridge: note: {w.message}", file=sys.stderr)
    graph = to_nir(net, sim, warn=False)
    payload = {
        "output": str(path),
        "nodes": len(graph.nodes),
        "edges": len(graph.edges),
        "simulation": sim is not None,
    }
    text = f"wrote {path}: NIR graph of {len(graph.nodes)} nodes, {len(graph.edges)} edges"
    emit(payload, args.json, text)
    return 0
