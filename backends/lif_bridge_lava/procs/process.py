r"""The Lava processes of the backend: Linear LIF populations, a spike source, a max-pool gate.

Time inside a run
-----------------
All processes share one clock, Lava's ``time_step`` ``t = 1, 2, ...``. Samples follow each
other in windows of ``window = steps + gap`` steps: sample ``g = (t - 1) // window`` and its
local step ``k = (t - 1) % window``; local steps ``k < steps`` are the contract's steps
``n = k``, a gap step (``gap = 1``, only when voltage traces are recorded) lets the neurons
finish the last step of the window. Every process resets its own state at ``k = 0``, so one
compiled graph runs any number of samples (see :mod:`lif_bridge_lava.lowering`).

Files go through the protocol of :mod:`lif_bridge_lava.files`.
"""

from __future__ import annotations

import numpy as np
from lava.magma.core.process.ports.ports import InPort, OutPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.process.variable import Var

from lif_bridge_lava.synapses import Synapses

__all__ = ["LinearLIF", "SpikeRelay", "SpikeSource"]


class LinearLIF(AbstractProcess):
    r"""A population of Linear LIF (or reset-to-zero LIF, or IF) neurons with its main synapses.

    Ports
    -----
    ``s_in``
        The spikes of the main projection's source population, received in the step they are
        emitted (no connection process in between: the population's model applies the
        projection's gates, weights and delay itself, :class:`~lif_bridge_lava.synapses.Synapses`).
        Unconnected when the main projection comes from the input: the model then reads the
        encoder's trains from the program's folder (no source process).
    ``a_in``
        Voltage jumps of further projections, from Lava ``Dense``/``Sparse`` processes (one
        step late, as they send them; their gates and delays in a :class:`SpikeRelay` before
        them); several connections are summed by Lava.
    ``s_out``
        The spikes.

    Vars (one set, in the unit of the model: volts in ``floating_pt``, integer voltage units
    of :mod:`lif_bridge_lava.quantize` in ``fixed_pt``, as Lava's own LIF declares ``v``,
    ``vth``, ``bias`` once for both of its models): ``v``, ``vth``, ``v_reset``, ``v_rest``.
    The per-precision leak constants are process parameters (``constants``).

    Parameters
    ----------
    shape
        ``(n,)``.
    v_th, v_reset, v_rest
        Per-neuron threshold, reset and rest voltages (model units).
    constants
        Float model: ``decay``, ``v_inf``, ``if_step`` (volts), ``leaky`` (bool); fixed model:
        ``dv``, ``bias`` (ints).
    main
        The main projection's synapses.
    from_input
        The main projection's source is the input encoder (read from files).
    n_source
        Size of the main projection's source.
    reset, refractory
        ``"subtract"`` or ``"zero"``; refractory steps ``R``.
    steps, gap
        Window of each sample (see the module docstring).
    directory, label
        The program's folder and this population's file label.
    counted, traced
        Write count rows / voltage traces.
    q_v
        Volts per model voltage unit (1 in floating point).
    """

    def __init__(
        self,
        *,
        shape: tuple[int],
        v_th: np.ndarray,
        v_reset: np.ndarray,
        v_rest: np.ndarray,
        constants: dict[str, np.ndarray],
        main: Synapses,
        from_input: bool,
        n_source: int,
        reset: str = "subtract",
        refractory: int = 0,
        steps: int = 1,
        gap: int = 0,
        directory: str = "",
        label: str = "0",
        counted: bool = False,
        traced: bool = False,
        q_v: float = 1.0,
        name: str | None = None,
    ) -> None:
        super().__init__(
            shape=shape,
            constants=constants,
            main=main,
            from_input=bool(from_input),
            reset=reset,
            refractory=int(refractory),
            steps=int(steps),
            gap=int(gap),
            directory=directory,
            label=label,
            counted=bool(counted),
            traced=bool(traced),
            q_v=float(q_v),
            name=name,
        )
        self.s_in = InPort(shape=(int(n_source),))
        self.a_in = InPort(shape=shape)
        self.s_out = OutPort(shape=shape)
        self.v = Var(shape=shape, init=np.asarray(v_rest))
        self.vth = Var(shape=shape, init=np.asarray(v_th))
        self.v_reset = Var(shape=shape, init=np.asarray(v_reset))
        self.v_rest = Var(shape=shape, init=np.asarray(v_rest))


class SpikeSource(AbstractProcess):
    """Emits the encoder's trains, sample after sample, from the program's files (no Var.set).

    Needed only for input projections that run through a Lava ``Dense``/``Sparse`` (the main
    projection of a population reads the files itself). Sends ``e[g, k]`` at local step ``k``
    (zeros in the gap step).

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


class SpikeRelay(AbstractProcess):
    """Max-pool gates and delay of a projection that runs through a Lava ``Dense``/``Sparse``.

    Receives the source's output of step ``n`` in step ``n``, gates it (one or more spiking
    max-pool stages, :mod:`lif_bridge_lava.gate`; no latency) and sends what it gated in step
    ``n - delay``. Counts, winners and the delay line start fresh at every sample window. (The
    gates and delay of a population's main projection run inside its :class:`LinearLIF`.)

    Parameters
    ----------
    n_in
        Size of the source's output.
    windows
        One ``(n_out, k)`` int array per stage; each stage's ``n_out`` is the next one's input.
    n_out
        Size of the output (the last stage's ``n_out``, or ``n_in`` without stages).
    delay
        Steps of delay ``d >= 0``.
    steps, gap
        Window of each sample.
    """

    def __init__(
        self,
        *,
        n_in: int,
        windows: list[np.ndarray],
        n_out: int,
        delay: int = 0,
        steps: int,
        gap: int = 0,
    ) -> None:
        super().__init__(
            windows=[np.asarray(w) for w in windows],
            n_in=int(n_in),
            delay=int(delay),
            steps=int(steps),
            gap=int(gap),
        )
        self.s_in = InPort(shape=(int(n_in),))
        self.s_out = OutPort(shape=(int(n_out),))
