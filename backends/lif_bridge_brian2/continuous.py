r"""Continuous-time single-neuron experiments (Lu & Xu §5.1–5.2) in Brian2, event-driven.

A neuron with inputs ``j`` of weights ``w_j`` [C] receiving regular trains of rate ``f_j`` [Hz]
at exact, off-grid times ``t_{j,k} = (k + φ_j)/f_j``. Between input spikes the membrane relaxes
exactly,

.. math::

    v(t_e) = v_\infty + (v(t_l) - v_\infty)\,e^{-(t_e - t_l)\,g_l/C_m},
    \qquad v_\infty = v_{rest} + I_{bias}/g_l

(``v + I_bias (t_e - t_l)/C_m`` when ``g_l = 0``), and each input spike adds ``w_j/C_m``. The
simulation is event-driven inside Brian2: each input is a phase oscillator
``dphase/dt = f`` (linear, so Euler is exact) that spikes when ``phase >= 1``; its synapse
recovers the exact crossing time ``t_e = t + dt - (phase - 1)/f`` from the overshoot and updates
the target analytically from its last event time ``t_l``. The clock ``dt`` only delays the
threshold test (by < ``dt``), which leaves rates unchanged. Crossings can only happen at input
events when ``v_inf < v_th`` (no bias drives the neuron over threshold between inputs); other
parameters are refused.
"""

from __future__ import annotations

import brian2 as b2
import numpy as np
from numpy.typing import ArrayLike

from lif_bridge.errors import BackendError
from lif_bridge.network import Neurons

__all__ = ["single_neuron_rates"]

_TARGET = """
v : volt
t_last : second
C_m : farad (constant)
g_l : siemens (constant)
I_bias : amp (constant)
v_rest : volt (constant)
v_th : volt (constant)
v_reset : volt (constant)
"""

_ON_PRE_LEAKY = """
t_e = t + dt - (phase_pre - 1)/f_pre
v_inf = v_rest_post + I_bias_post/g_l_post
v_post = v_inf + (v_post - v_inf)*exp(-(t_e - t_last_post)*g_l_post/C_m_post)
t_last_post = t_e
v_post += w/C_m_post
"""

_ON_PRE_IF = """
t_e = t + dt - (phase_pre - 1)/f_pre
v_post = v_post + I_bias_post*(t_e - t_last_post)/C_m_post
t_last_post = t_e
v_post += w/C_m_post
"""


def single_neuron_rates(
    weights: ArrayLike,
    rates: ArrayLike,
    neurons: Neurons | None = None,
    duration: float = 20.0,
    *,
    dt: float = 1e-4,
    phases: ArrayLike | None = None,
    transient: float = 1.0,
    target: str = "cython",
) -> np.ndarray:
    """Output rates [Hz] of one neuron for each row of input rates, in continuous time.

    Parameters
    ----------
    weights
        ``(n_in,)`` synaptic weights [C].
    rates
        ``(n_in,)`` or ``(n_cond, n_in)`` regular input rates [Hz] (0 = silent input).
    neurons
        Scalar :class:`~lif_bridge.network.Neurons` (default: the paper's Table 2 neuron,
        ``C_m = 1, g_l = 3, V_th = 1``, Linear LIF).
    duration
        Simulated time [s] of every condition (all simulated together).
    dt
        Clock step [s]; input times stay exact, ``dt`` only delays threshold tests.
    phases
        ``(n_in,)`` or ``(n_cond, n_in)`` phases in [0, 1): input ``j`` spikes at
        ``(k + 1 - phase_j)/f_j``; default 0 (first spike at ``1/f``).
    transient
        Initial time [s] excluded from the rate estimate.
    target
        Brian2 code-generation target (``"cython"`` or ``"numpy"``).

    Returns
    -------
    numpy.ndarray
        ``(n_cond,)`` rates = spikes in ``[transient, duration)`` / ``(duration - transient)``.
    """
    nrn = neurons if neurons is not None else Neurons(c_m=1.0, g_l=3.0, v_th=1.0)
    if nrn.size is not None:
        raise BackendError("single_neuron_rates: give scalar (per-population) neuron parameters")
    w = np.atleast_1d(np.asarray(weights, dtype=np.float64))
    f = np.atleast_2d(np.asarray(rates, dtype=np.float64))
    if f.shape[1] != w.size:
        raise BackendError(f"single_neuron_rates: rates {f.shape} do not match {w.size} weights")
    if np.any(f < 0) or not (0 <= transient < duration):
        raise BackendError("single_neuron_rates: rates must be >= 0 and 0 <= transient < duration")
    ph = np.zeros_like(f) if phases is None else np.broadcast_to(phases, f.shape).astype(float)
    g_l, i_b = float(nrn.g_l), float(nrn.i_bias)
    if (g_l > 0 and float(nrn.v_rest) + i_b / g_l >= float(nrn.v_th)) or (g_l == 0 and i_b > 0):
        raise BackendError(
            "single_neuron_rates: the bias drives the neuron over threshold between input "
            "spikes (v_rest + I_bias/g_l >= v_th); the event-driven formulation needs "
            "v_inf < v_th"
        )
    n_cond, n_in = f.shape
    reset = "v -= v_th" if nrn.reset == "subtract" else "v = v_reset"
    saved = b2.prefs["codegen.target"]
    b2.prefs["codegen.target"] = target
    try:
        clock = b2.Clock(dt=dt * b2.second, name="single_clock")
        inp = b2.NeuronGroup(
            n_cond * n_in,
            "dphase/dt = f : 1\nf : Hz (constant)",
            threshold="phase >= 1",
            reset="phase -= 1",
            method="euler",
            clock=clock,
            name="single_inputs",
            namespace={},
        )
        inp.f = f.ravel() * b2.Hz
        inp.phase = ph.ravel()
        tgt = b2.NeuronGroup(
            n_cond,
            _TARGET,
            threshold="v >= v_th",
            reset=reset,
            clock=clock,
            name="single_neuron",
            namespace={},
        )
        tgt.C_m = float(nrn.c_m) * b2.farad
        tgt.g_l = g_l * b2.siemens
        tgt.I_bias = i_b * b2.amp
        tgt.v_rest = float(nrn.v_rest) * b2.volt
        tgt.v_th = float(nrn.v_th) * b2.volt
        tgt.v_reset = float(nrn.v_reset) * b2.volt
        tgt.v = tgt.v_rest[:]
        syn = b2.Synapses(
            inp,
            tgt,
            "w : coulomb (constant)",
            on_pre=_ON_PRE_LEAKY if g_l > 0 else _ON_PRE_IF,
            clock=clock,
            name="single_syn",
            namespace={},
        )
        syn.connect(i=np.arange(n_cond * n_in), j=np.repeat(np.arange(n_cond), n_in))
        syn.w = np.tile(w, n_cond) * b2.coulomb
        mon = b2.SpikeMonitor(tgt, name="single_spikes")
        net = b2.Network(inp, tgt, syn, mon)
        net.run(duration * b2.second)
        t = np.asarray(mon.t[:] / b2.second)
        i = np.asarray(mon.i[:])
    finally:
        b2.prefs["codegen.target"] = saved
    keep = t >= transient
    counts = np.bincount(i[keep], minlength=n_cond)
    return counts / (duration - transient)
