"""Train a zoo network (the paper's MLP or ConvNet, or the digits demo net) and ship its weights.

The paper's networks are trained as Lu & Xu (2022) describe: ReLU, no bias, inputs in [0, 1]
(§5.3 MLP 784-600-10; §5.4 Table 5 ConvNet). The settings of the shipped weights are the
defaults (seed 0; epochs, batch size and learning rate per model in ``lif_bridge.zoo.MODELS``);
measured results are in ``lif_bridge/zoo/README.md``. The weights are written atomically as a
float32 ``.npz`` readable without torch.

Run from the repository root with the package installed (``pip install -e ".[torch]"``)::

    python examples/train_zoo.py paper_mlp --data-dir ../shared/data/mnist
    python examples/train_zoo.py paper_cnn
    python examples/train_zoo.py digits_mlp
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from lif_bridge.data import DATA_DIR_ENV
from lif_bridge.zoo import MODELS, save_state_npz, weights_path
from lif_bridge.zoo.training import train

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, train, evaluate and write the weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, help="default: the shipped weights' setting")
    parser.add_argument("--batch-size", type=int, help="default: the shipped weights' setting")
    parser.add_argument("--lr", type=float, help="default: the shipped weights' setting")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", help=f"MNIST folder (default ${DATA_DIR_ENV} or shared)")
    parser.add_argument("--out", type=Path, help="weights file (default: the zoo's)")
    args = parser.parse_args(argv)
    spec = MODELS[args.name]
    data_dir = args.data_dir or os.environ.get(DATA_DIR_ENV) or str(DEFAULT_DATA_DIR)
    result = train(
        args.name,
        epochs=args.epochs or spec.epochs,
        batch_size=args.batch_size or spec.batch_size,
        lr=args.lr or spec.lr,
        seed=args.seed,
        threads=args.threads,
        data_dir=data_dir,
    )
    print(
        f"{args.name}: test accuracy {result.test_accuracy:.2%} "
        f"(first 1000: {result.test_accuracy_first1000:.2%}), training {result.seconds:.0f} s"
    )
    print(f"wrote {save_state_npz(result.model.state_dict(), args.out or weights_path(args.name))}")


if __name__ == "__main__":
    main()
