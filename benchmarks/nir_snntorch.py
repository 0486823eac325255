"""snnTorch -> NIR -> lif-bridge: spike counts against snnTorch's own simulation (prints).

Two nets on scikit-learn's 8x8 digits, their weights from a ReLU ANN trained for a few epochs
(seeded) and scaled layer by layer by the 99.9th percentile of its activations:

- ``mlp``: Linear(64, 32) - Leaky - Linear(32, 10) - Leaky
- ``cnn``: Conv2d(1, 4, 3, padding="same") - Leaky - AvgPool2d(2) - Flatten - Linear(64, 10)
  - Leaky

snnTorch's ``export_to_nir`` writes each to a ``.nir`` file; lif-bridge reads it with
``from_nir(path, spike_dt=SNNTORCH_DT)`` (a spike is a unit pulse of snnTorch's 1e-4 s step) and
runs it on the reference backend at ``dt = 1e-4`` s. Both get the *same* input spikes (lif-bridge's
regular-rate trains, ``x`` = pixel / 16 spikes per step) and snnTorch runs in float64. Printed per
net and reset rule: the fraction of output neurons whose counts are equal, the mean absolute
count difference, and the agreement of the predicted class (argmax of the output counts, ties
to the lowest index). Then the same for snnTorch's rule changed, one difference at a time, into
lif-bridge's (a numpy transcription of both rules, checked against both simulators first):
``leak`` (``exp(-(1 - beta))`` for ``beta``), ``threshold`` (``>=`` for ``>``), ``order``
(lif-bridge's step: threshold before this step's input, one step of latency per layer).

``--write-test-data DIR`` writes ``DIR/snntorch_mlp.nir`` and ``DIR/snntorch_mlp.npz`` (inputs
and snnTorch's counts, a small MLP 64-16-10, 12 samples, 200 steps; and measures nothing) for
``tests/core/test_nir_snntorch.py``. Needs ``pip install -e ".[nir-test,experiments]"``::

    python benchmarks/nir_snntorch.py --samples 360 --steps 300
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lif_bridge import Simulation, from_nir, simulate
from lif_bridge.network import Readout, RegularRate
from lif_bridge.nir import SNNTORCH_DT

DT = SNNTORCH_DT


def digits() -> tuple[np.ndarray, np.ndarray]:
    """Digits images ``(n, 1, 8, 8)`` in [0, 1] and labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    return (d.images / 16.0).reshape(-1, 1, 8, 8), d.target


def ann(kind: str, hidden: int) -> nn.Sequential:
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding="same"),
        nn.ReLU(),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Linear(64, 10),
    )


def train(model: nn.Sequential, x: np.ndarray, y: np.ndarray, epochs: int = 30) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in range(epochs):
        for i in range(0, len(xt), 64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt[i : i + 64]), yt[i : i + 64]).backward()
            opt.step()


def normalise(model: nn.Sequential, x: np.ndarray) -> None:
    """Scale each weighted layer so that its ReLU's 99.9th percentile is 1 (data-based)."""
    h = torch.tensor(x, dtype=torch.float32)
    prev = 1.0
    with torch.no_grad():
        for m in model:
            h = m(h)
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                scale = max(float(np.percentile(h.numpy(), 99.9)), 1e-6)
                m.weight.mul_(prev / scale)
                m.bias.div_(scale)
                h = h / scale
                prev = 1.0


def snn(model: nn.Sequential, beta: float, reset: str) -> nn.Sequential:
    """The ANN with each ReLU (and the readout) a snnTorch ``Leaky`` of vector beta."""
    import snntorch as snn_

    def leaky(shape: torch.Size, output: bool) -> nn.Module:
        return snn_.Leaky(
            beta=torch.full(shape, beta, dtype=torch.float64),
            threshold=torch.ones(shape, dtype=torch.float64),
            reset_mechanism=reset,
            init_hidden=True,
            output=output,
        )

    layers: list[nn.Module] = []
    x = torch.zeros(1, 1, 8, 8)
    for i, m in enumerate(model):
        x = m(x)
        layers.append(leaky(x.shape[1:], False) if isinstance(m, nn.ReLU) else copy.deepcopy(m))
        if i == len(model) - 1:
            layers.append(leaky(x.shape[1:], True))
    return nn.Sequential(*layers).double()


def snntorch_counts(net: nn.Sequential, spikes: np.ndarray) -> list[np.ndarray]:
    """snnTorch's spike counts of every Leaky over ``spikes`` (batch, steps, 64)."""
    import snntorch as snn_
    from snntorch import utils

    utils.reset(net)
    leakies = [m for m in net if isinstance(m, snn_.Leaky)]
    counts = [None] * len(leakies)
    x_all = torch.tensor(spikes, dtype=torch.float64).reshape(
        spikes.shape[0], spikes.shape[1], 1, 8, 8
    )
    with torch.no_grad():
        for t in range(spikes.shape[1]):
            h = x_all[:, t]
            k = 0
            for m in net:
                h = m(h)
                if isinstance(m, snn_.Leaky):
                    h = (h[0] if isinstance(h, tuple) else h).double()  # ATan spikes: float32
                    c = h.reshape(h.shape[0], -1).numpy()
                    counts[k] = c if counts[k] is None else counts[k] + c
                    k += 1
    return [np.asarray(c) for c in counts]


def export(net: nn.Sequential, path: Path) -> None:
    import nir
    from snntorch.export_nir import export_to_nir

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = export_to_nir(net.float(), torch.zeros(1, 1, 8, 8), ignore_dims=[0])
    net.double()
    nir.write(path, graph)


def compare(want: np.ndarray, got: np.ndarray) -> tuple[float, float, float]:
    """(equal output counts, mean |difference|, predicted-class agreement)."""
    return (
        float(np.mean(want == got)),
        float(np.mean(np.abs(want - got))),
        float(np.mean(np.argmax(want, 1) == np.argmax(got, 1))),
    )


def switches(path: Path, reset: str, spikes: np.ndarray, theirs: np.ndarray) -> None:
    """The MLP under snnTorch's rule with one switch to lif-bridge's (lif_bridge.nir.rules)."""
    import nir

    from lif_bridge.nir.rules import dense_chain_counts

    graph = nir.read(path)
    nodes = [graph.nodes[k] for k in sorted(graph.nodes, key=lambda k: (len(k), k)) if k.isdigit()]
    w = [np.asarray(n.weight, np.float64) for n in nodes if isinstance(n, nir.Affine)]
    b = [np.asarray(n.bias, np.float64) for n in nodes if isinstance(n, nir.Affine)]
    beta = [1 - DT / np.asarray(n.tau, np.float64) for n in nodes if isinstance(n, nir.LIF)]
    flat = spikes.reshape(spikes.shape[0], spikes.shape[1], -1)
    rule = {"reset": reset}
    base = dense_chain_counts(w, b, beta, flat, **rule)[-1]
    print(f"    snnTorch's rule in numpy reproduces snnTorch: {np.array_equal(base, theirs)}")
    cases = [{"leak": "exact"}, {"threshold": ">="}, {"order": "lif-bridge", "reset": "zero"}]
    if reset == "subtract":
        cases.insert(0, {"reset": "zero"})
    for case in cases:
        out = dense_chain_counts(w, b, beta, flat, **{**rule, **case})[-1]
        eq, mad, cls = compare(theirs, out)
        print(f"    only {case}: equal counts {eq:6.1%}  mean |diff| {mad:5.2f}  class {cls:6.1%}")


def measure(kind: str, reset: str, args: argparse.Namespace, x: np.ndarray, y: np.ndarray) -> None:
    model = ann(kind, args.hidden)
    train(model, x[: args.train], y[: args.train])
    normalise(model, x[: args.train])
    net = snn(model, args.beta, reset)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{kind}.nir"
        export(net, path)
        lb_net = from_nir(path, spike_dt=DT)
        test = x[args.train : args.train + args.samples]
        sim = Simulation(
            steps=args.steps, dt=DT, encoder=RegularRate(), readout=Readout(counts="all")
        )
        spikes = sim.encode(lb_net, test)
        theirs = snntorch_counts(net, spikes)
        if kind == "mlp":
            switches(path, reset, spikes, theirs[-1])
    res = simulate(lb_net, test, sim, "reference")
    ours = res.counts[res.output].reshape(len(test), -1)
    eq, mad, cls = compare(theirs[-1], ours)
    ann_pred = model(torch.tensor(test, dtype=torch.float32)).argmax(1).numpy()
    print(
        f"{kind} reset={reset:8s} equal counts {eq:6.1%}  mean |diff| {mad:5.2f}  "
        f"class {cls:6.1%}  (snnTorch / lif-bridge vs ANN "
        f"{np.mean(np.argmax(theirs[-1], 1) == ann_pred):.1%} / "
        f"{np.mean(np.argmax(ours, 1) == ann_pred):.1%}; mean output count "
        f"{theirs[-1].mean():.1f} / {ours.mean():.1f})"
    )


def write_test_data(out: Path, x: np.ndarray, y: np.ndarray) -> None:
    """The small MLP (64-16-10, zero reset) as snnTorch exports it, its inputs and counts."""
    out.mkdir(parents=True, exist_ok=True)
    model = ann("mlp", 16)
    train(model, x[:1437], y[:1437])
    normalise(model, x[:1437])
    net = snn(model, 0.99, "zero")
    export(net, out / "snntorch_mlp.nir")
    test = x[1437 : 1437 + 12]
    lb_net = from_nir(out / "snntorch_mlp.nir", spike_dt=DT)
    sim = Simulation(steps=200, dt=DT, encoder=RegularRate())
    counts = snntorch_counts(net, sim.encode(lb_net, test))
    np.savez_compressed(
        out / "snntorch_mlp.npz",
        x=test.reshape(len(test), -1),
        y=y[1437 : 1437 + 12],
        hidden=counts[0].astype(np.int32),
        output=counts[1].astype(np.int32),
    )
    print(f"wrote {out / 'snntorch_mlp.nir'} and {out / 'snntorch_mlp.npz'}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=360)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--train", type=int, default=1437)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--beta", type=float, default=0.99)
    p.add_argument("--write-test-data", type=Path, default=None, metavar="DIR")
    args = p.parse_args()
    x, y = digits()
    if args.write_test_data is not None:
        write_test_data(args.write_test_data, x, y)
        return
    for kind in ("mlp", "cnn"):
        for reset in ("zero", "subtract"):
            measure(kind, reset, args, x, y)


if __name__ == "__main__":
    main()
