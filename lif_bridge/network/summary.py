"""Text summaries of a network: layers or nodes, shapes, neurons, synapses, and the edges."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lif_bridge.network.graph import Identity, Map
from lif_bridge.network.layers import Shape, WeightedLayer

if TYPE_CHECKING:
    from lif_bridge.network.network import Network

__all__ = ["chain_summary", "graph_summary", "map_synapses"]


def map_synapses(m: Map, input_shape: Shape) -> int:
    """Synapses of a projection's map: taps inside the input, one per unit for Identity."""
    if isinstance(m, Identity):
        return int(np.prod(input_shape))
    from lif_bridge.connectivity import synapse_count

    return synapse_count(m, input_shape)


def chain_summary(network: Network) -> str:
    """One row per layer; a weighted row ends with ``<- source`` (and the stages between)."""
    rows = [f"input {network.input_shape}"]
    feeds = {pop.name: pop.projections[0] for pop in network.populations}
    shape = network.input_shape
    for layer in network.layers:
        out = layer.output_shape(shape)
        line = f"{layer.name:<12} {type(layer).__name__:<10} {shape!s:>16} -> {out!s:<16}"
        if isinstance(layer, WeightedLayer):
            edge = feeds[layer.name]
            line += f" {layer.neurons.kind:<10} synapses={map_synapses(layer, shape):,}"
            line += f" <- {_via(edge.source_name, [s.name for s in edge.stages])}"
        rows.append(line)
        shape = out
    return "\n".join(rows)


def graph_summary(network: Network) -> str:
    """One row per population, then one indented row per incoming projection."""
    rows = [f"input {network.input_shape}"]
    for pop in network.populations:
        rows.append(
            f"{pop.name:<12} {'Node':<10} {pop.size:>8,} neurons {pop.shape!s:<16} "
            f"{pop.neurons.kind}"
        )
        for e in pop.projections:
            kind = type(e.map).__name__
            stages = [type(s).__name__ for s in e.stages]
            delay = f" delay={e.delay}" if e.delay else ""
            rows.append(
                f"  <- {_via(e.source_name, stages):<28} {kind:<8} {e.input_shape!s:>16} "
                f"synapses={map_synapses(e.map, e.input_shape):,}{delay}"
            )
    return "\n".join(rows)


def _via(source: str, stages: list[str]) -> str:
    return source if not stages else f"{source} via {', '.join(stages)}"
