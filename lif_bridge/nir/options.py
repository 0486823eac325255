r"""How a graph of another tool (no ``lif_bridge`` metadata) is read: what NIR leaves open.

NIR 1.0 is continuous time and stores no time step, but the discrete tools that write it
(snnTorch, Norse) mean a spike as a unit pulse lasting one of *their* steps, and NIR's ``Delay``
is in seconds while lif-bridge delays whole steps. :class:`NirImportOptions` says how to read
those; the defaults are NIR's literal reading.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lif_bridge.errors import ValidationError

__all__ = ["SNNTORCH_DT", "NirImportOptions"]

#: The time step snnTorch 0.9-1.0's ``export_to_nir`` assumes (hard-coded there) [s].
SNNTORCH_DT = 1e-4


def _positive(name: str, value: float | None) -> float | None:
    if value is None:
        return None
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValidationError(f"NIR import: {name} must be a finite time > 0 s, got {value!r}")
    return v


@dataclass(frozen=True, kw_only=True)
class NirImportOptions:
    r"""Options of :func:`lif_bridge.from_nir` for graphs written by other tools.

    Parameters
    ----------
    spike_dt
        [s] ``None``: a spike is a Dirac delta (NIR's continuous reading): through weight
        ``w`` it moves a neuron of NIR parameters ``(tau, r)`` by ``r w / tau``. A time: a
        spike is a unit pulse of that length, as in the exporting tool's forward-Euler step
        (snnTorch: :data:`SNNTORCH_DT`), so it moves the neuron by ``r w spike_dt / tau``
        (``= w`` for snnTorch's ``r = tau/dt``). The weights are multiplied by ``spike_dt``;
        biases are currents either way.
    dt
        [s] The simulation step the network will run at; needed only for ``Delay`` nodes,
        which become projection delays of ``delay / dt`` steps (whole steps, or refused).
    tau_syn_max
        [s] ``CubaLIF`` nodes whose every ``tau_syn`` is at most this are read in the limit
        ``tau_syn -> 0`` (lif-bridge has no synaptic current state): the synaptic current
        ``tau_syn dI/dt = -I + w_in S`` becomes the instantaneous ``I = w_in S``, which keeps
        the charge ``w_in w`` of each spike and drops its spread over ``~tau_syn``. Default 0:
        every ``CubaLIF`` is refused, naming the node.
    none_as_flatten
        A graph built in memory by ``nirtorch.extract_nir_graph`` (Norse 1.1's ``to_nir``)
        holds ``None`` for each module its exporter does not map; Norse maps no ``nn.Flatten``.
        ``None`` nodes say nothing of what they were, so by default each is refused, naming it.
        ``True``: each is read as a ``Flatten`` (right for Norse's ``nn.Flatten``; a stateless
        module that keeps the size, ``nn.Dropout`` in eval mode, also reads right; one that
        changes values, a BatchNorm, would not, so pass this only for a net whose unmapped
        modules are flattens). A pooling module changes the size and then fails the next map's
        shape check. NIR files cannot hold ``None`` nodes (``nir.write`` fails on them).
    """

    spike_dt: float | None = None
    dt: float | None = None
    tau_syn_max: float = 0.0
    none_as_flatten: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "spike_dt", _positive("spike_dt", self.spike_dt))
        object.__setattr__(self, "dt", _positive("dt", self.dt))
        t = float(self.tau_syn_max)
        if not math.isfinite(t) or t < 0:
            raise ValidationError(
                f"NIR import: tau_syn_max must be a finite time >= 0 s, got {self.tau_syn_max!r}"
            )
        object.__setattr__(self, "tau_syn_max", t)
        if not isinstance(self.none_as_flatten, bool):
            raise ValidationError(
                f"NIR import: none_as_flatten must be True or False, got {self.none_as_flatten!r}"
            )

    @property
    def spike_charge(self) -> float:
        """The factor on every weight: ``spike_dt`` [s], or 1 for Dirac-delta spikes."""
        return 1.0 if self.spike_dt is None else self.spike_dt
