r"""Lava processes of TTFS coding: one process per population (and one for the input).

Discrete time (:mod:`lif_bridge.ttfs.semantics`, "Discrete time"): every process runs one step
per Lava ``time_step``; step ``n`` of the run is grid step ``m = (n - 1) % P`` of sample
``(n - 1) // P`` (``P`` steps per sample, the readout step + 1), at grid time ``m·dt``. In each
step a population process

1. clears its state when ``m = 0``;
2. advances ``v`` over ``[(m-1)·dt, m·dt]`` (``m >= 1``): ``v += dt·I`` while ``m - 1 < k_on``,
   else ``v += dt·ramp`` (``ramp = 1 V / tau_c``; the output population has no ramp);
3. fires where not yet fired, ``k_on <= m < k_off`` and ``v >= theta`` (the spike's grid time is
   ``m·dt``);
4. receives the spikes its sources emitted in this step (direct port connections: no delay),
   and for each projection passes each max-pool window's first spike, holds the result for the
   projection's re-timing delay ``D`` steps (0 but for a shortcut of a graph), and adds
   ``W s · ramp`` to ``I`` (effective from the next step, i.e. from the spike's grid time, re-timed
   by ``D``, on);
5. sends its spikes, counts them per neuron and sample (``spikes``, every spike sent) and
   records their grid steps (``steps``, ``-1``: no spike).

A graph population has one in-port per distinct source (``a_in0``, ``a_in1``, ...; at most
:data:`MAX_SOURCES`; Lava's Python models do not take concatenated virtual ports), and a
projection reads the port of its source.

So ``v(m·dt)`` is the exact potential for grid spike times, and spikes fall on the first grid
point at or after the exact crossing: the reference's discrete run with the same ``dt``. The
input process is the same neuron with ``I = 0``, ``k_on = 0`` and ``theta_j = T_0/tau_c - x_j``
(silent for ``x_j = 0``). The output process writes ``v`` at its readout step into ``readout``.

Models: ``floating_pt`` (float64) and ``fixed_pt`` (integers): with the layer's ramp ``R`` units
per step, a potential unit of ``q = (dt/tau_c)/R`` volts, 8-bit weights
``w_int = round(w·R)`` (``R = floor(127 / max|w|)``, at least 1) and thresholds
``round(theta/q)``; ``v`` and ``I`` are int64 and exact, the error is the rounding of ``w`` and
``theta``. ``R`` is common to all projections of a population (their largest ``|w|``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.magma.core.decorator import implements, requires, tag
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyOutPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol

from lif_bridge_lava.ttfs import MAX_SOURCES

__all__ = ["TtfsInput", "TtfsPopulation"]


class TtfsPopulation(AbstractProcess):
    """A TTFS population (hidden or output) with its projections' synapses and max-pool gates.

    Parameters
    ----------
    n
        Neurons.
    source_sizes
        Units of each distinct source's spike vector (in-port ``a_in{k}``).
    edges
        One dict per projection: ``port`` (index into ``source_sizes``), ``matrix`` (synapses
        ``(n, n_gated)``, scipy sparse, linear stages composed), ``windows`` (``(n_gated, k)``
        source units of each max-pool window, or ``None``), ``delay`` (re-timing steps) and,
        for ``fixed_pt``, ``w`` (integer weights).
    theta
        Thresholds [V] (output: unused).
    k_on, k_off
        Grid steps of ``t_min`` and ``t_max`` (output: ``k_off = None``).
    period, samples
        Steps per sample and samples per run.
    dt_over_tau
        ``dt / tau_c``: the potential gained per step of ramp [V].
    fixed
        For ``fixed_pt``: ``{"R": int, "theta": int array}``.
    """

    def __init__(
        self,
        *,
        n: int,
        source_sizes: list[int],
        edges: list[dict[str, Any]],
        theta: np.ndarray,
        k_on: int,
        k_off: int | None,
        period: int,
        samples: int,
        dt_over_tau: float,
        fixed: dict[str, Any] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            edges=edges,
            k_on=k_on,
            k_off=k_off,
            period=period,
            dt_over_tau=dt_over_tau,
            fixed=fixed,
            name=name,
        )
        for k in range(MAX_SOURCES):  # unused ports stay unconnected and receive zeros
            size = source_sizes[k] if k < len(source_sizes) else 1
            setattr(self, f"a_in{k}", InPort(shape=(size,)))
        self.s_out = OutPort(shape=(n,))
        self.theta = Var(shape=(n,), init=np.asarray(theta, dtype=np.float64))
        self.readout = Var(shape=(samples, n), init=np.zeros((samples, n)))
        self.spikes = Var(shape=(samples, n), init=np.zeros((samples, n)))
        self.steps = Var(shape=(samples, n), init=np.full((samples, n), -1.0))


class TtfsInput(AbstractProcess):
    """The input: unit ``j`` fires at the first grid time at or after ``T_0 - tau_c x_j``."""

    def __init__(
        self,
        *,
        x: np.ndarray,
        k_off: int,
        period: int,
        dt_over_tau: float,
        name: str | None = None,
    ) -> None:
        super().__init__(k_off=k_off, period=period, dt_over_tau=dt_over_tau, name=name)
        samples, n = x.shape
        self.s_out = OutPort(shape=(n,))
        self.x = Var(shape=(samples, n), init=np.asarray(x, dtype=np.float64))
        self.spikes = Var(shape=(samples, n), init=np.zeros((samples, n)))
        self.steps = Var(shape=(samples, n), init=np.full((samples, n), -1.0))


class _Clock(PyLoihiProcessModel):
    def _step(self) -> tuple[int, int]:
        t = self.time_step - 1
        p = self.proc_params["period"]
        return t // p, t % p


@implements(proc=TtfsInput, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt", "fixed_pt")
class PyTtfsInput(_Clock):
    """Both models: the input's grid times are computed in float64 (they are the data)."""

    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    x: np.ndarray = LavaPyType(np.ndarray, float)
    spikes: np.ndarray = LavaPyType(np.ndarray, float)
    steps: np.ndarray = LavaPyType(np.ndarray, float)

    def run_spk(self) -> None:
        g, m = self._step()
        p = self.proc_params
        if m == 0:
            self.fired = np.zeros(self.x.shape[1], dtype=bool)
        x = self.x[min(g, len(self.x) - 1)]
        # V(m dt) = m dt / tau_c reaches theta = T_0/tau_c - x (1e-9 of a step: GRID_EPS)
        theta_steps = p["k_off"] - x / p["dt_over_tau"]
        s = (~self.fired) & (x > 0) & (m >= theta_steps - 1e-9) & (m < p["k_off"])
        self.fired |= s
        if g < len(self.spikes):
            self.spikes[g] += s
            self.steps[g, s] = m
        self.s_out.send(s.astype(np.float64))


class _PopulationModel(_Clock):
    # MAX_SOURCES in-ports (Lava reads the port types from these class annotations)
    s_out: PyOutPort = LavaPyType(PyOutPort.VEC_DENSE, float)
    a_in0: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in1: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in2: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in3: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in4: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in5: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in6: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    a_in7: PyInPort = LavaPyType(PyInPort.VEC_DENSE, float)
    readout: np.ndarray = LavaPyType(np.ndarray, float)
    spikes: np.ndarray = LavaPyType(np.ndarray, float)
    steps: np.ndarray = LavaPyType(np.ndarray, float)

    def _gate(self, e: int, s: np.ndarray, m: int) -> np.ndarray:
        """First spike of each max-pool window of projection ``e`` (once per sample)."""
        win = self.proc_params["edges"][e]["windows"]
        if win is None:
            return s
        if m == 0:
            self.passed[e] = np.zeros(win.shape[0], dtype=bool)
        first = (s[win].max(axis=1) > 0) & ~self.passed[e]
        self.passed[e] |= first
        return first.astype(np.float64)

    def _delayed(self, e: int, z: np.ndarray, m: int) -> np.ndarray:
        """``z`` of ``delay`` steps ago (a re-timed shortcut; zeros before the sample's start)."""
        delay = self.proc_params["edges"][e]["delay"]
        if not delay:
            return z
        if m == 0:
            self.queue[e] = [np.zeros_like(z) for _ in range(delay)]
        self.queue[e].append(z)
        return self.queue[e].pop(0)

    def _inputs(self, m: int) -> None:
        edges = self.proc_params["edges"]
        if m == 0 or not hasattr(self, "passed"):
            self.passed: dict[int, np.ndarray] = {}
            self.queue: dict[int, list[np.ndarray]] = {}
        ports = [getattr(self, f"a_in{k}").recv() for k in range(1 + max(e["port"] for e in edges))]
        for e, edge in enumerate(edges):
            z = self._delayed(e, self._gate(e, ports[edge["port"]], m), m)
            if z.any():
                self._receive(e, z)

    def run_spk(self) -> None:
        g, m = self._step()
        p = self.proc_params
        self._init_sample(m)
        if m >= 1:
            self._advance(m - 1 < p["k_on"], p["k_off"] is not None)
        out = np.zeros(self.s_out.shape[0])
        if p["k_off"] is not None:
            s = self._threshold() & ~self.fired & (m >= p["k_on"]) & (m < p["k_off"])
            self.fired |= s
            out = s.astype(np.float64)
            if g < len(self.spikes):
                self.spikes[g] += s
                self.steps[g, s] = m
        elif m == p["k_on"] and g < len(self.readout):
            self.readout[g] = self._potential()
        self._inputs(m)
        self.s_out.send(out)


@implements(proc=TtfsPopulation, protocol=LoihiProtocol)
@requires(CPU)
@tag("floating_pt")
class PyTtfsPopulationFloat(_PopulationModel):
    """float64: ``v`` [V], ``I`` in units of the ramp (1 V / tau_c)."""

    theta: np.ndarray = LavaPyType(np.ndarray, float)

    def _init_sample(self, m: int) -> None:
        if m == 0:
            n = self.s_out.shape[0]
            self.v, self.i_syn, self.fired = np.zeros(n), np.zeros(n), np.zeros(n, dtype=bool)

    def _advance(self, integrating: bool, ramp: bool) -> None:
        step = self.proc_params["dt_over_tau"]
        if integrating:
            self.v = self.v + step * self.i_syn
        elif ramp:
            self.v = self.v + step

    def _threshold(self) -> np.ndarray:
        return np.asarray(self.v >= self.theta)

    def _potential(self) -> np.ndarray:
        return np.asarray(self.v)

    def _receive(self, e: int, z: np.ndarray) -> None:
        self.i_syn = self.i_syn + np.asarray(self.proc_params["edges"][e]["matrix"] @ z)


@implements(proc=TtfsPopulation, protocol=LoihiProtocol)
@requires(CPU)
@tag("fixed_pt")
class PyTtfsPopulationFixed(_PopulationModel):
    """Integers: ramp ``R`` per step, 8-bit weights, int64 ``v`` and ``I`` (see the module)."""

    theta: np.ndarray = LavaPyType(np.ndarray, float)

    def _init_sample(self, m: int) -> None:
        if m == 0:
            n = self.s_out.shape[0]
            self.v = np.zeros(n, dtype=np.int64)
            self.i_syn = np.zeros(n, dtype=np.int64)
            self.fired = np.zeros(n, dtype=bool)

    def _advance(self, integrating: bool, ramp: bool) -> None:
        if integrating:
            self.v += self.i_syn
        elif ramp:
            self.v += self.proc_params["fixed"]["R"]

    def _threshold(self) -> np.ndarray:
        return np.asarray(self.v >= self.proc_params["fixed"]["theta"])

    def _potential(self) -> np.ndarray:
        fx = self.proc_params["fixed"]
        return self.v * (self.proc_params["dt_over_tau"] / fx["R"])

    def _receive(self, e: int, z: np.ndarray) -> None:
        w = self.proc_params["edges"][e]["w"]
        self.i_syn += np.rint(np.asarray(w @ z)).astype(np.int64)
