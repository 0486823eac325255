"""Parameter sweeps, every point and every shard of samples on Dask (or in-process).

:func:`run_sweep` takes a description (raw or converted), the samples, and a grid dict; it runs
every point not already finished in the output folder, each point's samples split into shards
of ``shard_size`` (the same shards in every mode, so the counts do not depend on where they
run), and writes each point's row as soon as its last shard arrives (:class:`SweepStore`).

Where it runs:

* ``workers=0``: in this process, point after point (no Dask needed);
* ``scheduler="tcp://HOST:PORT"``: an existing Dask cluster; its workers need numpy, scipy and
  lif-bridge (plus the framework of any backend they run), never torch;
* otherwise a :class:`distributed.LocalCluster` of ``workers`` processes (default: one per
  CPU core) with ``threads`` threads each (default 1: the simulation is numpy-bound).

A point that fails (bad parameters for this network, a backend its worker lacks) gets an
``error`` row naming the exception and the worker; the others go on. Dask sends the tasks'
arguments between its own processes with its serialisation (pickle inside the cluster); no
file a user gives is unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.errors import BackendUnavailableError, ValidationError
from lif_bridge.limits import check_runs
from lif_bridge.network import Network
from lif_bridge.progress import progress_bar
from lif_bridge.study.evaluate import build_point, is_raw, run_shard, summarise
from lif_bridge.study.points import grid_points, point_id
from lif_bridge.study.store import SweepStore

__all__ = ["SweepOutcome", "fingerprint", "run_sweep"]

RowHook = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep did.

    Attributes
    ----------
    rows
        One row per point of the grid, in grid order (finished before or now, or failed).
    computed
        Points computed in this call (ok or failed).
    reused
        Points whose ``ok`` row was already in the folder.
    folder
        The sweep folder.
    """

    rows: list[dict[str, Any]]
    computed: int
    reused: int
    folder: Path

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The rows with ``status == "error"``."""
        return [r for r in self.rows if r.get("status") != "ok"]


def fingerprint(*arrays: Any) -> str:
    """SHA-256 (16 hex digits) of arrays and of the fields of network descriptions."""
    h = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, Network):
            h.update(repr(value.input_shape).encode())
            for layer in value.layers:
                h.update(type(layer).__name__.encode())
                for f in fields(layer):
                    feed(getattr(layer, f.name))
        elif hasattr(value, "__dataclass_fields__"):
            for f in fields(value):
                feed(getattr(value, f.name))
        elif isinstance(value, np.ndarray):
            h.update(str(value.dtype).encode() + repr(value.shape).encode())
            h.update(np.ascontiguousarray(value).tobytes())
        else:
            h.update(repr(value).encode())

    for a in arrays:
        feed(a)
    return h.hexdigest()[:16]


def _shards(n: int, size: int) -> list[tuple[int, int]]:
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def _error_row(point: Mapping[str, Any], exc: BaseException) -> dict[str, Any]:
    return {**dict(point), "status": "error", "error": f"{type(exc).__name__}: {exc}"}


@contextlib.contextmanager
def _client(workers: int | None, threads: int | None, scheduler: str | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise BackendUnavailableError(
            "sweeps on Dask need dask[distributed]: pip install 'lif-bridge[sweep]' "
            "(or run in-process with workers=0 / --workers 0)"
        ) from exc
    with contextlib.ExitStack() as stack:
        if scheduler:
            try:
                client = stack.enter_context(Client(scheduler, timeout="20s"))
            except (OSError, TimeoutError) as exc:
                raise ValidationError(
                    f"cannot reach the Dask scheduler {scheduler!r} ({exc}); start it with "
                    "`dask scheduler` and give its tcp://HOST:PORT"
                ) from exc
        else:
            n = workers if workers is not None else max(1, os.cpu_count() or 1)
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n,
                    threads_per_worker=threads or 1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )
            client = stack.enter_context(Client(cluster))
        yield client


def run_sweep(
    source: Network,
    x: np.ndarray,
    grid: Mapping[str, Sequence[Any]],
    out: str | os.PathLike[str],
    *,
    labels: np.ndarray | None = None,
    calibration: np.ndarray | None = None,
    defaults: Mapping[str, Any] | None = None,
    workers: int | None = None,
    threads: int | None = None,
    scheduler: str | None = None,
    shard_size: int = 64,
    backend_options: Mapping[str, Any] | None = None,
    data_name: str = "",
    progress: bool = True,
    on_row: RowHook | None = None,
) -> SweepOutcome:
    """Run every point of ``grid`` on ``x`` (see the module docstring).

    Parameters
    ----------
    source
        A raw description (conversion parameters allowed) or a converted network.
    x, labels
        Samples ``(n, *input_shape)`` in [0, 1]; labels (optional) for the accuracies.
    grid
        Parameter -> values, see :mod:`lif_bridge.study.points`.
    out
        Sweep folder (resumed when it holds rows of the same network and data).
    calibration
        Calibration samples for normalised conversions.
    defaults
        Values of parameters not in the grid (``steps``, ``dt``, ``encoder``...).
    workers, threads, scheduler
        Where to run: ``workers=0`` in-process; ``scheduler`` an existing Dask cluster; else a
        LocalCluster of ``workers`` processes × ``threads`` threads.
    shard_size
        Samples per task (>= 1).
    backend_options
        Keyword options of the backend (e.g. ``batch_size``).
    data_name
        Name of the data set, for the manifest and report.
    progress
        Progress bars over points and samples.
    on_row
        Called with each row as it is stored.
    """
    x = np.asarray(x)
    points = _checked_points(source, x, grid, defaults, calibration, shard_size, workers)
    store = SweepStore(out, _manifest(source, x, grid, labels, calibration, data_name, shard_size))
    todo = [p for p in points if not store.finished(p)]
    if todo:
        _execute(
            store,
            todo,
            (source, x, labels, calibration, _shards(len(x), shard_size), backend_options),
            (workers, threads, scheduler),
            progress=progress,
            on_row=on_row,
        )
    return SweepOutcome(
        rows=store.table(points),
        computed=len(todo),
        reused=len(points) - len(todo),
        folder=store.folder,
    )


def _checked_points(
    source: Network,
    x: np.ndarray,
    grid: Mapping[str, Sequence[Any]],
    defaults: Mapping[str, Any] | None,
    calibration: np.ndarray | None,
    shard_size: int,
    workers: int | None,
) -> list[dict[str, Any]]:
    """The grid's points, after checking the sweep's arguments and sizes against the limits."""
    if not isinstance(shard_size, int) or shard_size < 1:
        raise ValidationError(f"shard_size must be an int >= 1, got {shard_size!r}")
    if workers is not None and workers < 0:
        raise ValidationError(f"workers must be >= 0, got {workers}")
    if len(x) == 0:
        raise ValidationError("the sweep has no samples")
    points = grid_points(grid, raw=is_raw(source), defaults=defaults)
    check_runs(source, [int(p.get("steps", 300)) for p in points], len(x), what="grid: steps")
    if any(p.get("normalize", "none") != "none" for p in points) and calibration is None:
        raise ValidationError("normalisation needs calibration samples (calibration=...)")
    return points


def _manifest(
    source: Network,
    x: np.ndarray,
    grid: Mapping[str, Sequence[Any]],
    labels: np.ndarray | None,
    calibration: np.ndarray | None,
    data_name: str,
    shard_size: int,
) -> dict[str, Any]:
    """What a sweep folder is for: the network, the data, the sharding and the grid."""
    return {
        "network": fingerprint(source),
        "data": fingerprint(x, labels, calibration),
        "data_name": data_name,
        "samples": len(x),
        "shard_size": shard_size,
        "grids": [jsonable_grid(grid)],
    }


def _execute(
    store: SweepStore,
    todo: list[dict[str, Any]],
    work: tuple[Any, ...],
    where: tuple[int | None, int | None, str | None],
    *,
    progress: bool,
    on_row: RowHook | None,
) -> None:
    """Run the points ``todo`` in-process or on Dask, storing each row as it comes.

    ``work`` is ``(source, x, labels, calibration, shards, backend_options)``; ``where`` is
    ``(workers, threads, scheduler)``.
    """
    workers, threads, scheduler = where
    n_samples = len(work[1])

    def keep(point: Mapping[str, Any], row: dict[str, Any]) -> None:
        store.add(point, row)
        if on_row is not None:
            on_row(store.rows[point_id(point)])

    bars = (
        progress_bar(len(todo), "points", enabled=progress, unit="point"),
        progress_bar(len(todo) * n_samples, "samples", enabled=progress, unit="sample"),
    )
    try:
        source, x, labels, calibration, shards, backend_options = work
        args = (source, x, labels, calibration, todo, shards, backend_options, keep, bars)
        if workers == 0 and not scheduler:
            _run_inprocess(*args)
        else:
            with _client(workers, threads, scheduler) as client:
                _run_dask(client, *args)
    finally:
        for bar in bars:
            bar.close()


def jsonable_grid(grid: Mapping[str, Sequence[Any]]) -> dict[str, list[Any]]:
    """The grid with every value list as a JSON list."""
    return {k: [v] if isinstance(v, (str, int, float)) else [*v] for k, v in grid.items()}


def _run_inprocess(
    source: Network,
    x: np.ndarray,
    labels: np.ndarray | None,
    calibration: np.ndarray | None,
    todo: list[dict[str, Any]],
    shards: list[tuple[int, int]],
    backend_options: Mapping[str, Any] | None,
    keep: Callable[[Mapping[str, Any], dict[str, Any]], None],
    bars: tuple[Any, Any],
) -> None:
    for point in todo:
        parts: list[dict[str, Any]] = []
        try:
            built = build_point(source, point, calibration)
            for a, b in shards:
                parts.append(run_shard(built, point, x, a, b, backend_options))
                bars[1].update(b - a)
            row = summarise(point, built, parts, labels)
        except Exception as exc:  # a failing point is reported, the others go on
            row = _error_row(point, exc)
            bars[1].update(len(x) - sum(b - a for a, b in shards[: len(parts)]))
        keep(point, row)
        bars[0].update(1)


def _run_dask(
    client: Any,
    source: Network,
    x: np.ndarray,
    labels: np.ndarray | None,
    calibration: np.ndarray | None,
    todo: list[dict[str, Any]],
    shards: list[tuple[int, int]],
    backend_options: Mapping[str, Any] | None,
    keep: Callable[[Mapping[str, Any], dict[str, Any]], None],
    bars: tuple[Any, Any],
) -> None:
    from distributed import as_completed

    src_f = client.scatter(source, broadcast=True)
    x_f = client.scatter(x, broadcast=True)
    cal_f = client.scatter(calibration, broadcast=True) if calibration is not None else None
    owner: dict[Any, int] = {}
    state: list[dict[str, Any]] = []
    for i, point in enumerate(todo):
        prio = len(todo) - i  # earlier points first
        built_f = client.submit(build_point, src_f, point, cal_f, pure=False, priority=prio)
        futs = [
            client.submit(
                run_shard, built_f, point, x_f, a, b, backend_options, pure=False, priority=prio
            )
            for a, b in shards
        ]
        state.append({"point": point, "built": built_f, "futs": futs, "parts": [], "done": False})
        owner.update({f: i for f in futs})
    try:
        for fut in as_completed(list(owner)):
            st = state[owner.pop(fut)]
            if st["done"]:
                continue
            if fut.status == "error":
                exc = fut.exception()
                st["done"] = True
                client.cancel([f for f in st["futs"] if f in owner])
                bars[1].update(len(x) - sum(len(p["counts"]) for p in st["parts"]))
                keep(st["point"], _error_row(st["point"], exc))
                bars[0].update(1)
                continue
            part = fut.result()
            st["parts"].append(part)
            bars[1].update(len(part["counts"]))
            if len(st["parts"]) == len(st["futs"]):
                st["done"] = True
                row = summarise(st["point"], st["built"].result(), st["parts"], labels)
                keep(st["point"], row)
                bars[0].update(1)
                st["futs"], st["built"], st["parts"] = [], None, []
    finally:
        client.cancel(list(owner))
