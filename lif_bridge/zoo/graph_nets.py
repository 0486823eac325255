"""Two small MNIST nets that are graphs, not chains: a ResNet and an Inception-style net (torch).

The acceptance nets of residual additions and concatenation (issue 8); ``examples/
train_graph_nets.py`` trains them and saves TorchScript and ``torch.export`` files. Importing
this module imports torch (``lif_bridge.zoo`` itself does not import it).

:func:`mnist_resnet`
    A stem conv (1→8, 3×3, stride 2: 14×14), an identity basic block (8 channels, 14×14), a
    basic block with a 1×1 projection shortcut of stride 2 (8→16, 7×7), BatchNorm after every
    conv, global average pooling and a 16→10 fc: ``relu(bn2(conv2(relu(bn1(conv1(x))))) +
    shortcut(x))`` per block.
:func:`mnist_inception`
    Two conv branches on the image (3×3 and 5×5, 8 channels each, stride 2, BatchNorm),
    concatenated along channels (16×14×14), a 3×3 conv of stride 2 (16 channels, 7×7,
    BatchNorm) and a 784→10 fc.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

__all__ = ["GRAPH_NETS", "BasicBlock", "MnistInception", "MnistResNet", "train_graph_net"]


class BasicBlock(nn.Module):
    """A basic block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.out_relu = nn.ReLU()  # a module of its own: converters map each ReLU module once
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output (per-sample ``(c_out, H/stride, W/stride)``)."""
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.out_relu(out + self.shortcut(x))


class MnistResNet(nn.Module):
    """Stem conv, an identity block, a projection block of stride 2, global pooling, fc."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.layer1 = BasicBlock(8, 8)
        self.layer2 = BasicBlock(8, 16, stride=2)
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(16, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, 10)`` of images ``(N, 1, 28, 28)`` in [0, 1]."""
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(self.pool(x), 1))


class MnistInception(nn.Module):
    """Two conv branches (3×3, 5×5) concatenated, a conv, an fc."""

    def __init__(self) -> None:
        super().__init__()
        self.branch3 = nn.Sequential(
            nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.branch5 = nn.Sequential(
            nn.Conv2d(1, 8, 5, stride=2, padding=2), nn.BatchNorm2d(8), nn.ReLU()
        )
        self.conv = nn.Sequential(
            nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU()
        )
        self.fc = nn.Linear(16 * 7 * 7, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(N, 10)`` of images ``(N, 1, 28, 28)`` in [0, 1]."""
        x = torch.cat([self.branch3(x), self.branch5(x)], dim=1)
        return self.fc(torch.flatten(self.conv(x), 1))


#: Factories of the graph nets, by name.
GRAPH_NETS: dict[str, Callable[[], nn.Module]] = {
    "mnist_resnet": MnistResNet,
    "mnist_inception": MnistInception,
}


def train_graph_net(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    log: Callable[[str], None] | None = print,
) -> Any:
    """Train ``GRAPH_NETS[name]`` with AdamW and a one-cycle schedule; the model in eval mode.

    Parameters
    ----------
    x, y
        Training images ``(N, 1, 28, 28)`` float32 in [0, 1] and labels ``(N,)``.
    epochs, batch_size, lr, seed
        Training settings (``seed`` fixes the initialisation and the batch order).
    weight_decay
        AdamW's decoupled weight decay (0: plain Adam, as before).
    log
        Where to report the loss after each epoch (``None``: silent).
    """
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = GRAPH_NETS[name]()
    xt, yt = torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(y.astype(np.int64))
    steps = epochs * -(-len(x) // batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(x)))
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            optimizer.step()
            schedule.step()
            total += float(loss.detach()) * len(idx)
        if log is not None:
            log(
                f"{name} epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f} "
                f"[{time.perf_counter() - start:.0f} s]"
            )
    return model.eval()
