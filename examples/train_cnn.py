"""Train the paper's ConvNet (Table 5, no bias) on MNIST and ship its weights.

Lu & Xu (2022) §5.4, Table 5: conv 12@5×5 'same' → max-pool 2 → conv 64@5×5 'same' → max-pool 2
→ flatten 3,136 → fc 100 → fc 10, ReLU after each hidden layer, no bias; inputs in [0, 1] (no
mean/std normalisation: the spiking converter rate-codes [0, 1] inputs). The paper reports an
ANN accuracy of 98.5 %. Adam, cosine learning rate, batch 64.

Measured result (default settings: seed 0, 3 epochs):
test accuracy 99.08 % (10,000 images; 98.80 % on the first 1,000), training
64 s wall time on 2 CPU threads (torch 2.13.0 CPU, including the per-epoch test evaluation).

Run from the repository root, with the package importable (``pip install -e .`` or
``PYTHONPATH=.``)::

    python examples/train_cnn.py --data-dir /path/to/mnist
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lif_bridge.data import DATA_DIR_ENV, load_mnist
from lif_bridge.zoo import paper_cnn, save_state_npz, weights_path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = REPO.parent / "shared" / "data" / "mnist"


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    """Fraction of ``x`` that ``model`` labels as ``y``."""
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[i : i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i : i + batch]).sum())
    return correct / len(x)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, train, evaluate and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"folder of the MNIST IDX files (default: ${DATA_DIR_ENV} or {DEFAULT_DATA_DIR})",
    )
    parser.add_argument("--out", type=Path, default=weights_path("paper_cnn"))
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data_dir = args.data_dir or os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR
    train = load_mnist("train", data_dir)
    test = load_mnist("test", data_dir)
    x_train, y_train = torch.from_numpy(train.x), torch.from_numpy(train.y)

    model = paper_cnn()
    steps_per_epoch = -(-len(train) // args.batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs * steps_per_epoch)
    loss_fn = nn.CrossEntropyLoss()

    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(train)))
        for i in range(0, len(train), args.batch_size):
            idx = order[i : i + args.batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            schedule.step()
        acc = accuracy(model, test.x, test.y)
        elapsed = time.perf_counter() - start
        print(f"epoch {epoch + 1}/{args.epochs}: test {acc:.2%} [{elapsed:.0f} s]")
    train_time = time.perf_counter() - start

    acc = accuracy(model, test.x, test.y)
    acc_1000 = accuracy(model, test.x[:1000], test.y[:1000])
    print(
        f"paper_cnn: test accuracy {acc:.2%} (first 1000: {acc_1000:.2%}), "
        f"{args.epochs} epochs, seed {args.seed}, training {train_time:.0f} s"
    )
    print(f"wrote {save_state_npz(model.state_dict(), args.out)}")


if __name__ == "__main__":
    main()
