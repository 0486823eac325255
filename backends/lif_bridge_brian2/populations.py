r"""Populations as ``NeuronGroup``\ s whose parameters a lab may edit between runs.

:class:`LIFGroup` is a :class:`brian2.NeuronGroup` of the model in :mod:`.equations`. Its
parameters (``C_m, g_l, I_bias, v_rest, v_th, v_reset, t_ref``) are ordinary variables: change
them (``group.g_l = 2*nS``) and run again. The derived constants the exact step reads
(``inv_C_m, d_leak, v_inf, dv_if, leaky, t_ref_steps``) are recomputed in NumPy, with the
reference's own functions, in :meth:`LIFGroup.before_run`, which Brian2 calls at the start of
every ``Network.run`` on every device; so an edit takes effect and the run stays identical to the
reference for the edited description. Refused, with a :class:`~lif_bridge.errors.BackendError`
naming the group and the variable:

* an edit of a derived constant (it would silently disagree with the parameters; in
  standalone mode an edit by a string expression cannot be seen, and is overwritten);
* in standalone mode, a parameter set from a string expression (its values are only known
  inside the compiled binary, so the constants cannot be derived before the run);
* a ``t_ref`` that differs between neurons (the description has one refractory period per
  population).

Not covered: a parameter changed *after* a standalone build through Brian2's
``device.run(run_args=...)`` reaches the binary without its derived constants; change parameters
before the build (the backend's own standalone runs only replace the input table).

Unedited values keep the description's exact numbers (a preset other than SI would otherwise
round on the way back from Brian2's SI storage).
"""

from __future__ import annotations

from typing import Any

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError
from lif_bridge.network import Population
from lif_bridge_brian2.equations import (
    DERIVED,
    PARAMETERS,
    ContractExact,
    derived_constants,
    neuron_equations,
    parameter_values,
    reset_code,
)
from lif_bridge_brian2.units import UnitPreset

__all__ = ["LIFGroup"]

#: Values remembered per derived constant (states a ``Network.restore`` may bring back).
_HISTORY = 256


class LIFGroup(b2.NeuronGroup):  # type: ignore[misc]
    """One population: model, threshold, reset and refractoriness of the contract.

    Parameters
    ----------
    pop
        The description's population.
    dt
        Time step [s].
    units
        Unit preset of the parameter values.
    extra
        Further model lines (max-pool counter, analog input).
    clock, name, namespace
        As for :class:`brian2.NeuronGroup`.
    """

    def __init__(
        self,
        pop: Population,
        *,
        dt: float,
        units: UnitPreset,
        extra: str,
        clock: b2.Clock,
        name: str,
        namespace: dict[str, Any],
    ) -> None:
        # Brian2 groups accept new attributes only before their __init__ (then only variables).
        self.lif_dt = dt
        self.lif_units = units
        self.lif_population = pop
        values = parameter_values(pop)
        self._description = values
        self._stored: dict[str, np.ndarray] = {}
        self._derived: dict[str, dict[bytes, None]] = {}
        super().__init__(
            pop.size,
            neuron_equations(extra),
            threshold="v >= v_th",
            reset=reset_code(pop),
            refractory="t_ref_steps",
            method=ContractExact(),
            clock=clock,
            name=name,
            namespace=namespace,
        )
        self._stored.update({k: self._write(k, v) for k, v in values.items()})
        for name, value in derived_constants(values, dt).items():
            self._written(name, self._write(name, value))
        # v starts at v_rest; written as numbers (an expression would generate code)
        self.variables["v"].set_value(self._stored["v_rest"] * 1.0)

    # ------------------------------------------------------------------ values
    def _scale(self, name: str) -> float:
        kind = PARAMETERS[name][1] if name in PARAMETERS else DERIVED[name][0]
        return self.lif_units.scale(kind)

    def _write(self, name: str, value: np.ndarray) -> np.ndarray:
        """Set ``name`` from description numbers; return the SI numbers stored."""
        stored = np.asarray(value, dtype=np.float64) * self._scale(name)
        self.variables[name].set_value(stored if stored.size > 1 else stored.reshape(()))
        return stored

    def _read(self, name: str) -> np.ndarray:
        try:
            value = self.variables[name].get_value()
        except NotImplementedError as exc:
            raise BackendError(
                f"brian2 backend: {self.name}.{name} was set from a string expression in "
                "standalone mode, so the constants derived from it (d_leak, v_inf, ...) cannot "
                f"be computed before the run; set {name} with numbers (an array or a quantity)"
            ) from exc
        return np.array(value, dtype=np.float64, copy=True).reshape(-1)

    def parameters(self) -> dict[str, np.ndarray]:
        """The current parameter values, as the description's SI numbers (per neuron;
        ``t_ref`` one value)."""
        out = {}
        for name, built in self._stored.items():
            now = self._read(name)
            same = now.shape == built.reshape(-1).shape and np.array_equal(now, built.reshape(-1))
            out[name] = self._description[name] if same else now / self._scale(name)
        if out["t_ref"].size != 1:
            raise BackendError(
                f"brian2 backend: {self.name}.t_ref must be one value for the population "
                "(the description has one refractory period per population)"
            )
        return out

    def update_derived(self) -> None:
        """Recompute the derived constants from the current parameters (see the module docs).

        A derived constant must hold a value this group wrote (``Network.restore`` brings
        back parameters and constants together, as they were stored); anything else is an edit
        of the constant itself, refused.
        """
        for name, value in derived_constants(self.parameters(), self.lif_dt).items():
            now = self._known(name)
            if now is not None and now.tobytes() not in self._derived[name]:
                raise BackendError(
                    f"brian2 backend: {self.name}.{name} is derived from the parameters "
                    f"({', '.join(PARAMETERS)}) and recomputed before every run; edit those, "
                    f"not {name}"
                )
            want = (value * self._scale(name)).reshape(-1)
            if now is None or not np.array_equal(now, want):
                self._written(name, self._write(name, value))

    def _known(self, name: str) -> np.ndarray | None:
        """A derived constant's value, or ``None`` where standalone mode no longer knows it.

        Brian2's standalone device forgets the value of every variable a generated code object
        uses (a synapse's ``jump = w*inv_C_m_post`` reads ``inv_C_m``); the constant is then
        written again, from the parameters, rather than checked.
        """
        try:
            value = self.variables[name].get_value()
        except NotImplementedError:
            return None
        return np.array(value, dtype=np.float64, copy=True).reshape(-1)

    def _written(self, name: str, stored: np.ndarray) -> None:
        """Remember a value written to a derived constant (the last :data:`_HISTORY`)."""
        seen = self._derived.setdefault(name, {})
        seen[stored.reshape(-1).tobytes()] = None
        while len(seen) > _HISTORY:
            del seen[next(iter(seen))]

    def before_run(self, run_namespace: Any = None) -> None:
        """Brian2 hook at the start of every run: derived constants first, then the code."""
        self.update_derived()
        super().before_run(run_namespace=run_namespace)
