r"""Time-to-first-spike (TTFS) coding: the one definition every backend follows.

This is the second coding scheme of lif-bridge (rate coding: :mod:`lif_bridge.semantics`), the
exact ReLU -> single-spike mapping of Stanojevic et al. (2023, arXiv 2212.12522). It is written
down here once; the reference backend (``lif_bridge_reference.ttfs``) executes the functions
below literally, Brian2 and Lava integrate the same neuron equations and are tested against it.

Values, windows, times
----------------------
Population ``n`` (the neurons after weighted layer ``n``; ``n = 0`` is the input) owns a time
window ``[t_min(n), t_max(n)]`` of length ``T_n``, laid end to end along the chain:
``t_min(1) = t_max(0)``, ``t_min(n+1) = t_max(n)``, ``t_min(0) = 0``. A non-negative value
``x`` (a ReLU activation) is coded by *how early* the single spike comes::

    t = t_max(n) - tau_c · x          x = (t_max(n) - t) / tau_c          no spike  <=>  x = 0

``tau_c`` [s] is the time that stands for one unit of activation (default 1 ms). The input
window has ``T_0 = tau_c`` (inputs in [0, 1]; ``x = 0`` sends no spike). Hidden windows come
from data (see :mod:`lif_bridge.ttfs.convert`): ``T_n = tau_c · B · max a_n`` with ``max a_n``
the largest activation of layer ``n`` on calibration inputs and the safety factor ``B``
(default 1.5, the authors' choice), so that test inputs up to ``B`` times the largest
calibration activation are coded without clipping.

The neuron (the paper's B1 model, ``tau_c`` as time unit, 1 V per unit of activation)
-------------------------------------------------------------------------------------
Neuron ``i`` of layer ``n`` has potential ``V_i`` [V] (0 at ``t = 0``) and synaptic current
``I_i`` [V/s]; every input spike of unit ``j`` at ``t_j`` adds ``W_ij / tau_c`` to ``I_i``
(event-driven, a step current). The membrane integrates the synaptic current during the input
window and a constant ramp from ``t_min(n)`` on::

    dV_i/dt = I_i(t)            for t <  t_min(n)
    dV_i/dt = 1 V / tau_c       for t >= t_min(n)      (the ramp; the synaptic current is closed)

Every input spike arrives in ``[t_min(n-1), t_min(n)]``, so at ``t_min(n)``::

    V_i(t_min) = sum_j W_ij (t_min(n) - t_j) / tau_c = sum_j W_ij x_j      [V, 1 V per unit]

(a silent input contributes nothing, which is its ``x_j = 0``). Neuron ``i`` fires once, at the
first ``t >= t_min(n)`` where ``V_i(t) >= theta_i``, and never again; the threshold carries the
bias ``D_i`` (the ReLU bias ``b_i``)::

    theta_i = T_n / tau_c - D_i                                  (the paper's Eq. 18, tau_c = 1)
    t_i     = t_min(n) + tau_c · max(0, theta_i - V_i(t_min))    (Eq. 7)
    x_i     = (t_max(n) - t_i) / tau_c = min(T_n / tau_c, sum_j W_ij x_j + D_i)

and a neuron with ``t_i >= t_max(n)`` stays silent: ``x_i = 0 = ReLU(.)`` exactly. The value is
exact unless the pre-activation exceeds ``T_n / tau_c`` (the window was too short for this
input): the neuron then fires at ``t_min(n)`` and codes the clipped ``T_n / tau_c``.

*Why the synaptic current closes at* ``t_min(n)``: the paper keeps the input currents on and
adds a ramp ``alpha_i`` with ``alpha_i + sum_j W_ij = 1`` (slope 1 at threshold), which needs
every input to have fired by ``t_min(n)``, so it forces a spike at ``t_max`` from neurons that
did not fire. That spike codes ``x = 0`` and only completes the slope; closing the current at
``t_min(n)`` gives the same slope and the same spike times for every neuron that fires, without
the forced spikes: a neuron fires **at most once** and a zero costs no spike and no synaptic
operation.

Stages between populations
--------------------------
* Flatten and average pooling are linear and are composed with the next layer's synapses
  (``V(t_min) = (W P) x``, ``P`` the pooling matrix), as for rate coding.
* Max pooling is exact: the pooled unit emits the *first* spike of its window (the earliest
  spike codes the largest value); no spike in the window codes 0.
* Batch norm is folded into the weights by the converter, as for rate coding.
* The output layer is not thresholded: it is read out as its potential at ``t_min(N)`` plus
  its bias, ``y_i = V_i(t_min(N)) + D_i`` (and rectified if the trained layer had a ReLU). The
  readout latency is ``t_min(N) = T_0 + ... + T_{N-1}``.

Graph networks (residual adds, concatenation)
---------------------------------------------
Every backend that runs graphs follows this (the reference backend does, through
:func:`lif_bridge.ttfs.coding.graph_plan`; backends that run chains only refuse graphs with one
error from :func:`lif_bridge.ttfs.coding.layer_plan`):

* Windows by depth. The *depth* ``d(n)`` of a population is one more than the largest depth
  of its sources (the input: 0), and every population of depth ``k`` codes in the window of
  level ``k``. A level's length is the largest window of its populations,
  ``T_k = max_{d(n)=k} T_n``, and its thresholds use that common length
  (``theta = T_k/tau_c - D``): exact, a window may always be longer than needed.
* Shortcuts are re-timed, not the graph re-shaped. A projection from a source of depth
  ``d_s < k - 1`` into a population of depth ``k`` delays every spike by the constant
  ``t_max(k-1) - t_max(d_s)``: a spike that coded ``x`` before the end of window ``d_s`` codes the
  same ``x`` before the end of window ``k-1`` (``x = (t_max - t)/tau_c`` is invariant under
  a shift of both ``t`` and ``t_max``). So every input of the consumer arrives in the window
  right before its own, as in a chain, and no identity layers are inserted (they would cost
  spikes and synaptic operations).
* The sum of the projections is linear: ``V_i(t_min) = sum_p (W_p P_p x_p)_i`` (``P_p`` the
  projection's stateless stages, a first-spike max pool acting on the re-timed spikes), so a
  residual add ``relu(conv(x) + s·x)`` and a concatenation (one weight block per source) are
  exact for the same reason a chain is; the decoded outputs equal the ANN's ReLU graph.
* Conversion stores each population's calibrated window ``T_n``; the levels are formed when
  the network is lowered (on a grid, each level ``T_k`` is rounded up to whole steps, so every
  re-timing delay is a whole number of steps). Depth alone sets the timing: a projection
  with a ``delay`` (steps of the rate-coding clock) is refused, naming it, at conversion and
  lowering (:func:`lif_bridge.ttfs.coding.check_no_delays`). A chain is the graph whose
  population ``n`` has depth ``n + 1``: the same windows as above.

Discrete time (clock-driven backends)
-------------------------------------
With a time step ``dt`` every window is rounded up to whole steps,
``K_n = ceil(T_n / dt)``, ``t_min(n) = dt · (K_0 + ... + K_{n-1})``, and thresholds use the
rounded ``T_n = K_n dt``. Spikes happen on the grid, at the first grid time at or after the
exact time (a threshold test at every step): an input spike at step
``s_j = ceil((t_max(0) - tau_c x_j) / dt)``, a neuron at the first step ``k >= t_min(n)/dt``
with ``V_i(k dt) >= theta_i``. Between grid times the currents are constant, so
``V_i(t_min)`` is still exactly ``sum_j W_ij x̂_j`` with the quantised values
``x̂ = (t_max - s dt)/tau_c``: every coded value is rounded *down* to a multiple of
``dt / tau_c`` (error in ``[0, dt/tau_c)`` per layer, and it propagates through the weights).
The resolution is stated as ``tau_c / dt`` steps per unit of activation, or as ``K_n``, the
steps per window. Grid tests compare ``V`` with ``theta`` after a relative tolerance
:data:`GRID_EPS` (one part in 1e9 of a step), so that a potential that reaches the threshold on
a grid point in exact arithmetic is not pushed one step later by rounding.
"""

from __future__ import annotations

import numpy as np

from lif_bridge.connectivity import pool_windows
from lif_bridge.network import MaxPool2d

__all__ = [
    "GRID_EPS",
    "NO_SPIKE",
    "decode",
    "encode_input",
    "fire",
    "first_spike_pool",
    "thresholds",
    "window_bounds",
]

#: Spike time of a neuron that does not fire (silent: codes 0).
NO_SPIKE = np.inf

#: Tolerance of grid tests, in steps: a crossing within ``GRID_EPS`` of a grid point is on it.
GRID_EPS = 1e-9


def window_bounds(lengths: np.ndarray, dt: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Window starts and lengths [s] of the chain ``T_0, T_1, ...`` (rounded up to ``dt``).

    Returns ``(t_min, T)``: ``t_min[n] = T[0] + ... + T[n-1]`` (``t_min[0] = 0``) and the
    lengths, each ``ceil(T_n / dt) · dt`` when ``dt`` is given.
    """
    t = np.asarray(lengths, dtype=np.float64)
    if dt is not None:
        t = np.ceil(t / dt - GRID_EPS) * dt
    starts = np.concatenate([[0.0], np.cumsum(t)[:-1]])
    return starts, t


def thresholds(window: float, tau_c: float, bias: np.ndarray) -> np.ndarray:
    """``theta_i = T_n / tau_c - D_i`` [V, 1 V per unit] of a layer with biases ``D``."""
    return window / tau_c - np.asarray(bias, dtype=np.float64)


def encode_input(
    x: np.ndarray, t_max: float, tau_c: float, dt: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """Input spike times [s] and the values they code, for inputs ``x`` in [0, 1].

    ``t = t_max - tau_c x`` (on the grid: the first step at or after it); ``x = 0`` (or a value
    that rounds to ``t_max``) sends no spike (:data:`NO_SPIKE`, value 0).
    """
    x = np.asarray(x, dtype=np.float64)
    t = t_max - tau_c * x
    if dt is not None:
        t = np.ceil(t / dt - GRID_EPS) * dt
    silent = (x <= 0) | (t >= t_max - (GRID_EPS * dt if dt else 0.0))
    t = np.where(silent, NO_SPIKE, t)
    return t, decode(t, t_max, tau_c)


def fire(
    v_min: np.ndarray,
    theta: np.ndarray,
    t_min: float,
    t_max: float,
    tau_c: float,
    dt: float | None,
) -> np.ndarray:
    """Spike times [s] of neurons with potential ``v_min`` at ``t_min`` and thresholds ``theta``.

    Continuous: ``t = t_min + tau_c · max(0, theta - v_min)``; discrete: the first grid time at
    or after it. ``t >= t_max`` (on the grid: within :data:`GRID_EPS` steps): silent,
    :data:`NO_SPIKE`.
    """
    wait = tau_c * np.maximum(0.0, np.asarray(theta) - np.asarray(v_min))
    if dt is None:
        t = t_min + wait
        return np.where(t >= t_max, NO_SPIKE, t)
    k = np.ceil(wait / dt - GRID_EPS)
    t = t_min + k * dt
    return np.where(t >= t_max - GRID_EPS * dt, NO_SPIKE, t)


def decode(t: np.ndarray, t_max: float, tau_c: float) -> np.ndarray:
    """Values ``(t_max - t) / tau_c`` of spike times ``t``; 0 where there is no spike."""
    t = np.asarray(t, dtype=np.float64)
    fired = np.isfinite(t)
    return np.where(fired, (t_max - np.where(fired, t, t_max)) / tau_c, 0.0)


def first_spike_pool(
    times: np.ndarray, gates: tuple[MaxPool2d, ...], shape: tuple[int, ...]
) -> np.ndarray:
    """Max pooling of spike times ``(samples, units)``: each window passes its first spike."""
    for gate in gates:
        times = times[:, pool_windows(gate, shape)].min(axis=2)
        shape = gate.output_shape(shape)
    return times
