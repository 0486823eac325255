r"""The Lava processes of the backend: Linear LIF neurons, spike source, max-pool gate, counter.

Time inside a run
-----------------
All processes share one clock, Lava's ``time_step`` ``t = 1, 2, ...``. Samples follow each
other in windows of ``window = steps + gap`` steps: sample ``g = (t - 1) // window`` and its
local step ``k = (t - 1) % window``; local steps ``k < steps`` are the contract's steps
``n = k``, a gap step (``gap = 1``, only when voltage traces are recorded) lets the neurons
finish the last step of the window. Every process resets its own state at ``k = 0``, so one
compiled graph runs any number of samples (see :mod:`lif_bridge_lava.lowering`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lif_bridge.semantics import leak_constants

__all__ = ["LinearLIF", "MaxPoolGate", "SpikeCounter", "SpikeSource"]


class LinearLIF(AbstractProcess):
    r"""A population of Linear LIF (or reset-to-zero LIF, or IF) neurons.

    Ports ``a_in`` (voltage jumps from the synapses, one step late as Lava's Dense sends
    them) and ``s_out`` (spikes). Models: ``floating_pt`` (the contract exactly) and ``fixed_pt``
    (Loihi integer arithmetic, see :mod:`lif_bridge_lava.quantize`).

    Vars (float model): ``v`` [V], ``vth`` [V], ``decay`` ``d = exp(-g_l dt / C_m)``, ``v_inf``
    ``= v_rest + I_bias / g_l`` [V] (leaky neurons), ``if_step`` ``= I_bias dt / C_m`` [V] (IF
    neurons), ``leaky`` (1 where ``g_l > 0``), ``v_reset``, ``v_rest`` [V]. Vars (fixed model):
    ``v_int``, ``dv``, ``bias_mant``, ``bias_exp``, ``vth_mant``, ``v_reset_int``,
    ``v_rest_int``. Reset mode, refractory steps and the window are process parameters.

    Parameters
    ----------
    shape
        ``(n,)``.
    c_m, g_l, v_th, v_reset, v_rest, i_bias
        Per-neuron arrays in SI units ([F], [S], [V], [V], [V], [A]).
    dt
        Time step [s].
    reset
        ``"subtract"`` or ``"zero"``.
    refractory
        Refractory steps ``R``.
    steps, gap
        Window of each sample (see the module docstring).
    fixed
        Integer constants (keys of :class:`lif_bridge_lava.quantize.FixedPointLayer`:
        ``dv, bias_mant, bias_exp, vth_mant, v_reset, v_rest`` and ``q_v``) for ``fixed_pt``.
    trace_file
        File receiving the voltage after every step of every sample (float64 rows).
    """

    def __init__(
        self,
        *,
        shape: tuple[int],
        c_m: np.ndarray,
        g_l: np.ndarray,
        v_th: np.ndarray,
        v_reset: np.ndarray,
        v_rest: np.ndarray,
        i_bias: np.ndarray,
        dt: float,
        reset: str = "subtract",
        refractory: int = 0,
        steps: int = 1,
        gap: int = 0,
        fixed: dict[str, Any] | None = None,
        trace_file: str | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            shape=shape,
            reset=reset,
            refractory=int(refractory),
            steps=int(steps),
            gap=int(gap),
            q_v=float(fixed["q_v"]) if fixed else 1.0,
            trace_file=trace_file,
            name=name,
        )
        n = shape[0]
        d, v_inf = leak_constants(c_m, g_l, i_bias, v_rest, dt)
        leaky = np.asarray(g_l) > 0
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.v = Var(shape=shape, init=np.array(v_rest, dtype=np.float64))
        self.vth = Var(shape=shape, init=np.array(v_th, dtype=np.float64))
        self.decay = Var(shape=shape, init=d)
        self.v_inf = Var(shape=shape, init=v_inf)
        self.if_step = Var(shape=shape, init=np.asarray(i_bias) * dt / np.asarray(c_m))
        self.leaky = Var(shape=shape, init=leaky.astype(np.int64))
        self.v_reset = Var(shape=shape, init=np.array(v_reset, dtype=np.float64))
        self.v_rest = Var(shape=shape, init=np.array(v_rest, dtype=np.float64))
        zeros = np.zeros(n, dtype=np.int64)
        f = fixed or {}
        self.v_int = Var(shape=shape, init=np.asarray(f.get("v_rest", zeros), dtype=np.int64))
        self.dv = Var(shape=shape, init=np.asarray(f.get("dv", zeros), dtype=np.int64))
        self.bias_mant = Var(shape=shape, init=np.asarray(f.get("bias_mant", zeros), np.int64))
        self.bias_exp = Var(shape=shape, init=np.asarray(f.get("bias_exp", zeros), np.int64))
        self.vth_mant = Var(shape=shape, init=np.asarray(f.get("vth_mant", zeros + 1), np.int64))
        self.v_reset_int = Var(shape=shape, init=np.asarray(f.get("v_reset", zeros), np.int64))
        self.v_rest_int = Var(shape=shape, init=np.asarray(f.get("v_rest", zeros), np.int64))


class SpikeSource(AbstractProcess):
    """Emits the encoder's trains of a batch, sample after sample, from files (no Var.set).

    The program writes the trains of samples ``g0 .. g0+b-1`` to ``<directory>/trains_<g0>.npy``
    (shape ``(b, steps, n)``) before running ``b`` windows; the model loads the file when it
    reaches a sample it does not hold, and sends ``e[g, k]`` at local step ``k`` (zeros in the
    gap step).

    Parameters
    ----------
    shape
        ``(n_inputs,)``.
    directory
        Folder shared with the program.
    steps, gap
        Window of each sample.
    """

    def __init__(self, *, shape: tuple[int], directory: str, steps: int, gap: int = 0) -> None:
        super().__init__(shape=shape, directory=directory, steps=int(steps), gap=int(gap))
        self.s_out = OutPort(shape=shape)


class MaxPoolGate(AbstractProcess):
    """Spiking max pooling, one or more consecutive stages (no latency).

    Per stage with windows ``(n_out, k)`` (``pool_windows``), each window ``u`` has a winner
    ``w``, the unit whose spikes pass. Every step, after ``c <- c + s``::

        M = max_{j in window(u)} c_j
        if the winner w exists and c_w = M:  w stays          (an incumbent keeps a tie)
        else:  w <- the first j in window(u) with c_j = M      (row order of window u)
        z_u = s_w

    The running counts ``c`` are zeroed and the winners forgotten at the start of every sample
    window (see :mod:`lif_bridge_lava.gate`).

    Parameters
    ----------
    n_in
        Input units of the first stage.
    windows
        One ``(n_out, k)`` int array per stage; each stage's ``n_out`` is the next one's input.
    steps, gap
        Window of each sample.
    """

    def __init__(self, *, n_in: int, windows: list[np.ndarray], steps: int, gap: int = 0) -> None:
        super().__init__(windows=[np.asarray(w) for w in windows], steps=int(steps), gap=int(gap))
        self.s_in = InPort(shape=(n_in,))
        self.s_out = OutPort(shape=(int(windows[-1].shape[0]),))


class SpikeCounter(AbstractProcess):
    """Counts the spikes of each neuron over a sample window and writes the row to a file.

    At the last counted step of sample ``g`` it writes its ``n`` int64 counts at offset
    ``g·n·8`` of ``<directory>/counts_<label>.bin``; the counts also stay in the Var
    ``counts`` (the current window) for inspection.

    Parameters
    ----------
    shape
        ``(n,)``.
    directory, label
        Where the rows go.
    steps, gap
        Window of each sample.
    """

    def __init__(
        self, *, shape: tuple[int], directory: str, label: str, steps: int, gap: int = 0
    ) -> None:
        super().__init__(
            shape=shape, directory=directory, label=label, steps=int(steps), gap=int(gap)
        )
        self.s_in = InPort(shape=shape)
        self.counts = Var(shape=shape, init=0)
