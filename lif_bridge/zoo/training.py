"""Training of the zoo models (needs torch): what ``examples/train_*.py`` and the demo run.

Adam with a cosine learning-rate schedule over all steps, cross-entropy, a seeded permutation
of the training set per epoch, inputs in [0, 1] without mean/std normalisation (the spiking
converter rate-codes [0, 1] inputs), no bias (the paper's networks). torch is used here only
to make the trained weights that the converter then imports.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["TrainingResult", "accuracy", "train"]


@dataclass(frozen=True)
class TrainingResult:
    """A trained zoo model and how well it does on the test split."""

    model: Any
    test_accuracy: float
    test_accuracy_first1000: float
    seconds: float


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    """Fraction of ``x`` that ``model`` labels as ``y`` (eval mode, no gradients)."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.from_numpy(np.ascontiguousarray(x[i : i + batch])))
            correct += int((logits.argmax(1).numpy() == y[i : i + batch]).sum())
    return correct / len(x)


def train(
    name: str,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int = 0,
    threads: int = 2,
    data_dir: str | None = None,
    log: Callable[[str], None] | None = print,
    log_every: int = 1,
) -> TrainingResult:
    """Train the zoo model ``name`` from scratch on its data set.

    Parameters
    ----------
    name
        ``"paper_mlp"``, ``"paper_cnn"`` or ``"digits_mlp"``.
    epochs, batch_size, lr, seed, threads
        Training settings (``threads`` for ``torch.set_num_threads``).
    data_dir
        MNIST folder (``None``: ``$LIF_BRIDGE_DATA_DIR``); unused for the digits.
    log, log_every
        Where to print the test accuracy every ``log_every`` epochs (``None``: silent).
    """
    import torch
    from torch import nn

    from lif_bridge.data import load_dataset
    from lif_bridge.zoo import MODELS

    spec = MODELS[name]
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    train_set = load_dataset(spec.dataset, "train", data_dir=data_dir)
    test_set = load_dataset(spec.dataset, "test", data_dir=data_dir)
    x_train, y_train = torch.from_numpy(train_set.x), torch.from_numpy(train_set.y)

    model = spec.factory()
    steps_per_epoch = -(-len(train_set) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(train_set)))
        for i in range(0, len(train_set), batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            schedule.step()
        if log is not None and ((epoch + 1) % log_every == 0 or epoch + 1 == epochs):
            acc = accuracy(model, test_set.x, test_set.y)
            log(f"epoch {epoch + 1}/{epochs}: test {acc:.2%} [{time.perf_counter() - start:.0f} s]")
    seconds = time.perf_counter() - start
    return TrainingResult(
        model=model,
        test_accuracy=accuracy(model, test_set.x, test_set.y),
        test_accuracy_first1000=accuracy(model, test_set.x[:1000], test_set.y[:1000]),
        seconds=seconds,
    )
