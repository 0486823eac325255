"""Single-neuron measurements shared by S1 and S2: onset, slope, clock-driven cross-check.

Everything is measured on :func:`lif_bridge.transfer.lif_rate` (exact, event-driven) or, for
the cross-check, on a one-neuron network run by a backend on a fine clock.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lif_bridge.backend import simulate
from lif_bridge.network import Dense, Network, Neurons, Simulation
from lif_bridge.transfer import lif_rate

__all__ = ["TABLE2", "clock_rates", "measure_onset", "measure_slope"]

#: The neuron of the paper's Table 2 (and Table 3): weights [C], g_l [S], C_m [F], V_th [V].
TABLE2: dict[str, object] = {"weights": (0.3, 0.2), "g_l": 3.0, "c_m": 1.0, "v_th": 1.0}


def measure_onset(
    weights: Sequence[float],
    direction: Sequence[float],
    *,
    g_l: float,
    c_m: float = 1.0,
    v_th: float = 1.0,
    reset: str = "subtract",
    duration: float = 200.0,
    hi: float = 200.0,
    tol: float = 1e-4,
) -> float:
    """Smallest ``f`` [Hz] for which input rates ``f · direction`` make the neuron fire.

    Bisection on ``lif_rate(...) > 0`` (exact transfer over ``duration`` seconds) between 0 and
    ``hi``; ``nan`` if it does not fire at ``hi``.
    """
    d = np.asarray(direction, dtype=np.float64)

    def fires(f: float) -> bool:
        return (
            lif_rate(weights, f * d, g_l=g_l, c_m=c_m, v_th=v_th, reset=reset, duration=duration)
            > 0
        )

    if not fires(hi):
        return float("nan")
    lo = 0.0
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        if fires(mid):
            hi = mid
        else:
            lo = mid
    return hi


def measure_slope(
    weights: Sequence[float],
    direction: Sequence[float],
    rates: np.ndarray,
    *,
    g_l: float,
    c_m: float = 1.0,
    v_th: float = 1.0,
    reset: str = "subtract",
    duration: float = 200.0,
) -> float:
    """Measured ReLU slope ``k``: d(output rate) / d(Σ w_i f_i) fitted over ``rates`` [Hz].

    The inputs are ``f · direction`` for each ``f`` in ``rates`` (all above the onset); the
    least-squares slope of the output rate against the weighted input ``Σ w_i f_i`` is the
    ``k`` of the ReLU the neuron realises (theory: ``1/(V_th C_m)``).
    """
    w = np.asarray(weights, dtype=np.float64)
    d = np.asarray(direction, dtype=np.float64)
    drive = np.array([float(w @ (f * d)) for f in rates])
    out = np.array(
        [
            lif_rate(w, f * d, g_l=g_l, c_m=c_m, v_th=v_th, reset=reset, duration=duration)
            for f in rates
        ]
    )
    return float(np.polyfit(drive, out, 1)[0])


def clock_rates(
    weights: Sequence[float],
    rates: np.ndarray,
    *,
    g_l: float,
    c_m: float = 1.0,
    v_th: float = 1.0,
    reset: str = "subtract",
    dt: float = 1e-4,
    duration: float = 5.0,
    backend: str = "reference",
) -> np.ndarray:
    """Output rates [Hz] of the same neuron run clock-driven by a backend.

    Parameters
    ----------
    rates
        ``(points, inputs)`` input rates [Hz]; each point is one sample of a batch, coded as
        regular trains on the grid (:class:`lif_bridge.RegularRate`).
    dt, duration
        Time step and window [s].
    """
    r = np.atleast_2d(np.asarray(rates, dtype=np.float64))
    max_rate = float(max(r.max(), 1.0))
    net = Network(
        input_shape=(r.shape[1],),
        layers=(
            Dense(
                name="neuron",
                weight=np.asarray(weights, dtype=np.float64)[None, :],
                neurons=Neurons(g_l=g_l, c_m=c_m, v_th=v_th, reset=reset),  # type: ignore[arg-type]
            ),
        ),
    )
    sim = Simulation(steps=round(duration / dt), dt=dt, max_rate=max_rate)
    result = simulate(net, r / max_rate, sim, backend)
    return result.rates()[:, 0]
