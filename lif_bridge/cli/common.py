"""Shared pieces of the command line (also for commands that backends contribute): one-line
errors, JSON output, data sets.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "add_backend_arg",
    "add_data_args",
    "emit",
    "fail",
    "load_split",
    "positive_int",
    "resolve_data_dir",
]


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1, also written like ``1e6``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}") from None
    if not math.isfinite(value) or value < 1 or not value.is_integer():
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return int(text) if text.strip().lstrip("+").isdigit() else int(value)


def add_backend_arg(parser: argparse.ArgumentParser, default: str = "reference") -> None:
    """``--backend NAME``; the chosen backend's own options are added when the parser is built
    (see :func:`lif_bridge.cli.build_parser`)."""
    from lif_bridge.backend import available_backends

    names = available_backends()

    def registered(name: str) -> str:
        if name not in names:
            raise argparse.ArgumentTypeError(
                f"backend {name!r} is not registered; registered backends: {', '.join(names)}"
            )
        return name

    parser.add_argument(
        "--backend",
        default=default,
        type=registered,
        metavar="{" + ",".join(names) + "}",
        help=f"simulator backend (registered: {', '.join(names)}; default: {default}); "
        "`--backend NAME --help` shows that backend's options",
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
        help="data set: 'mnist' (IDX files in --data-dir), 'digits' (the shipped 8x8 "
        "digits, no download) or a .npz with arrays x (and y)",
    )
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the MNIST IDX files (directly, under mnist/, or torchvision's "
        "MNIST/raw/); default $LIF_BRIDGE_DATA_DIR",
    )
    parser.add_argument(
        "--limit", type=positive_int, default=None, help="take only the first K samples"
    )


def load_split(
    name: str, split: str, data_dir: str | None, limit: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Images (and labels, if any) of a data set named on the command line."""
    from lif_bridge.data import load_dataset

    ds = load_dataset(name, split=split, data_dir=resolve_data_dir(data_dir), limit=limit)
    return ds.x, ds.y


def emit(payload: dict[str, Any], as_json: bool, text: str) -> None:
    """Print ``payload`` as JSON (non-finite numbers as ``null``: JSON has no Infinity or
    NaN), or ``text`` for people."""
    if as_json:
        print(json.dumps(_finite(payload), indent=2, default=_jsonable, allow_nan=False))
    else:
        print(text)


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite(value.tolist())
    if isinstance(value, (float, np.floating)) and not math.isfinite(float(value)):
        return None
    return value


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
