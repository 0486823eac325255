"""The paper's experiments, reproduced: S1, S2, FC, CNN, ERR (Lu & Xu 2022, mapping.md §7).

Each experiment is a module with ``run(ctx) -> dict`` (settings, a comparison table with the
paper's numbers next to the measured ones, figure names, raw data). :func:`run_experiments`
runs a selection, writes the figures, ``report.md`` and ``results.json`` into one folder, and
returns the results. DEEP (AlexNet / VGG-16 on CIFAR-10) is not reproduced: CIFAR-10 cannot be
fetched here.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lif_bridge.errors import ValidationError
from lif_bridge.experiments._common import (
    SEED,
    Context,
    Stopwatch,
    jsonable,
    limit_threads,
    write_json,
)

__all__ = ["EXPERIMENTS", "resolve_names", "run_experiments"]

#: Experiment id -> module (under ``lif_bridge.experiments``), in report order.
EXPERIMENTS: dict[str, str] = {
    "S1": "s1",
    "S2": "s2",
    "FC": "fc",
    "CNN": "cnn",
    "ERR": "err",
    "STUDY": "study",
    "TTFS": "ttfs",
}


def resolve_names(names: Iterable[str]) -> list[str]:
    """Upper-case experiment ids in report order; ``all`` means every one.

    Raises
    ------
    ValidationError
        For an unknown name (the known ones are listed).
    """
    chosen: set[str] = set()
    for name in names:
        key = str(name).strip().upper()
        if key == "ALL":
            chosen.update(EXPERIMENTS)
        elif key in EXPERIMENTS:
            chosen.add(key)
        elif key == "DEEP":
            raise ValidationError(
                "DEEP (AlexNet / VGG-16 on CIFAR-10) cannot be reproduced here: CIFAR-10 is not "
                "available offline; choose from " + ", ".join(EXPERIMENTS)
            )
        else:
            raise ValidationError(
                f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)} or 'all'"
            )
    if not chosen:
        raise ValidationError("no experiment given; choose from " + ", ".join(EXPERIMENTS))
    return [k for k in EXPERIMENTS if k in chosen]


def run_experiments(
    names: Iterable[str],
    out_dir: str | os.PathLike[str],
    *,
    data_dir: str | os.PathLike[str] | None = None,
    quick: bool = False,
    progress: bool = True,
    backend: str = "reference",
) -> dict[str, Any]:
    """Run experiments and write ``report.md``, ``results.json`` and PNG figures to ``out_dir``.

    Parameters
    ----------
    names
        Experiment ids (``"S1"``, ``"S2"``, ``"FC"``, ``"CNN"``, ``"ERR"``, case-insensitive) or
        ``"all"``.
    out_dir
        Output folder (created).
    data_dir
        Folder with the MNIST IDX files (FC, CNN, ERR); default ``$LIF_BRIDGE_DATA_DIR``.
    quick
        Reduced sizes for smoke tests; the default sizes are the paper's.
    progress
        Show progress bars.
    backend
        Backend for the network runs and the clock-driven single-neuron checks.

    Returns
    -------
    dict
        JSON-able: ``meta`` (settings, seed, wall time, versions) and ``experiments``
        (id -> result).
    """
    ids = resolve_names(names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = Context(
        out_dir=out,
        data_dir=str(data_dir) if data_dir is not None else None,
        quick=quick,
        progress=progress,
        backend=backend,
        seed=SEED,
    )
    clock = Stopwatch()
    results: dict[str, Any] = {}
    with limit_threads(1):
        for key in ids:
            module = importlib.import_module(f"lif_bridge.experiments.{EXPERIMENTS[key]}")
            if progress:
                print(f"[lif-bridge reproduce] {key} ...", file=sys.stderr, flush=True)
            results[key] = module.run(ctx)
    from lif_bridge import __version__

    payload = {
        "meta": {
            "experiments": ids,
            "quick": quick,
            "seed": SEED,
            "backend": backend,
            "data_dir": _data_dir_text(ctx.data_dir),
            "wall_seconds": clock.seconds,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "lif_bridge": __version__,
            "python": platform.python_version(),
            "numpy": _version("numpy"),
            "platform": platform.platform(),
            "threads": "BLAS limited to 1 thread (threadpoolctl)",
        },
        "experiments": results,
    }
    from lif_bridge.experiments.report import write_report

    payload = jsonable(payload)
    write_json(out / "results.json", payload)
    write_report(out / "report.md", payload)
    return payload


def _version(module: str) -> str:
    try:
        return str(importlib.import_module(module).__version__)
    except Exception:  # pragma: no cover - informational only
        return "unknown"


def _data_dir_text(data_dir: str | os.PathLike[str] | None) -> str | None:
    """The MNIST folder the run used, for the report (``None``: none was given)."""
    from lif_bridge.data import resolve_data_dir

    folder = resolve_data_dir(data_dir, required=False)
    return None if folder is None else str(folder)
