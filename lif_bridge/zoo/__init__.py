"""The paper's networks and their trained weights.

Factories build the ReLU networks of Lu & Xu (2022) as ``torch.nn.Sequential`` models, all
without bias (the paper trains them so; see ``shared/spec/mapping.md`` §7):

- :func:`paper_mlp`: 784-600-10 fully connected net for MNIST (experiment FC),
- :func:`paper_cnn`: the Table 5 ConvNet for MNIST (experiment CNN),
- :func:`digits_mlp`: a small 64-64-10 net for the shipped 8×8 digits (quick demos).

Trained weights ship beside this file as compressed float32 ``.npz`` archives whose keys are the
models' ``state_dict`` keys, so they can be read without torch (:func:`load_state_npz`).
``examples/train_*.py`` regenerate them. :func:`raw_network` gives a model's description with its
trained weights, :func:`paper_network` its spiking description (normalised or as trained): the
one builder of the paper nets, without torch. Importing this module does not import torch; only the
factories and :func:`pretrained` do.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lif_bridge.errors import DataError, FileFormatError, ValidationError
from lif_bridge.fileio import atomic_path

if TYPE_CHECKING:
    from torch import nn

__all__ = [
    "MODELS",
    "PAPER_NETS",
    "ZooModel",
    "digits_mlp",
    "load_state_npz",
    "normalized_factors",
    "paper_cnn",
    "paper_mlp",
    "paper_network",
    "pretrained",
    "raw_network",
    "save_state_npz",
    "weights_path",
]

_HERE = Path(__file__).resolve().parent


def paper_mlp() -> nn.Sequential:
    """The paper's fully connected net: 784-600-10, ReLU hidden layer, no bias.

    Returns
    -------
    torch.nn.Sequential
        ``flatten → fc1 (784→600) → relu1 → fc2 (600→10)``; takes ``(N, 1, 28, 28)`` and
        returns logits ``(N, 10)``.
    """
    from collections import OrderedDict

    from torch import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(784, 600, bias=False)),
                ("relu1", nn.ReLU()),
                ("fc2", nn.Linear(600, 10, bias=False)),
            ]
        )
    )


def paper_cnn() -> nn.Sequential:
    """The paper's ConvNet (Table 5), zero-padded 'same' convolutions, no bias.

    Returns
    -------
    torch.nn.Sequential
        ``conv1 12@5×5 (28×28) → relu1 → pool1 max 2 (14×14) → conv2 64@5×5 → relu2 →
        pool2 max 2 (7×7) → flatten (3,136) → fc1 (→100) → relu3 → fc2 (→10)``; takes
        ``(N, 1, 28, 28)`` and returns logits ``(N, 10)``.
    """
    from collections import OrderedDict

    from torch import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 12, 5, padding=2, bias=False)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.MaxPool2d(2)),
                ("conv2", nn.Conv2d(12, 64, 5, padding=2, bias=False)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(3136, 100, bias=False)),
                ("relu3", nn.ReLU()),
                ("fc2", nn.Linear(100, 10, bias=False)),
            ]
        )
    )


def digits_mlp() -> nn.Sequential:
    """A small net for the shipped 8×8 digits: 64-64-10, ReLU hidden layer, no bias.

    Returns
    -------
    torch.nn.Sequential
        ``flatten → fc1 (64→64) → relu1 → fc2 (64→10)``; takes ``(N, 1, 8, 8)`` and returns
        logits ``(N, 10)``.
    """
    from collections import OrderedDict

    from torch import nn

    return nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(64, 64, bias=False)),
                ("relu1", nn.ReLU()),
                ("fc2", nn.Linear(64, 10, bias=False)),
            ]
        )
    )


@dataclass(frozen=True, kw_only=True)
class ZooModel:
    """One shipped model: how to build it, what it was trained on, how well it does.

    Parameters
    ----------
    name
        Key in :data:`MODELS` and stem of the weights file.
    factory
        Function building the untrained torch model.
    dataset
        Name for :func:`lif_bridge.data.load_dataset` (``"mnist"`` or ``"digits"``).
    input_shape
        Shape of one sample, ``(C, H, W)``.
    test_accuracy
        Accuracy of the shipped weights on the whole test split (fraction in [0, 1]).
    test_accuracy_first1000
        Accuracy on the first 1,000 test samples (all of them if the split is smaller).
    epochs, batch_size, lr
        The training settings of the shipped weights (seed 0, see
        :func:`lif_bridge.zoo.training.train`; ``examples/train_zoo.py NAME`` re-trains).
    """

    name: str
    factory: Callable[[], Any]
    dataset: str
    input_shape: tuple[int, int, int]
    test_accuracy: float
    test_accuracy_first1000: float
    epochs: int
    batch_size: int
    lr: float


MODELS: dict[str, ZooModel] = {
    m.name: m
    for m in (
        ZooModel(
            name="paper_mlp",
            factory=paper_mlp,
            dataset="mnist",
            input_shape=(1, 28, 28),
            test_accuracy=0.9821,
            test_accuracy_first1000=0.984,
            epochs=10,
            batch_size=128,
            lr=1e-3,
        ),
        ZooModel(
            name="paper_cnn",
            factory=paper_cnn,
            dataset="mnist",
            input_shape=(1, 28, 28),
            test_accuracy=0.9908,
            test_accuracy_first1000=0.988,
            epochs=3,
            batch_size=64,
            lr=1e-3,
        ),
        ZooModel(
            name="digits_mlp",
            factory=digits_mlp,
            dataset="digits",
            input_shape=(1, 8, 8),
            test_accuracy=0.9852,
            test_accuracy_first1000=0.9852,
            epochs=60,
            batch_size=32,
            lr=3e-3,
        ),
    )
}
"""The shipped models by name; accuracies are those of the shipped weights."""


def weights_path(name: str) -> Path:
    """The path of the shipped trained weights of a zoo model.

    Parameters
    ----------
    name
        ``"paper_mlp"``, ``"paper_cnn"`` or ``"digits_mlp"``.

    Returns
    -------
    pathlib.Path
        ``<package>/zoo/<name>.npz`` (it exists in an installed package; in a source tree the
        ``examples/train_*.py`` scripts write it).

    Raises
    ------
    ValidationError
        If ``name`` is not a zoo model.
    """
    if name not in MODELS:
        raise ValidationError(
            f"unknown zoo model {name!r}; known models: {', '.join(sorted(MODELS))}"
        )
    return _HERE / f"{name}.npz"


def load_state_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read a weights archive written by :func:`save_state_npz`, without torch or pickle.

    Parameters
    ----------
    path
        The ``.npz`` file.

    Returns
    -------
    dict[str, numpy.ndarray]
        ``state_dict`` key → float32 array, in the archive's order.

    Raises
    ------
    DataError
        If the file does not exist.
    FileFormatError
        If it is not an ``.npz`` archive, holds pickled objects or non-float arrays, or is
        empty.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"weights file {path} not found")
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise FileFormatError(f"{path}: not a readable .npz weights archive ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise FileFormatError(f"{path}: a single .npy array, not an .npz weights archive")
    state: dict[str, np.ndarray] = {}
    with archive:
        for key in archive.files:
            try:
                value = np.asarray(archive[key])
            except ValueError as exc:
                raise FileFormatError(
                    f"{path}: array {key!r} holds pickled Python objects, which are refused"
                ) from exc
            except (OSError, EOFError, zipfile.BadZipFile) as exc:
                raise FileFormatError(f"{path}: array {key!r} is corrupt ({exc})") from exc
            if value.dtype.kind != "f":
                raise FileFormatError(
                    f"{path}: array {key!r} has dtype {value.dtype}; weights must be floats"
                )
            state[key] = value.astype(np.float32, copy=False)
    if not state:
        raise FileFormatError(f"{path}: the archive holds no arrays")
    return state


def save_state_npz(state: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write weights as a compressed float32 ``.npz``, atomically, umask honoured
    (:func:`lif_bridge.fileio.atomic_path`).

    Parameters
    ----------
    state
        ``state_dict`` key → array or torch tensor (moved to CPU and detached here).
    path
        Destination ``.npz`` file; its folder must exist.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        arrays[str(key)] = np.asarray(value, dtype=np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)
    return path


def pretrained(name: str) -> nn.Sequential:
    """Build a zoo model and load its shipped weights (needs torch).

    Parameters
    ----------
    name
        ``"paper_mlp"``, ``"paper_cnn"`` or ``"digits_mlp"``.

    Returns
    -------
    torch.nn.Sequential
        The model in eval mode.

    Raises
    ------
    ValidationError
        If ``name`` is not a zoo model.
    DataError
        If the weights file is missing.
    FileFormatError
        If the weights file is corrupt or does not match the architecture.
    """
    import torch

    path = weights_path(name)
    if not path.is_file():
        raise DataError(
            f"weights of {name!r} not found at {path}; regenerate them with "
            f"examples/train_zoo.py {name}"
        )
    model = MODELS[name].factory()
    state = {k: torch.from_numpy(v.copy()) for k, v in load_state_npz(path).items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise FileFormatError(f"{path}: does not match the {name} architecture ({exc})") from exc
    return model.eval()


from lif_bridge.zoo.nets import PAPER_NETS, normalized_factors, paper_network  # noqa: E402
from lif_bridge.zoo.raw import raw_network  # noqa: E402  (needs MODELS above)
