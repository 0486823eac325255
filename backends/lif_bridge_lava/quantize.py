r"""Loihi-style fixed-point parameters of a population, and the integer step rules (pure NumPy).

This module imports only NumPy/SciPy: the Lava ``fixed_pt`` model of :class:`LinearLIF`
(:mod:`lif_bridge_lava.procs.models_fixed`) calls the functions below, and so does the
fit report (:mod:`lif_bridge_lava.loihi`) when it simulates a calibration run without Lava.

Number formats (Loihi conventions, as modelled by Lava's ``bit_accurate_loihi`` models)
-------------------------------------------------------------------------------------
For a population with synaptic matrix ``W`` [C] and capacitances ``C_m`` [F], the voltage jump
per input spike is ``J = W / C_m`` [V]. Each incoming projection ``k`` (block ``J_k`` of the
columns) has its own weight exponent ``e_k``, as a Loihi synapse group has::

    m_k = clip(round(J_k / 2**e_k), -127, 127)     8-bit signed weight mantissa
    e_k = ceil(log2(max|J_k| / 127))               (raised if the threshold would not fit)

and the population's voltage unit follows the finest one, ``e = min_k e_k``. The membrane sums
the projections exactly in that unit: projection ``k`` delivers its sum shifted left by
``e_k - e`` (Lava's ``weight_exp``; Loihi's weight exponent spans :data:`EXP_SPREAD` steps, so
an exponent more than that below the largest is raised to it: that projection then keeps fewer
significant bits). A chain (one projection) has ``e = e_1`` as before.

Lava's ``Dense``/``Sparse`` fixed-point models keep 8 bits per weight and drop the lowest bit
of mixed-sign weights (``w_scale = 1``), so the mantissa is handed to them as ``2·m`` (even,
lossless) with ``weight_exp = e_k - e``. The neuron shifts its input left by 6 (Loihi's
activation shift), so one spike moves ``v`` by ``2·m_k·2**(e_k - e)·2**6`` integer units and
the voltage unit is

    q_v = 2**(e - 7)  [V per LSB]

Neuron state and constants (integers):

* ``v``: 24-bit signed, saturating to ``[-(2**23 - 1), 2**23 - 1]`` after every update;
* decay: 12 bit, ``dv = round(4096·(1 - d))`` with ``d = exp(-g_l dt / C_m)``; the leak is
  ``v <- sign(v)·((|v|·(4096 - dv)) >> 12)`` (truncation toward zero, as on Loihi);
* bias: 13-bit signed mantissa and 3-bit exponent, ``b = bias_mant << bias_exp`` [LSB] added
  every step, ``b ≈ v_inf·(1 - d)/q_v`` (leaky) or ``I_bias·dt/(C_m·q_v)`` (IF);
* threshold: 17-bit mantissa shifted by 6, ``vth = vth_mant << 6``;
* ``v_reset`` and ``v_rest`` rounded to the voltage unit (24 bit).

One step (the contract's order A–D of :mod:`lif_bridge.semantics`, in integers)::

    A  v <- clip24(leak(v) + b)                      (non-refractory neurons)
    B  s = v >= vth                                  (Loihi 2 allows >=; Loihi 1's LIF uses >)
    C  v <- clip24(v + (a << 6)),  a = Σ 2·m·s_pre   (refractory neurons drop a)
    D  v <- v - vth  (subtract)   or   v <- v_reset  (zero)
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from lif_bridge.semantics import leak_constants

__all__ = [
    "ACT_SHIFT",
    "BIAS_EXP_MAX",
    "BIAS_MANT_MAX",
    "DECAY_BITS",
    "EXP_SPREAD",
    "VTH_MANT_MAX",
    "V_MAX",
    "WEIGHT_MANT_MAX",
    "FixedPointLayer",
    "block_exponents",
    "fixed_input",
    "fixed_leak",
    "quantize_blocks",
    "quantize_jumps",
    "quantize_population",
]

WEIGHT_MANT_MAX = 127
#: Largest ``e_k - e`` between the weight exponents of one population's projections.
EXP_SPREAD = 7
ACT_SHIFT = 6
V_BITS = 24
V_MAX = 2 ** (V_BITS - 1) - 1
DECAY_BITS = 12
DECAY_UNITY = 2**DECAY_BITS
BIAS_MANT_MAX = 2**12 - 1
BIAS_EXP_MAX = 7
VTH_MANT_MAX = 2**17 - 1


@dataclass(frozen=True)
class FixedPointLayer:
    """Fixed-point constants of one population (see the module docstring for the formats).

    Attributes
    ----------
    weight_mant
        ``(n_out, n_in)`` int32 sparse matrix of mantissas ``m`` in [-127, 127], the blocks of
        the projections side by side, each in its own exponent.
    weight_exp
        The population's exponent ``e = min_k e_k`` (of its voltage unit).
    q_v
        Voltage unit [V per LSB], ``2**(e - 7)``.
    block_exps, block_columns
        Per projection: its exponent ``e_k`` (``W_k / C_m ≈ m_k·2**e_k`` [V]) and its number of
        columns.
    vanished
        Indices of the projections that have synapses but whose every mantissa rounds to 0.
    dv, bias_mant, bias_exp, vth_mant, v_reset, v_rest
        Per-neuron integer constants (int64 arrays).
    weight_rel_error
        ``||J - m·2**e_k||_2 / ||J||_2`` over all blocks (0 for an all-zero layer).
    weight_max_error
        ``max |J - m·2**e_k|`` [V].
    weights_clipped, bias_clipped, vth_clipped
        Number of weights, biases and thresholds that did not fit their format.
    decay_rel_error
        ``max |d_q - d| / max(1 - d, tiny)`` over neurons, ``d_q = 1 - dv/4096``.
    """

    weight_mant: sp.csr_matrix
    weight_exp: int
    q_v: float
    dv: np.ndarray
    bias_mant: np.ndarray
    bias_exp: np.ndarray
    vth_mant: np.ndarray
    v_reset: np.ndarray
    v_rest: np.ndarray
    weight_rel_error: float
    weight_max_error: float
    weights_clipped: int
    bias_clipped: int
    vth_clipped: int
    decay_rel_error: float
    block_exps: tuple[int, ...]
    block_columns: tuple[int, ...]
    vanished: tuple[int, ...] = ()

    @property
    def vth(self) -> np.ndarray:
        """Threshold in voltage units, ``vth_mant << 6``."""
        return self.vth_mant << ACT_SHIFT

    @property
    def bias(self) -> np.ndarray:
        """Bias per step in voltage units, ``bias_mant << bias_exp``."""
        return self.bias_mant << self.bias_exp

    @property
    def shifts(self) -> tuple[int, ...]:
        """Per projection, ``e_k - e``: the left shift of its sum (Lava's ``weight_exp``)."""
        return tuple(k - self.weight_exp for k in self.block_exps)

    def stored_blocks(self) -> list[sp.csr_matrix]:
        """Per projection, the weights handed to Lava's Dense/Sparse (``2·m_k``, int32)."""
        bounds = np.cumsum((0, *self.block_columns))
        csc = self.weight_mant.tocsc()
        return [
            sp.csr_matrix(csc[:, a:b] * 2, dtype=np.int32) for a, b in itertools.pairwise(bounds)
        ]

    @property
    def stored_weights(self) -> sp.csr_matrix:
        """The integer jumps of one spike in ``v``'s unit / 64: ``2·m_k·2**(e_k - e)``, int64.

        Equal to what a projection delivers through Lava's Dense/Sparse with
        ``weights = 2·m_k`` and ``weight_exp = e_k - e`` (a left shift of the sum).
        """
        blocks = [
            sp.csr_matrix(b, dtype=np.int64) * (1 << s)
            for b, s in zip(self.stored_blocks(), self.shifts, strict=True)
        ]
        return sp.csr_matrix(sp.hstack(blocks)) if len(blocks) > 1 else blocks[0].tocsr()


def _round_half_away(x: np.ndarray) -> np.ndarray:
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def quantize_population(
    matrix: sp.spmatrix,
    params: dict[str, np.ndarray],
    dt: float,
) -> FixedPointLayer:
    """Quantise one population's synapses and neuron constants to Loihi formats.

    Parameters
    ----------
    matrix
        ``(n_out, n_in)`` composed synaptic matrix ``W`` [C] (``population_matrix``).
    params
        ``Neurons.broadcast(n_out)``: ``c_m, g_l, v_th, v_reset, v_rest, i_bias`` per neuron.
    dt
        Time step [s].
    """
    c_m = params["c_m"]
    jump = sp.csr_matrix(sp.diags(1.0 / c_m) @ sp.csr_matrix(matrix, dtype=np.float64))
    return quantize_jumps(jump, params, dt)


def quantize_jumps(
    jump: sp.spmatrix,
    params: dict[str, np.ndarray],
    dt: float,
) -> FixedPointLayer:
    """:func:`quantize_population` from the voltage jumps ``J = diag(1/C_m)·W`` [V]."""
    return quantize_blocks([jump], params, dt)


def _peak_exponent(block: sp.csr_matrix) -> int | None:
    peak = float(np.abs(block.data).max()) if block.nnz else 0.0
    return int(np.ceil(np.log2(peak / WEIGHT_MANT_MAX))) if peak > 0 else None


def block_exponents(blocks: list[sp.csr_matrix], v_th_peak: float) -> tuple[int, ...]:
    """Exponent ``e_k`` of each block (module docstring), at most :data:`EXP_SPREAD` apart.

    Each is at least the exponent that keeps the largest threshold representable
    (``v_th·2**(1-e) <= VTH_MANT_MAX``); an all-zero block takes the largest.
    """
    e_th = int(np.ceil(np.log2(v_th_peak / VTH_MANT_MAX) + 1))
    own = [_peak_exponent(b) for b in blocks]
    top = max((e for e in own if e is not None), default=-7)
    return tuple(max(top if e is None else e, e_th, top - EXP_SPREAD) for e in own)


def quantize_blocks(
    blocks: list[sp.spmatrix],
    params: dict[str, np.ndarray],
    dt: float,
) -> FixedPointLayer:
    """Quantise the voltage jumps of a population's projections (one block each), and its
    neurons in the voltage unit of the finest block (module docstring).

    Parameters
    ----------
    blocks
        Per incoming projection, ``(n_out, n_in_k)`` jumps ``J_k = diag(1/C_m)·W_k`` [V].
    params, dt
        As for :func:`quantize_population`.
    """
    c_m = params["c_m"]
    # copies: the caller's matrices stay intact
    mats = [sp.csr_matrix(b, dtype=np.float64, copy=True) for b in blocks]
    exps = block_exponents(mats, float(np.max(params["v_th"])))
    e = min(exps)
    q_v = 2.0 ** (e - ACT_SHIFT - 1)
    jump = sp.csr_matrix(sp.hstack(mats)) if len(mats) > 1 else mats[0]
    unit = np.concatenate([np.full(m.shape[1], 2.0**k) for m, k in zip(mats, exps, strict=True)])
    scaled = jump.data / unit[jump.indices]
    mant = _round_half_away(scaled)
    clipped = int(np.count_nonzero(np.abs(mant) > WEIGHT_MANT_MAX))
    mant = np.clip(mant, -WEIGHT_MANT_MAX, WEIGHT_MANT_MAX)
    err = jump.data - mant * unit[jump.indices]
    norm = float(np.linalg.norm(jump.data))
    wm = sp.csr_matrix(
        (mant.astype(np.int32), jump.indices.copy(), jump.indptr.copy()), shape=jump.shape
    )
    wm.eliminate_zeros()
    bounds = np.cumsum([0] + [m.shape[1] for m in mats])
    kept = np.bincount(np.searchsorted(bounds, wm.indices, side="right") - 1, minlength=len(mats))
    vanished = tuple(i for i, m in enumerate(mats) if m.count_nonzero() and not kept[i])

    d, v_inf = leak_constants(c_m, params["g_l"], params["i_bias"], params["v_rest"], dt)
    leaky = params["g_l"] > 0
    dv = np.clip(np.round(DECAY_UNITY * (1.0 - d)), 0, DECAY_UNITY).astype(np.int64)
    dq = 1.0 - dv / DECAY_UNITY
    if not leaky.any():
        decay_err = 0.0
    else:
        decay_err = float(np.max((np.abs(dq - d) / np.maximum(1.0 - d, 1e-300))[leaky]))
    b_volt = np.where(leaky, np.nan_to_num(v_inf) * (1.0 - d), params["i_bias"] * dt / c_m)
    b_lsb = b_volt / q_v
    need = np.abs(b_lsb) / BIAS_MANT_MAX
    bias_exp = np.zeros(b_lsb.shape, dtype=np.int64)
    big = need > 1
    bias_exp[big] = np.ceil(np.log2(need[big])).astype(np.int64)
    bias_clipped = int(np.count_nonzero(bias_exp > BIAS_EXP_MAX))
    bias_exp = np.minimum(bias_exp, BIAS_EXP_MAX)
    bias_mant = np.clip(
        _round_half_away(b_lsb / 2.0**bias_exp), -BIAS_MANT_MAX, BIAS_MANT_MAX
    ).astype(np.int64)

    vth_mant = np.round(params["v_th"] * 2.0 ** (1 - e))
    vth_clipped = int(np.count_nonzero((vth_mant > VTH_MANT_MAX) | (vth_mant < 1)))
    vth_mant = np.clip(vth_mant, 1, VTH_MANT_MAX).astype(np.int64)

    def volt(x: np.ndarray) -> np.ndarray:
        return np.clip(_round_half_away(x / q_v), -V_MAX, V_MAX).astype(np.int64)

    return FixedPointLayer(
        weight_mant=wm,
        weight_exp=e,
        q_v=q_v,
        dv=dv,
        bias_mant=bias_mant,
        bias_exp=bias_exp,
        vth_mant=vth_mant,
        v_reset=volt(params["v_reset"]),
        v_rest=volt(params["v_rest"]),
        weight_rel_error=float(np.linalg.norm(err) / norm) if norm > 0 else 0.0,
        weight_max_error=float(np.abs(err).max()) if err.size else 0.0,
        weights_clipped=clipped,
        bias_clipped=bias_clipped,
        vth_clipped=vth_clipped,
        decay_rel_error=decay_err,
        block_exps=exps,
        block_columns=tuple(m.shape[1] for m in mats),
        vanished=vanished,
    )


def _clip24(new: np.ndarray) -> tuple[np.ndarray, int, int]:
    high = int(np.count_nonzero(new > V_MAX))
    low = int(np.count_nonzero(new < -V_MAX))
    return np.clip(new, -V_MAX, V_MAX), high, low


def fixed_leak(v: np.ndarray, dv: np.ndarray, bias: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Phase A in integers: ``clip24(sign(v)·((|v|·(4096 - dv)) >> 12) + bias)``.

    Returns the new ``v`` (int64) and the numbers of values clipped at the top and the bottom.
    """
    decayed = np.sign(v) * ((np.abs(v) * (DECAY_UNITY - dv)) >> DECAY_BITS)
    return _clip24(decayed + bias)


def fixed_input(v: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, int, int]:
    """Phase C in integers: ``clip24(v + (a << 6))``; ``v`` and the top/bottom clip counts."""
    return _clip24(v + (np.asarray(a, dtype=np.int64) << ACT_SHIFT))
