r"""The neuron model of one population as Brian2 equations, and its exact step.

Each population is one ``NeuronGroup`` whose model is the membrane ODE with units (Lu & Xu
2022, Eq. 1, with the synaptic term carried by spikes)

.. math::

    \frac{dv}{dt} = \frac{-g_l (v - v_{rest}) + I_{bias}}{C_m}\quad[\mathrm{V/s}]

plus its constant parameters, threshold ``v >= v_th`` and reset ``v -= v_th`` (Linear LIF) or
``v = v_reset`` (reset-to-zero). The ODE is what :func:`describe` prints for a methods section.

How it is integrated. The step must equal the contract's phase A
(:mod:`lif_bridge.semantics`) bit for bit, ``v <- v_inf + (v - v_inf)·d`` with
``d = exp(-g_l·dt/C_m)`` and ``v_inf = v_rest + I_bias/g_l`` (``v <- v + I_bias·dt/C_m`` where
``g_l = 0``). Brian2's ``'exact'`` method solves the same ODE but writes the solution as another
expression (and divides by ``g_l``, NaN for IF neurons), which rounds differently in the last
bit and can flip a spike that lands exactly on threshold. :class:`ContractExact` is therefore a
custom state-update method: it emits the exact solution in the contract's form, using per-neuron
constants ``d_leak``, ``v_inf``, ``dv_if`` and ``leaky`` computed once in NumPy by
:func:`lif_bridge.semantics.leak_constants` (the very numbers the reference backend uses)::

    v_new = leaky*(v_inf + (v - v_inf)*d_leak) + (1 - leaky)*(v + dv_if)

``leaky`` is 1 or 0, so one of the two terms is an exact 0 and the other is kept unrounded.
Refractoriness gates the update the same way (``int(not_refractory)``), so a refractory
neuron keeps ``v`` exactly.
"""

from __future__ import annotations

from typing import Any

import brian2 as b2
import numpy as np
from brian2.stateupdaters.base import StateUpdateMethod

from lif_bridge.network import Neurons, Population
from lif_bridge.semantics import leak_constants, refractory_steps
from lif_bridge_brian2.units import UnitPreset

__all__ = ["ContractExact", "describe", "neuron_equations", "neuron_parameters", "on_pre_code"]

#: The membrane ODE shown to users (and declared in every population's model).
ODE = "dv/dt = (-g_l*(v - v_rest) + I_bias)/C_m : volt"

_PARAMS = """
C_m : farad (constant)          # membrane capacitance
g_l : siemens (constant)        # leak conductance (tau_m = C_m/g_l)
I_bias : amp (constant)         # constant bias current
v_rest : volt (constant)        # resting potential (initial value)
v_th : volt (constant)          # threshold
v_reset : volt (constant)       # reset potential of reset-to-zero neurons
inv_C_m : 1/farad (constant)    # 1/C_m: an input spike through w adds w*inv_C_m = w/C_m
d_leak : 1 (constant)           # exp(-g_l*dt/C_m), one step of leak
v_inf : volt (constant)         # v_rest + I_bias/g_l (0 where g_l = 0)
dv_if : volt (constant)         # I_bias*dt/C_m, the step of a non-leaky (IF) neuron
leaky : 1 (constant)            # 1 where g_l > 0, else 0
a_in : volt                     # synaptic jumps of this step, summed before they are applied
"""


class ContractExact(StateUpdateMethod):
    """Exact integration of the membrane ODE in the contract's arithmetic (see module docs)."""

    def __init__(self, refractory: bool) -> None:
        self.refractory = refractory

    def can_integrate(self, equations: Any, variables: Any, method_options: Any = None) -> bool:
        """Only ``v`` of the population model (checked by name)."""
        return set(equations.diff_eq_names) == {"v"}

    def __call__(self, equations: Any, variables: Any = None, method_options: Any = None) -> str:
        """Abstract code of one step (phase A)."""
        new = "leaky*(v_inf + (v - v_inf)*d_leak) + (1 - leaky)*(v + dv_if)"
        if not self.refractory:
            return f"v = {new}\n"
        return f"v_new = {new}\nv = int(not_refractory)*v_new + (1 - int(not_refractory))*v\n"


def neuron_equations(extra: str = "") -> b2.Equations:
    """The model of a population: the ODE, its parameters, and ``extra`` lines (counters)."""
    return b2.Equations(ODE + "\n" + _PARAMS + extra)


def neuron_parameters(
    pop: Population, dt: float, units: UnitPreset
) -> dict[str, b2.Quantity | np.ndarray]:
    """Per-neuron values of every parameter of :func:`neuron_equations`, as quantities.

    ``d_leak``, ``v_inf`` and ``dv_if`` are computed from the description's SI numbers exactly
    as the reference backend does, then given the preset's units.
    """
    nrn: Neurons = pop.layer.neurons
    p = nrn.broadcast(pop.size)
    d, v_inf = leak_constants(p["c_m"], p["g_l"], p["i_bias"], p["v_rest"], dt)
    leaky = p["g_l"] > 0
    v = units.voltage
    return {
        "C_m": p["c_m"] * units.capacitance,
        "g_l": p["g_l"] * units.conductance,
        "I_bias": p["i_bias"] * units.current,
        "v_rest": p["v_rest"] * v,
        "v_th": p["v_th"] * v,
        "v_reset": p["v_reset"] * v,
        "inv_C_m": (1.0 / p["c_m"]) / units.capacitance,
        "d_leak": d,
        "v_inf": np.where(leaky, v_inf, 0.0) * v,
        "dv_if": (p["i_bias"] * dt / p["c_m"]) * v,
        "leaky": leaky.astype(np.float64),
    }


def reset_code(pop: Population) -> str:
    """``v -= v_th`` (Linear LIF) or ``v = v_reset`` (reset-to-zero)."""
    return "v -= v_th" if pop.layer.neurons.reset == "subtract" else "v = v_reset"


def refractory_period(pop: Population, dt: float) -> b2.Quantity | bool:
    """``R·dt`` with ``R = round(refractory/dt)`` (contract phase D), or ``False`` if ``R = 0``.

    Brian2 counts ``timestep(t - lastspike) < timestep(refractory)``; a whole number of steps
    makes that the contract's ``n' - n < R``.
    """
    r = refractory_steps(pop.layer.neurons.refractory, dt)
    return r * dt * b2.second if r > 0 else False


def on_pre_code() -> str:
    """Synaptic event: add the jump ``w/C_m`` (as ``w*inv_C_m``) to this step's sum."""
    return "a_in_post += w*inv_C_m_post"


def apply_input_code(refractory: bool, analog: bool = False) -> str:
    """Phase C end: add the step's summed jumps to ``v`` (dropped while refractory)."""
    total = "(a_in + a_ext)" if analog else "a_in"
    gate = "int(not_refractory)*" if refractory else ""
    return f"v += {gate}{total}\na_in = 0*volt"


def describe(network_map: Any) -> str:
    """Equations, threshold, reset and synapses of every population, with units.

    Parameters
    ----------
    network_map
        The :class:`lif_bridge_brian2.lowering.LayerMap` returned by ``to_brian2``.

    Returns
    -------
    str
        A plain-text block for a methods section: the ODE with units and the meaning of every
        parameter, the event rules, the values (scalar or range) of each population, and the
        synaptic rule of each layer.
    """
    lines: list[str] = []
    units: UnitPreset = network_map.units
    lines.append(
        f"Brian2 model (units preset {units.name!r}; dt = {network_map.dt * b2.second!s}; "
        "integration: exact solution per step, see lif_bridge_brian2.equations)"
    )
    for name, group in network_map.groups.items():
        pop = network_map.populations[name]
        lines.append("")
        lines.append(f"Population {name!r}: {pop.size} neurons, shape {pop.shape}")
        for eq in str(group.equations).splitlines():
            if eq.strip().startswith(("d_leak", "v_inf", "dv_if", "leaky", "inv_C_m", "a_in")):
                continue
            lines.append(f"    {eq.strip()}")
        lines.append("    threshold: v >= v_th")
        lines.append(f"    reset:     {reset_code(pop)}")
        ref = refractory_period(pop, network_map.dt)
        if ref is not False:
            lines.append(f"    refractory: {ref!s} (synaptic input dropped while refractory)")
        values = neuron_parameters(pop, network_map.dt, units)
        for var in ("C_m", "g_l", "I_bias", "v_th", "v_rest", "v_reset"):
            vals = values[var]
            lo, hi = np.min(vals), np.max(vals)
            shown = f"{lo!s}" if lo == hi else f"{lo!s} .. {hi!s}"
            lines.append(f"    {var} = {shown}")
        n_syn = network_map.synapse_counts.get(name, 0)
        lines.append(
            f"    input synapses: {n_syn:,}, on_pre: v_post += w/C_m_post "
            f"(w in {units.charge!s}; added once per step, dropped while refractory)"
        )
    return "\n".join(lines)
