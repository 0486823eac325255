"""Norse / sinabs -> NIR -> lif-bridge: spike counts against each tool's own simulation (prints).

The ReLU ANNs of ``benchmarks/nir_snntorch.py`` (8x8 digits, trained for a few epochs, seeded,
scaled layer by layer by the 99.9th percentile of their activations) become

- Norse 1.1: ``mlp`` with ``LIFBoxCell`` (``tau_mem = 0.1`` s, weights and biases times
  ``tau_mem / dt``: Norse divides a cell's input by ``tau_mem / dt``), read with
  ``spike_dt = dt = 1e-3``; and with ``IAFCell``, run at ``dt = 1`` (Norse's IAF has no ``dt``);
- sinabs 3.1: ``mlp`` and ``cnn`` (the ANN's ``AvgPool2d(2)`` as ``SumPool2d(2)`` with the next
  weights divided by 4) with ``IAFSqueeze`` (``SingleSpike``), reset ``MembraneReset`` (to zero,
  what NIR says) or ``MembraneSubtract`` (sinabs's default, which the file loses), run at
  ``dt = 1``.

Each tool exports with its own ``to_nir``; ``from_nir`` reads the graph; both simulate the *same*
input spikes (lif-bridge's regular-rate trains, ``x`` = pixel / 16 spikes per step). Printed: the
fraction of output counts equal, the mean absolute difference, the predicted-class agreement
(argmax, ties to the lowest index), each simulator's class agreement with the ANN and the mean
output counts. Needs ``pip install -e ".[nir-tools,experiments]"`` and ``pip install --no-deps
norse==1.1.0 sinabs==3.1.3`` (see README, dependencies)::

    python benchmarks/nir_norse_sinabs.py --samples 360 --steps 300
"""

from __future__ import annotations

import argparse
import copy
import warnings

import numpy as np
import torch
from nir_snntorch import ann, compare, digits, normalise, train
from torch import nn

from lif_bridge import Simulation, from_nir, simulate
from lif_bridge.network import Network, Readout, RegularRate

DT = 1e-3  # Norse's default step [s]
TAU = 0.1  # [s] tau_mem of the Norse LIFBox cells


def norse_net(model: nn.Sequential, cell: str) -> nn.Module:
    import norse.torch as nt

    layers: list[nn.Module] = []
    gain = TAU / DT if cell == "lif" else 1.0
    for m in model:
        if isinstance(m, nn.ReLU):
            layers.append(_norse_cell(cell))
            continue
        m = copy.deepcopy(m)
        if isinstance(m, nn.Linear):
            with torch.no_grad():
                m.weight.mul_(gain)
                m.bias.mul_(gain)
        layers.append(m)
    layers.append(_norse_cell(cell))
    return nt.SequentialState(*layers).double()


def _norse_cell(cell: str) -> nn.Module:
    import norse.torch as nt

    if cell == "iaf":
        return nt.IAFCell()
    return nt.LIFBoxCell(nt.LIFBoxParameters(tau_mem_inv=torch.tensor(1 / TAU)), dt=DT)


def sinabs_net(model: nn.Sequential, reset: str, batch: int) -> nn.Module:
    import sinabs.layers as sl
    from sinabs.activation import MembraneReset, MembraneSubtract, SingleSpike

    def iaf() -> nn.Module:
        fn = MembraneReset() if reset == "zero" else MembraneSubtract()
        return sl.IAFSqueeze(batch_size=batch, spike_fn=SingleSpike, reset_fn=fn)

    layers: list[nn.Module] = []
    fold = 1.0
    for m in model:
        if isinstance(m, nn.ReLU):
            layers.append(iaf())
        elif isinstance(m, nn.AvgPool2d):
            layers.append(sl.SumPool2d(2))
            fold = 4.0
        else:
            m = copy.deepcopy(m)
            if isinstance(m, nn.Linear) and fold != 1.0:
                with torch.no_grad():
                    m.weight.div_(fold)
                fold = 1.0
            layers.append(m)
    layers.append(iaf())
    return nn.Sequential(*layers)


def run_torch(net: nn.Module, spikes: np.ndarray, tool: str) -> np.ndarray:
    """The tool's output counts ``(batch, 10)`` over ``spikes`` (batch, steps, 64)."""
    batch, steps = spikes.shape[:2]
    if tool == "sinabs":
        h = torch.tensor(spikes, dtype=torch.float32).reshape(batch * steps, 1, 8, 8)
        with torch.no_grad():
            return net(h).reshape(batch, steps, -1).sum(1).numpy()
    x = torch.tensor(spikes, dtype=torch.float64).reshape(batch, steps, 1, 8, 8)
    state = None
    total = 0.0
    with torch.no_grad():
        for t in range(steps):
            out, state = net(x[:, t], state)
            total = total + out.numpy()
    return np.asarray(total)


def measure(
    tool: str, kind: str, variant: str, args: argparse.Namespace, x: np.ndarray, y: np.ndarray
) -> None:
    torch.manual_seed(0)  # the same ANN (initial weights too) for every row of a kind
    model = ann(kind, args.hidden)
    train(model, x[: args.train], y[: args.train])
    normalise(model, x[: args.train])
    test = x[args.train : args.train + args.samples]
    sample = torch.zeros(2, 1, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tool == "norse":
            import norse.torch as nt

            net = norse_net(model, variant)
            graph = nt.to_nir(net, sample[:1].double(), dt=1.0)
            spike_dt, dt = (DT, DT) if variant == "lif" else (None, 1.0)
            lb_net = from_nir(graph, spike_dt=spike_dt, none_as_flatten=True)
        else:
            import sinabs

            net = sinabs_net(model, variant, 2)
            graph = sinabs.to_nir(net, sample)
            for m in net.modules():
                if hasattr(m, "batch_size"):
                    m.batch_size = len(test)
                    m.reset_states()
            dt = 1.0
            lb_net = from_nir(graph)
    sim = Simulation(steps=args.steps, dt=dt, encoder=RegularRate(), readout=Readout())
    spikes = sim.encode(lb_net, test)
    theirs = run_torch(net, spikes, tool)
    ann_pred = model(torch.tensor(test, dtype=torch.float32)).argmax(1).numpy()
    nets = [("as read", lb_net)]
    if variant == "subtract":
        nets.append(("reset=subtract by hand", _with_reset(lb_net, "subtract")))
    for label, n in nets:
        res = simulate(n, test, sim, "reference")
        ours = res.counts[res.output].reshape(len(test), -1)
        eq, mad, cls = compare(theirs, ours)
        print(
            f"{tool} {kind} {variant:8s} {label:22s} equal counts {eq:6.1%}  mean |diff| "
            f"{mad:5.2f}  class {cls:6.1%}  ({tool} / lif-bridge vs ANN "
            f"{np.mean(np.argmax(theirs, 1) == ann_pred):.1%} / "
            f"{np.mean(np.argmax(ours, 1) == ann_pred):.1%}; mean output count "
            f"{theirs.mean():.1f} / {ours.mean():.1f})",
            flush=True,
        )


def _with_reset(net: Network, reset: str) -> Network:
    nodes = tuple(n.replace(neurons=n.neurons.replace(reset=reset)) for n in net.nodes)
    return Network(input_shape=net.input_shape, nodes=nodes, metadata=dict(net.metadata))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=360)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--train", type=int, default=1437)
    p.add_argument("--hidden", type=int, default=32)
    args = p.parse_args()
    torch.set_num_threads(1)
    x, y = digits()
    for tool, kind, variant in (
        ("norse", "mlp", "lif"),
        ("norse", "mlp", "iaf"),
        ("sinabs", "mlp", "zero"),
        ("sinabs", "mlp", "subtract"),
        ("sinabs", "cnn", "zero"),
        ("sinabs", "cnn", "subtract"),
    ):
        measure(tool, kind, variant, args, x, y)


if __name__ == "__main__":
    main()
