"""A methods-section description of the Brian2 objects: equations, parameters, synapses."""

from __future__ import annotations

import brian2 as b2
import numpy as np

from lif_bridge_brian2.equations import DERIVED, PARAMETERS, reset_code
from lif_bridge_brian2.lowering import LayerMap

__all__ = ["describe"]


def _shown(values: np.ndarray, unit: b2.Quantity) -> str:
    lo, hi = float(np.min(values)), float(np.max(values))
    return f"{lo * unit!s}" if lo == hi else f"{lo * unit!s} .. {hi * unit!s}"


def describe(network_map: LayerMap) -> str:
    """Equations, parameters, threshold, reset and synapses of every population, with units.

    Parameters
    ----------
    network_map
        The :class:`lif_bridge_brian2.lowering.LayerMap` returned by ``to_brian2``.

    Returns
    -------
    str
        A plain-text block for a methods section: the ODE with units, which variables are the
        model's parameters (editable on the groups; the derived constants follow them before
        every run) and their current values (scalar or range) per population, the event rules,
        and the synaptic rule of each layer.
    """
    units = network_map.units
    lines = [
        f"Brian2 model (units preset {units.name!r}; dt = {network_map.dt * b2.second!s}; "
        "integration: exact solution per step, see lif_bridge_brian2.equations)",
        "Parameters (edit them on the NeuronGroups between runs; they take effect at the next "
        f"run): {', '.join(PARAMETERS)}, and w on the Synapses.",
        f"Derived constants (recomputed from the parameters before every run; never edit): "
        f"{', '.join(DERIVED)}.",
    ]
    for name, group in network_map.groups.items():
        pop = network_map.populations[name]
        lines += ["", f"Population {name!r}: {pop.size} neurons, shape {pop.shape}"]
        for eq in str(group.equations).splitlines():
            if not eq.strip().startswith(
                (*DERIVED, "a_in", "a_ext", "c_pool", "lastspike", "not_ref")
            ):
                lines.append(f"    {eq.strip()}")
        lines.append("    threshold: v >= v_th")
        lines.append(f"    reset:     {reset_code(pop)}")
        values = group.parameters()
        for var, (_, kind, meaning) in PARAMETERS.items():
            unit = units.scale(kind) * b2.get_unit(group.variables[var].dim)
            lines.append(f"    {var} = {_shown(values[var], unit)}  ({meaning})")
        n_syn = network_map.synapse_counts.get(name, 0)
        lines.append(
            f"    input synapses: {n_syn:,}, on_pre: v_post += w/C_m_post "
            f"(w in {units.charge!s}, the layer's weights composed with the pooling in front; "
            "stored as the derived jump = w*inv_C_m_post, recomputed before every run; "
            "added once per step, dropped while refractory)"
        )
    return "\n".join(lines)
