"""Train the two graph acceptance nets (a ResNet and an Inception-style net) on MNIST, on CPU.

The nets are ``lif_bridge.zoo.graph_nets`` (residual additions with an identity and a 1×1
projection shortcut; a concatenation of a 3×3 and a 5×5 branch). Seeded; one epoch each takes
about a minute on two cores. Each net is written to the output folder three ways, atomically:

- ``NAME.ts.pt``: TorchScript (``torch.jit.script``), for ``lif-bridge convert NAME.ts.pt``,
- ``NAME.pt2``: a ``torch.export`` program (``torch.export.save``),
- ``NAME.state.pt``: the state_dict, for ``lif_bridge.zoo.graph_nets:MnistResNet`` + weights.

Run with the package installed (``pip install -e ".[torch]"``)::

    python examples/train_graph_nets.py OUT_DIR --data-dir ../shared/data/mnist

The ResNet needs more than one epoch: ``--nets mnist_resnet --epochs 10 --threads 1`` (about
35 s per epoch on a quiet core) reached ANN 98.50 % and, converted as below, 92.8 / 98.8 % label
agreement with the ANN at T = 100 / 300 on 1,000 test images (one epoch: 70.1 / 96.2 %),
ten epochs: 96.3 / 99.3 % with ``lif-bridge run --readout potential`` (integrated input);
``--weight-decay 0.05`` did worse (98.0 % at T = 300), and so did 16 epochs (ANN 98.84 %,
96.4 % at T = 300); see README.

Convert, e.g. (``--v-rest 0.5``: the initial potential V_th/2, which on the one-epoch ResNet
raised the agreement at T = 100 from 31.5 to 74.5 % and at T = 300 from 91.0 to 97.5 %, README)::

    lif-bridge convert OUT_DIR/mnist_resnet.ts.pt -o resnet.npz --input-shape 1 28 28 \\
        --bias-mode current --normalize percentile --calibrate-on mnist --v-rest 0.5
"""

from __future__ import annotations

import argparse
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from lif_bridge.data import DATA_DIR_ENV, load_mnist
from lif_bridge.zoo.graph_nets import GRAPH_NETS, train_graph_net
from lif_bridge.zoo.training import accuracy


def _atomic(path: Path, write: Callable[[str], None]) -> None:
    # the temporary name keeps the extension: torch.export.save warns about any other
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save_all(model: torch.nn.Module, out: Path, name: str) -> list[Path]:
    """Write ``NAME.ts.pt``, ``NAME.pt2`` and ``NAME.state.pt`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    example = (torch.zeros(2, 1, 28, 28),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated in 2.13
        script = torch.jit.script(model)
        _atomic(out / f"{name}.ts.pt", lambda p: torch.jit.save(script, p))
    program = torch.export.export(model, example)
    _atomic(out / f"{name}.pt2", lambda p: torch.export.save(program, p))
    _atomic(out / f"{name}.state.pt", lambda p: torch.save(model.state_dict(), p))
    return [out / f"{name}{ext}" for ext in (".ts.pt", ".pt2", ".state.pt")]


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, train each net, report its test accuracy and save it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the model files")
    parser.add_argument("--nets", nargs="+", choices=sorted(GRAPH_NETS), default=sorted(GRAPH_NETS))
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle)")
    parser.add_argument(
        "--weight-decay", type=float, default=0.0, help="AdamW weight decay (default 0: Adam)"
    )
    parser.add_argument("--train-limit", type=int, help="train on the first N images only")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", help=f"MNIST folder (default ${DATA_DIR_ENV})")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    train = load_mnist("train", data_dir=args.data_dir, limit=args.train_limit)
    test = load_mnist("test", data_dir=args.data_dir)
    for name in args.nets:
        model = train_graph_net(
            name,
            train.x,
            train.y,
            epochs=args.epochs,
            lr=args.lr,
            weight_decay=args.weight_decay,
            seed=args.seed,
        )
        acc = accuracy(model, test.x, test.y)
        acc1k = accuracy(model, test.x[:1000], test.y[:1000])
        paths = save_all(model, args.out, name)
        print(f"{name}: test accuracy {acc:.2%} (first 1,000: {acc1k:.2%}); wrote")
        for path in paths:
            print(f"  {path}")


if __name__ == "__main__":
    main()
