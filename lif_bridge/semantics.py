r"""The discrete-time contract: the one step rule every backend follows.

This module is the written, single definition of what one simulation step does. The reference
backend (``lif_bridge_reference``) executes it literally; every other backend must reproduce it
spike for spike in floating point (the conformance suite in ``tests/conformance`` checks this).
The order of phases is Brian2's default schedule (groups, thresholds, synapses, resets).

State
-----
Per sample, for each population ``l`` (the neurons after weighted layer ``l``): membrane potential
``v`` [V] (initially ``v_rest``), the step of the last spike (for refractoriness), and for each
spiking max-pool stage the running spike count ``c`` of each of its input units since the start
of the sample window.

One step ``n`` (time ``t = n·dt``), for all populations "at the same time"
--------------------------------------------------------------------------
A. **State update** (non-refractory neurons only): the exact solution of
   ``C_m dv/dt = -g_l (v - v_rest) + I_bias`` over one ``dt`` with constant ``I_bias``::

       g_l > 0:  v <- v_inf + (v - v_inf) * d,  d = exp(-g_l dt / C_m),  v_inf = v_rest + I_bias/g_l
       g_l = 0:  v <- v + I_bias * dt / C_m                       (non-leaky IF neuron)

B. **Threshold**: ``s = (v >= v_th) and not refractory``. The input encoder emits its values
   ``e[n]`` for this step (0/1 spikes, or real amounts for the constant-current encoder).

C. **Synapses** (spikes of *this* step, all populations): each population receives the sum of
   its incoming projections. A projection ``p`` takes the spikes of its source (``e[n]`` for
   the input encoder, else ``s`` of the source population), passes them through its stateless
   stages (flatten, average pooling, spiking max pooling) into ``z_p``, and::

       v <- v + sum_p (W_p z_p[n - d_p]) / C_m    for non-refractory neurons
                                                  (a refractory neuron drops the whole sum)

   with ``W_p`` the projection's map (Dense, Conv2d, or an Identity with a per-channel scale)
   and ``d_p >= 0`` its delay in steps (``z_p[m] = 0`` for ``m < 0``; a chain has one projection
   per population and no delays). The sum is over the projections in their order.

   Every weighted map adds one step of latency: a population first sees the input at step
   ``L``, the number of weighted maps on its *shortest* path from the input. Where paths of
   different depth meet (a residual addition ``relu(conv2(relu(conv1(x))) + x)``), the shortcut's
   spikes arrive ``k - 1`` steps earlier than those of the ``k`` weighted layers it skips; rates
   are unaffected once the window is long compared to ``k``, so this is a transient of ``k - 1``
   steps. A delay ``d_p = k - 1`` on the shortcut aligns the two paths (an option; every
   backend honours delays identically). Measured on small converted residual graphs
   (``benchmarks/bench_graph_delays.py``), aligning changed the agreement with the ANN by less
   than one point at every window from 20 to 300 steps, so delays default to 0.

   Concatenation along channels (``torch.cat(..., dim=1)``) feeding a weighted map is that map
   split into one projection per source (:func:`lif_bridge.network.concat_projections`).

   * Flatten reshapes ``(C, H, W)`` to ``C·H·W`` in C order (as ``torch.flatten``).
   * Average pooling is linear: ``z_u = mean_{i in window(u)} s_i`` (real-valued), no neurons.
   * Spiking max pooling (Lu & Xu §5.4.2, online form): each window ``u`` has a *winner*, the
     unit whose spikes pass. After this step's spikes are added to the running counts,
     ``c <- c + s``::

         M = max_{j in window(u)} c_j
         if the winner w exists and c_w = M:  w stays          (an incumbent keeps a tie)
         else:  w <- the first j in window(u) with c_j = M      (row-major window order)
         z_u = s_w

     (one output spike at most per window and step). Letting every tied unit pass instead
     would make two units of equal rate and different phase pass both their trains, doubling
     the pooled rate; the incumbent rule passes the maximum rate.

D. **Reset** of the neurons that spiked in B::

       reset="subtract" (Linear LIF):     v <- v - v_th
       reset="zero"     (reset-to-zero):  v <- v_reset      (input received in C is lost)

   and, when ``refractory = R·dt > 0``, the neuron is refractory at steps ``n'`` with
   ``n' - n < R`` (Brian2's rule): no state update, no threshold, synaptic input dropped.
   ``R = round(refractory / dt)``; ``R = 1`` only drops the input arriving in the spike's own step.

Floating point: the voltage jumps of one step may be summed in any order (a matrix product, a
sparse product, synapse by synapse); backends agree to the last bit wherever the arithmetic is
exact and otherwise differ by a rounding of that sum (~1e-16 V), which could flip a spike only
for a potential within that distance of ``v_th``. The conformance suite checks spike counts
for identity on random networks.

Readout: the number of spikes of each neuron over the ``steps`` of the window; rates are
``count / (steps·dt)`` [Hz].

Encoders (the values ``e[n]`` of input unit ``i`` for an input ``x_i`` in [0, 1])
---------------------------------------------------------------------------------
With ``p = clip(x_i · max_rate · dt, 0, 1)`` the expected spikes per step:

* ``RegularRate``: ``e[n] = floor((n+1)·p) - floor(n·p)`` (a regular train, the paper's Eq. 8; the
  accumulator ``acc += p; spike and acc -= 1 when acc >= 1`` in closed form, free of drift).
* ``Poisson(seed)``: ``e[n] = u[n] < p`` with ``u`` uniform in [0, 1) drawn from
  ``numpy.random.default_rng([seed, sample_index])`` as one ``(steps, n_inputs)`` array, so a
  sample's train does not depend on batching.
* ``ConstantCurrent``: ``e[n] = p`` every step (an analog input, the mean of the trains above).

The functions below compute the per-step constants in one place so that backends share them;
:func:`lif_bridge.plan.lower` computes every constant of a network once, and
:func:`lif_bridge.step.step` is this contract as a pure function.
"""

from __future__ import annotations

import numpy as np

__all__ = ["NEVER_SPIKED", "leak_constants", "never_spiked", "refractory_steps"]

#: Step index standing for "has not spiked yet" in a last-spike record of the refractory rule:
#: far enough in the past that ``n - NEVER_SPIKED >= R`` for any step ``n >= 0`` and any ``R``
#: a run can have, and exact in int64 arithmetic.
NEVER_SPIKED = -(2**40)


def leak_constants(
    c_m: np.ndarray, g_l: np.ndarray, i_bias: np.ndarray, v_rest: np.ndarray, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron factors ``(d, v_inf)`` of the state update (phase A).

    Parameters
    ----------
    c_m, g_l, i_bias, v_rest
        Membrane capacitance [F], leak conductance [S], bias current [A], resting potential [V],
        broadcast to one value per neuron.
    dt
        Time step [s].

    Returns
    -------
    d, v_inf
        ``d = exp(-g_l dt / C_m)`` (1 where ``g_l = 0``) and the fixed point
        ``v_inf = v_rest + I_bias / g_l`` (``nan`` where ``g_l = 0``: use the IF rule there).
    """
    c_m, g_l, i_bias, v_rest = np.broadcast_arrays(
        *(np.asarray(a, dtype=np.float64) for a in (c_m, g_l, i_bias, v_rest))
    )
    leaky = g_l > 0
    d = np.ones_like(g_l)
    d[leaky] = np.exp(-g_l[leaky] * dt / c_m[leaky])
    v_inf = np.full_like(g_l, np.nan)
    v_inf[leaky] = v_rest[leaky] + i_bias[leaky] / g_l[leaky]
    return d, v_inf


def refractory_steps(refractory: float, dt: float) -> int:
    """Number of steps ``R = round(refractory / dt)`` of the refractory rule (phase D)."""
    return round(refractory / dt)


def never_spiked(shape: int | tuple[int, ...]) -> np.ndarray:
    """A fresh last-spike record (int64, every entry :data:`NEVER_SPIKED`) for phase D."""
    return np.full(shape, NEVER_SPIKED, dtype=np.int64)
