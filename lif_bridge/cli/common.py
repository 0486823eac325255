"""Shared pieces of the command line (also for commands that backends contribute): one-line
errors, JSON output, data sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["add_backend_arg", "add_data_args", "emit", "fail", "load_split", "resolve_data_dir"]


def add_backend_arg(parser: argparse.ArgumentParser, default: str = "reference") -> None:
    """``--backend NAME``; the chosen backend's own options are added when the parser is built
    (see :func:`lif_bridge.cli.build_parser`)."""
    from lif_bridge.backend import available_backends

    parser.add_argument(
        "--backend",
        default=default,
        metavar="NAME",
        help=f"simulator backend, one of: {', '.join(available_backends())} (default: "
        f"{default}); `--backend NAME --help` shows that backend's options",
    )


def resolve_data_dir(arg: str | None) -> str | None:
    """``--data-dir`` if given, else ``$LIF_BRIDGE_DATA_DIR``, else ``None``
    (:func:`lif_bridge.data.resolve_data_dir`, not required)."""
    from lif_bridge.data import resolve_data_dir as resolve

    folder = resolve(arg, required=False)
    return None if folder is None else str(folder)


def add_data_args(parser: argparse.ArgumentParser, *, data_default: str | None = "digits") -> None:
    """``--data``, ``--data-dir`` and ``--limit``."""
    parser.add_argument(
        "--data",
        default=data_default,
        help="data set: 'mnist' (IDX files in --data-dir), 'digits' (scikit-learn's 8x8, "
        "no download) or a .npz with arrays x (and y)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST IDX files (directly, under mnist/, or torchvision's "
        "MNIST/raw/); default $LIF_BRIDGE_DATA_DIR",
    )
    parser.add_argument("--limit", type=int, default=None, help="take only the first K samples")


def load_split(
    name: str, split: str, data_dir: str | None, limit: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (and labels, if any) of a data set named on the command line."""
    from lif_bridge.data import load_dataset

    ds = load_dataset(name, split=split, data_dir=resolve_data_dir(data_dir), limit=limit)
    return ds.x, ds.y


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    """Print ``payload`` as JSON, or ``text`` for people."""
    if as_json:
        print(json.dumps(payload, indent=2, default=_jsonable))
    else:
        print(text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def fail(message: str, code: int = 2) -> int:
    """Print a one-line error to stderr and return the exit code."""
    print(f"lif-bridge: error: {message}", file=sys.stderr)
    return code
