"""Unit presets: how the description's SI numbers become Brian2 quantities.

The description holds plain SI numbers (the paper's dimensionless parameters read as SI:
``C_m = 1`` is 1 F). A preset multiplies each kind of quantity by one unit so that a lab can
read its populations in biophysical units without changing any result:

========== ============ ========================= ==========================
quantity   description  ``"si"`` (paper, as-is)  ``"biophysical"``
========== ============ ========================= ==========================
voltage    V            1 V                       1 mV
capacitance F           1 F                       1 nF
conductance S           1 S                       1 nS
current    A            1 A                       1 pA  (= nS · mV)
charge     C            1 C                       1 pC  (= nF · mV)
time       s            1 s                       1 s
========== ============ ========================= ==========================

Results are unchanged because every dimensionless combination is: the membrane time constant
``τ_m = C_m / g_l`` (capacitance and conductance share their scale, so τ_m stays in seconds and
the per-step leak factor ``d = exp(-g_l·dt/C_m)`` is the same number), the jump ``w / C_m`` and
the fixed point ``I_bias / g_l`` both scale like the voltage, and so does the threshold. Picking
pF with nS instead would divide every time constant by 1000 (the paper's 1/3 s would become
1/3 ms), which changes the dynamics at a fixed ``dt``: a preset therefore never mixes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import brian2 as b2
import numpy as np

from lif_bridge.errors import BackendError

__all__ = ["PRESETS", "UnitPreset", "get_preset"]


@dataclass(frozen=True)
class UnitPreset:
    """The Brian2 units that the description's SI numbers are measured in.

    Parameters
    ----------
    name
        Name of the preset.
    voltage, capacitance, conductance
        Brian2 units standing for the description's 1 V, 1 F and 1 S.
    """

    name: str
    voltage: b2.Quantity
    capacitance: b2.Quantity
    conductance: b2.Quantity

    @property
    def current(self) -> b2.Quantity:
        """Unit of ``I_bias``: conductance × voltage (1 A, or 1 pA for biophysical)."""
        return self.conductance * self.voltage

    @property
    def charge(self) -> b2.Quantity:
        """Unit of the synaptic weights: capacitance × voltage (1 C, or 1 pC)."""
        return self.capacitance * self.voltage

    @property
    def voltage_scale(self) -> float:
        """SI value of the voltage unit (1.0 or 1e-3), to read traces back in description V."""
        return float(self.voltage / b2.volt)

    def scale(self, kind: str) -> float:
        """SI value of the unit of a kind of quantity: ``"voltage"``, ``"capacitance"``,
        ``"conductance"``, ``"current"``, ``"charge"``, ``"inverse_capacitance"``,
        ``"time"`` or ``"one"`` (the last two are never scaled)."""
        if kind in ("time", "one"):
            return 1.0
        if kind == "inverse_capacitance":
            return 1.0 / float(self.capacitance / b2.farad)
        unit: b2.Quantity = getattr(self, kind)
        return float(np.asarray(unit))


PRESETS: dict[str, UnitPreset] = {
    "si": UnitPreset("si", b2.volt, b2.farad, b2.siemens),
    "biophysical": UnitPreset("biophysical", b2.mV, b2.nF, b2.nS),
}


def get_preset(units: str | UnitPreset) -> UnitPreset:
    """The preset called ``units`` (``"si"`` or ``"biophysical"``), or ``units`` itself.

    Raises
    ------
    BackendError
        For an unknown name, or a custom preset whose capacitance and conductance scales
        differ (that would change every membrane time constant, see the module docs).
    """
    if isinstance(units, UnitPreset):
        ratio = float(units.capacitance / units.conductance / b2.second)
        if abs(ratio - 1.0) > 1e-12:
            raise BackendError(
                f"brian2 backend: unit preset {units.name!r} scales capacitance and conductance "
                "differently, which changes tau_m = C_m/g_l and the results; give both the "
                "same scale (e.g. nF with nS)"
            )
        return units
    if units not in PRESETS:
        raise BackendError(
            f"brian2 backend: unknown unit preset {units!r}; choose from {sorted(PRESETS)} "
            "or pass a UnitPreset"
        )
    return PRESETS[units]
