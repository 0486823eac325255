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
constants ``d_leak``, ``v_inf``, ``dv_if`` and ``leaky`` computed in NumPy by
:func:`lif_bridge.semantics.leak_constants` (the very numbers the reference backend uses)::

    v_new = leaky*(v_inf + (v - v_inf)*d_leak) + (1 - leaky)*(v + dv_if)

``leaky`` is 1 or 0, so one of the two terms is an exact 0 and the other is kept unrounded.
Refractoriness gates the update the same way (``int(not_refractory)``), so a refractory
neuron keeps ``v`` exactly.

Parameters and derived constants. The variables of :data:`PARAMETERS` are the model's
parameters: a lab may edit them on the returned ``NeuronGroup`` (and ``w`` on the
``Synapses``) between runs. The variables of :data:`DERIVED` are functions of them
(:func:`derived_constants`); :class:`lif_bridge_brian2.populations.LIFGroup` recomputes them in
NumPy before every run, so an edit takes effect and the run stays identical to the reference
for the edited description; an edit of a derived variable itself is refused.
"""

from __future__ import annotations

from typing import Any

import brian2 as b2
import numpy as np
from brian2.stateupdaters.base import StateUpdateMethod

from lif_bridge.network import Neurons, Population
from lif_bridge.semantics import leak_constants, refractory_steps

__all__ = [
    "DERIVED",
    "ODE",
    "PARAMETERS",
    "ContractExact",
    "apply_input_code",
    "derived_constants",
    "neuron_equations",
    "neurons_of",
    "on_pre_code",
    "parameter_values",
    "reset_code",
]

#: The membrane ODE shown to users (and declared in every population's model).
ODE = "dv/dt = (-g_l*(v - v_rest) + I_bias)/C_m : volt"

#: Editable parameters: Brian2 name -> (description field, kind of unit, meaning).
PARAMETERS: dict[str, tuple[str, str, str]] = {
    "C_m": ("c_m", "capacitance", "membrane capacitance"),
    "g_l": ("g_l", "conductance", "leak conductance (tau_m = C_m/g_l)"),
    "I_bias": ("i_bias", "current", "constant bias current"),
    "v_rest": ("v_rest", "voltage", "resting potential (and the potential at a window start)"),
    "v_th": ("v_th", "voltage", "threshold"),
    "v_reset": ("v_reset", "voltage", "reset potential of reset-to-zero neurons"),
    "t_ref": ("refractory", "time", "refractory period, used as round(t_ref/dt) steps"),
}

#: Derived constants (never edit them; they follow the parameters): name -> kind, meaning.
DERIVED: dict[str, tuple[str, str]] = {
    "inv_C_m": ("inverse_capacitance", "1/C_m: an input spike through w adds w*inv_C_m"),
    "d_leak": ("one", "exp(-g_l*dt/C_m), one step of leak"),
    "v_inf": ("voltage", "v_rest + I_bias/g_l (0 where g_l = 0)"),
    "dv_if": ("voltage", "I_bias*dt/C_m, the step of a non-leaky (IF) neuron"),
    "leaky": ("one", "1 where g_l > 0, else 0"),
    "t_ref_steps": ("time", "round(t_ref/dt)*dt, the refractory period Brian2 counts"),
}

_UNITS = {
    "C_m": "farad",
    "g_l": "siemens",
    "I_bias": "amp",
    "v_rest": "volt",
    "v_th": "volt",
    "v_reset": "volt",
    "t_ref": "second",
    "inv_C_m": "1/farad",
    "d_leak": "1",
    "v_inf": "volt",
    "dv_if": "volt",
    "leaky": "1",
    "t_ref_steps": "second",
}

#: Variables with one value per population (Brian2 ``shared``).
SHARED = ("t_ref", "t_ref_steps")


def _declaration(name: str, meaning: str) -> str:
    flags = "constant, shared" if name in SHARED else "constant"
    return f"{name} : {_UNITS[name]} ({flags})  # {meaning}\n"


class ContractExact(StateUpdateMethod):
    """Exact integration of the membrane ODE in the contract's arithmetic (see module docs)."""

    def can_integrate(self, equations: Any, variables: Any, method_options: Any = None) -> bool:
        """Only ``v`` of the population model (checked by name)."""
        return set(equations.diff_eq_names) == {"v"}

    def __call__(self, equations: Any, variables: Any = None, method_options: Any = None) -> str:
        """Abstract code of one step (phase A), frozen while refractory."""
        new = "leaky*(v_inf + (v - v_inf)*d_leak) + (1 - leaky)*(v + dv_if)"
        return f"v_new = {new}\nv = int(not_refractory)*v_new + (1 - int(not_refractory))*v\n"


def neuron_equations(extra: str = "") -> b2.Equations:
    """The model of a population: the ODE, its parameters, derived constants, ``extra`` lines."""
    lines = [ODE]
    lines += [_declaration(n, meaning) for n, (_, _, meaning) in PARAMETERS.items()]
    lines += [_declaration(n, meaning) for n, (_, meaning) in DERIVED.items()]
    lines.append("a_in : volt  # synaptic jumps of this step, summed before they are applied")
    return b2.Equations("\n".join(lines) + "\n" + extra)


def parameter_values(pop: Population) -> dict[str, np.ndarray]:
    """The description's SI numbers of every parameter of :data:`PARAMETERS` (per neuron;
    ``t_ref`` one value)."""
    nrn = neurons_of(pop)
    per_neuron = nrn.broadcast(pop.size)
    out = {name: per_neuron[field] for name, (field, _, _) in PARAMETERS.items() if name != "t_ref"}
    out["t_ref"] = np.array([float(nrn.refractory)])
    return out


def derived_constants(values: dict[str, np.ndarray], dt: float) -> dict[str, np.ndarray]:
    """Derived constants (SI numbers) from parameter values (SI numbers), as the reference does.

    ``d_leak, v_inf`` come from :func:`lif_bridge.semantics.leak_constants`; ``dv_if`` is
    ``I_bias·dt/C_m``; ``t_ref_steps`` is ``R·dt`` with ``R = round(t_ref/dt)``
    (:func:`lif_bridge.semantics.refractory_steps`), which Brian2's
    ``timestep(t - lastspike) < timestep(t_ref_steps)`` counts as the contract's ``R`` steps.
    """
    c_m, g_l, i_b, v_rest = (values[k] for k in ("C_m", "g_l", "I_bias", "v_rest"))
    d, v_inf = leak_constants(c_m, g_l, i_b, v_rest, dt)
    leaky = g_l > 0
    steps = refractory_steps(float(values["t_ref"][0]), dt)
    return {
        "inv_C_m": 1.0 / c_m,
        "d_leak": d,
        "v_inf": np.where(leaky, v_inf, 0.0),
        "dv_if": i_b * dt / c_m,
        "leaky": leaky.astype(np.float64),
        "t_ref_steps": np.array([steps * dt]),
    }


def reset_code(pop: Population) -> str:
    """``v -= v_th`` (Linear LIF) or ``v = v_reset`` (reset-to-zero)."""
    return "v -= v_th" if neurons_of(pop).reset == "subtract" else "v = v_reset"


def on_pre_code(delay: int = 0) -> str:
    """Synaptic event: add the synapse's ``jump`` (``w*inv_C_m_post``, derived before every run
    by :class:`lif_bridge_brian2.synapses.JumpSynapses`) to this step's sum.

    With a delay of ``d`` steps an event arriving in the first ``d`` steps of a window started
    in the previous sample and is dropped (each sample starts with empty delay lines).
    """
    if delay:
        return f"a_in_post += int(t_in_timesteps % W_steps >= {delay})*jump"
    return "a_in_post += jump"


def neurons_of(pop: Population) -> Neurons:
    """The neurons of a population (chain or graph description)."""
    nrn = getattr(pop, "neurons", None)
    return nrn if nrn is not None else pop.layer.neurons


def apply_input_code(analog: tuple[int, ...] = ()) -> str:
    """Phase C end: add the step's summed jumps (and the summed analog inputs ``a_ext<k>`` of
    the edges ``k`` in ``analog``) to ``v``, dropped while refractory.

    Refractory is counted here from the steps since the last spike, ``n' - n < R``, not read
    from Brian2's ``not_refractory``: the threshold clears that flag in the spike's own step
    even when ``R = 0``, where the contract keeps the input.
    """
    total = "(" + " + ".join(["a_in", *(f"a_ext{k}" for k in analog)]) + ")"
    gate = "int(timestep(t - lastspike, dt) >= timestep(t_ref_steps, dt))"
    return f"v += {gate}*{total}\na_in = 0*volt"
