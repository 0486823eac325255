"""The results of a sweep on disk: one row file per point, the table, the manifest.

Layout of a sweep folder::

    sweep.json        manifest: what was swept (network and data fingerprints, grid)
    rows/ID.json      one row per finished (or failed) point, written atomically on arrival
    table.csv         every row, rewritten atomically after each arrival
    table.json        the same rows as a JSON list

A re-run with the same manifest reads ``rows/`` and computes only the points without an ``ok``
row (failed points are tried again). Every file is written to a temporary file in the same
folder and renamed over the target, with the permissions the umask gives, so an interrupted
run leaves no half file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lif_bridge.errors import ValidationError
from lif_bridge.fileio import atomic_write
from lif_bridge.study.points import point_id

__all__ = ["SweepStore", "atomic_write", "jsonable"]


def jsonable(value: Any) -> Any:
    """``value`` with numpy types and paths as JSON types; non-finite floats become ``None``."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, Path):
        return str(value)
    return value


class SweepStore:
    """Rows of one sweep in a folder (see the module docstring).

    Parameters
    ----------
    folder
        The sweep folder (created).
    manifest
        What is swept; a folder holding another manifest is refused, so rows of different
        networks or data never mix.
    """

    def __init__(self, folder: str | os.PathLike[str], manifest: Mapping[str, Any]) -> None:
        self.folder = Path(folder)
        self.rows_dir = self.folder / "rows"
        self.manifest = jsonable(dict(manifest))
        self._check_manifest()
        self.rows: dict[str, dict[str, Any]] = self._read_rows()

    def _check_manifest(self) -> None:
        path = self.folder / "sweep.json"
        if path.exists():
            try:
                old = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValidationError(f"{path}: unreadable sweep manifest ({exc})") from exc
            keys = ("network", "data", "samples", "shard_size")
            if any(old.get(k) != self.manifest.get(k) for k in keys):
                raise ValidationError(
                    f"{self.folder} holds a sweep of another network or data set "
                    f"({', '.join(k for k in keys if old.get(k) != self.manifest.get(k))} "
                    "differ); choose another --out folder"
                )
            self.manifest["grids"] = [*old.get("grids", []), *self.manifest.get("grids", [])]
        atomic_write(path, json.dumps(self.manifest, indent=2) + "\n")

    def _read_rows(self) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        if not self.rows_dir.is_dir():
            return rows
        for path in sorted(self.rows_dir.glob("*.json")):
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue  # never written completely: recomputed
            rows[path.stem] = row
        return rows

    def finished(self, point: Mapping[str, Any]) -> bool:
        """Whether ``point`` has an ``ok`` row."""
        row = self.rows.get(point_id(point))
        return row is not None and row.get("status") == "ok"

    def add(self, point: Mapping[str, Any], row: Mapping[str, Any]) -> None:
        """Store the row of ``point`` and rewrite the table."""
        pid = point_id(point)
        clean = jsonable({"id": pid, **dict(row)})
        atomic_write(self.rows_dir / f"{pid}.json", json.dumps(clean, indent=1) + "\n")
        self.rows[pid] = clean
        self.write_table()

    def table(self, points: Iterable[Mapping[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Rows (of ``points``, in their order; else all rows)."""
        if points is None:
            return list(self.rows.values())
        ids = [point_id(p) for p in points]
        return [self.rows[i] for i in ids if i in self.rows]

    def write_table(self) -> None:
        """Rewrite ``table.csv`` and ``table.json`` from every stored row."""
        rows = self.table()
        atomic_write(self.folder / "table.json", json.dumps(rows, indent=1) + "\n")
        columns: list[str] = []
        for row in rows:
            columns += [k for k in row if k not in columns]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, restval="", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
        atomic_write(self.folder / "table.csv", buf.getvalue())
