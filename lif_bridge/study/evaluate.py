r"""One point of a sweep: build its network, run a shard of samples, join the shards.

These are the functions a Dask worker runs; they need numpy and lif-bridge only (no torch, no
Dask). A point's network is re-scaled from the raw description on the worker
(:func:`build_point`), every shard of samples runs through :func:`run_shard`, and
:func:`summarise` joins the shards (in sample order) into one table row. A shard's spike trains
depend only on the encoder's seed and the samples' indices in the data set, so a point gives the
same counts however its samples are split and wherever they run.

Figures of a row
----------------
``agreement``
    Fraction of samples whose SNN label (most output spikes, lowest index on ties) equals the
    ANN's arg-max; ``ties``/``silent`` count samples with a shared top count / no output spike.
``ann_accuracy``, ``snn_accuracy``
    Against the labels (``None`` without labels).
``spikes_per_neuron``
    Spikes per neuron and sample over the window, all populations; ``spikes_per_neuron:L`` for
    population ``L``.
``synops``
    Synaptic operations per sample (every input and population spike times its fan-out; an upper
    bound behind a spiking max pool), see :func:`lif_bridge.analysis.synaptic_operations`.
``convert_s``, ``run_s``, ``wall_s``
    Conversion time, summed simulation time of the shards (lowering excluded), and the wall
    time from the point's first shard start to its last shard end [s].
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lif_bridge.analysis import accuracy, agreement, synaptic_operations
from lif_bridge.ann import ann_forward
from lif_bridge.backend import Result, get_backend
from lif_bridge.errors import LifBridgeError
from lif_bridge.network import Network, Neurons, Readout, Simulation
from lif_bridge.network.encoders import spike_probability
from lif_bridge.study.points import encoder_from_name

__all__ = [
    "build_point",
    "input_spike_counts",
    "is_raw",
    "point_simulation",
    "run_shard",
    "summarise",
]

#: Samples per chunk when counting input spikes (memory: chunk × steps × inputs bytes).
_ENCODE_CHUNK = 16


def is_raw(network: Network) -> bool:
    """Whether ``network`` is a raw description (not yet through ``convert_network``)."""
    return "conversion" not in network.metadata


def build_point(
    source: Network, point: Mapping[str, Any], calibration: np.ndarray | None
) -> dict[str, Any]:
    """The point's network: ``source`` itself, or ``source`` re-scaled when it is raw.

    Returns
    -------
    dict
        ``network`` and ``convert_s`` (seconds).
    """
    start = time.perf_counter()
    if not is_raw(source):
        return {"network": source, "convert_s": 0.0}
    from lif_bridge.convert.scale import convert_network

    template = Neurons(
        c_m=1.0, v_th=1.0, reset=point.get("reset", "subtract"), g_l=point.get("g_l", 0.0)
    )
    normalize = point.get("normalize", "none")
    network = convert_network(
        source,
        bias_mode=point.get("bias_mode", "current"),
        normalize=normalize,
        percentile=point.get("percentile", 99.9),
        calibration=calibration if normalize != "none" else None,
        neurons=template,
        max_rate=point.get("max_rate"),
        layer_rate=point.get("layer_rate"),
    )
    return {"network": network, "convert_s": time.perf_counter() - start}


def point_simulation(network: Network, point: Mapping[str, Any]) -> Simulation:
    """The point's simulation (counts of every population are read out).

    The input rate is the network's (the one it was converted for, ``max_rate`` of a raw point).
    """
    return Simulation(
        steps=int(point.get("steps", 300)),
        dt=float(point.get("dt", 0.01)),
        encoder=encoder_from_name(point.get("encoder", "regular")),
        readout=Readout(counts="all"),
    )


def input_spike_counts(sim: Simulation, network: Network, x: np.ndarray, start: int) -> np.ndarray:
    """Input spikes (amounts for analog coding) per sample and input unit over the window."""
    p = spike_probability(x.reshape(len(x), -1), sim.input_rate(network), sim.dt)
    out = np.empty(p.shape, dtype=np.float64)
    for a in range(0, len(p), _ENCODE_CHUNK):
        chunk = p[a : a + _ENCODE_CHUNK]
        out[a : a + len(chunk)] = sim.encoder.encode(chunk, sim.steps, start + a).sum(axis=1)
    return out


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "in-process"


def run_shard(
    built: Mapping[str, Any],
    point: Mapping[str, Any],
    x: np.ndarray,
    start: int,
    stop: int,
    backend_options: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run samples ``x[start:stop]`` of one point.

    Returns
    -------
    dict
        ``start``, ``counts`` (output counts), ``ann`` (ANN outputs, ANN units), ``spikes``
        (population -> total spikes), ``synops`` (total), ``run_s``, ``t0``/``t1`` (wall clock
        of the shard) and ``worker``.

    Raises
    ------
    LifBridgeError
        With the worker named, e.g. when the backend is not installed on it.
    """
    t0 = time.time()
    network: Network = built["network"]
    xs = np.asarray(x[start:stop])
    sim = point_simulation(network, point)
    worker = _worker_name()
    try:
        backend = get_backend(point.get("backend", "reference"), **dict(backend_options or {}))
        program = backend.lower(network, sim)
        try:
            result: Result = program.run(xs, start_index=start)
        finally:
            program.close()
    except LifBridgeError as exc:
        raise type(exc)(f"{exc} (worker {worker})") from exc
    inputs = input_spike_counts(sim, network, xs, start)
    return {
        "start": start,
        "counts": result.output_counts.astype(np.int64),
        "ann": ann_forward(network, xs, max_rate=sim.input_rate(network), units="ann"),
        "spikes": {k: float(np.sum(v)) for k, v in result.counts.items()},
        "synops": float(np.sum(synaptic_operations(network, result, inputs))),
        "run_s": float(result.seconds),
        "t0": t0,
        "t1": time.time(),
        "worker": worker,
    }


def summarise(
    point: Mapping[str, Any],
    built: Mapping[str, Any],
    shards: Sequence[Mapping[str, Any]],
    labels: np.ndarray | None,
) -> dict[str, Any]:
    """One table row from the shards of a point (joined in sample order)."""
    network: Network = built["network"]
    parts = sorted(shards, key=lambda s: s["start"])
    counts = np.concatenate([s["counts"] for s in parts])
    ann = np.concatenate([s["ann"] for s in parts])
    n = len(counts)
    agree = agreement(counts, ann)
    sizes = {p.name: p.size for p in network.populations}
    spikes = {k: sum(s["spikes"][k] for s in parts) for k in sizes}
    row: dict[str, Any] = dict(point)
    row.update(
        {
            "status": "ok",
            "samples": n,
            "agreement": agree.fraction,
            "ties": agree.ties,
            "silent": agree.silent,
            "ann_accuracy": accuracy(ann, labels) if labels is not None else None,
            "snn_accuracy": accuracy(counts, labels) if labels is not None else None,
            "spikes_per_neuron": sum(spikes.values()) / (sum(sizes.values()) * n),
            "synops": sum(s["synops"] for s in parts) / n,
            "convert_s": float(built["convert_s"]),
            "run_s": sum(s["run_s"] for s in parts),
            "wall_s": max(s["t1"] for s in parts) - min(s["t0"] for s in parts),
            "workers": len({s["worker"] for s in parts}),
        }
    )
    for name, size in sizes.items():
        row[f"spikes_per_neuron:{name}"] = spikes[name] / (size * n)
    return row
