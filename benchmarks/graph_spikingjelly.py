"""SpikingJelly 2.0 ann2snn beside lif-bridge on the graph acceptance nets (prints; not a test).

For each net trained by ``examples/train_graph_nets.py`` (``NAME.state.pt`` in MODEL_DIR):

- SpikingJelly: ``FXConverter(RateCodingRecipe(calibration, mode="99.9%"))`` (IF neurons, soft
  reset, BN fused, thresholds from the 99.9th percentile of the calibration activations), run
  for 300 steps on the images as constant input current; the prediction at T is the argmax of
  the summed outputs of steps 1..T.
- lif-bridge: ``from_torch(..., bias_mode="current", normalize="percentile")``, run on the
  reference backend at each T; printed as not available when the conversion refuses the net.

Agreement is with the ANN's argmax on the first N test images; throughput is images x steps per
second of wall time (one process, the threads given). Needs ``pip install -e ".[bench]"``
(``spikingjelly --no-deps`` plus its pure-Python imports ``loguru`` and ``requests``)::

    python benchmarks/graph_spikingjelly.py MODEL_DIR --images 1000 --data-dir DIR
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path

import numpy as np
import torch

from lif_bridge.data import DATA_DIR_ENV, load_mnist
from lif_bridge.zoo.graph_nets import GRAPH_NETS

STEPS = (32, 100, 300)


def spikingjelly_agreement(
    model: torch.nn.Module, calib: np.ndarray, x: np.ndarray, ann: np.ndarray, batch: int
) -> tuple[dict[int, float], float]:
    """Agreement with the ANN at each of :data:`STEPS`, and images x steps per second."""
    from spikingjelly.activation_based import ann2snn, functional

    loader = [torch.from_numpy(calib[i : i + 100]) for i in range(0, len(calib), 100)]
    recipe = ann2snn.RateCodingRecipe(dataloader=loader, mode="99.9%")
    snn = ann2snn.FXConverter(recipe=recipe, device="cpu").convert(copy.deepcopy(model)).eval()
    agree = dict.fromkeys(STEPS, 0)
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(x), batch):
            img = torch.from_numpy(x[i : i + batch])
            functional.reset_net(snn)
            total = None
            for t in range(1, max(STEPS) + 1):
                out = snn(img)
                total = out if total is None else total + out
                if t in agree:
                    agree[t] += int((total.argmax(1).numpy() == ann[i : i + batch]).sum())
    seconds = time.perf_counter() - start
    return {t: n / len(x) for t, n in agree.items()}, len(x) * max(STEPS) / seconds


def lif_bridge_agreement(
    model: torch.nn.Module, calib: np.ndarray, x: np.ndarray, ann: np.ndarray
) -> tuple[dict[int, float], float] | str:
    """The same for lif-bridge on the reference backend, or why the net is not converted."""
    import lif_bridge as lb

    try:
        net = lb.from_torch(
            model,
            input_shape=(1, 28, 28),
            bias_mode="current",
            normalize="percentile",
            calibration=calib,
        )
    except lb.LifBridgeError as exc:
        return f"not converted: {exc}"
    agree, seconds = {}, 0.0
    for steps in STEPS:
        start = time.perf_counter()
        result = lb.simulate(net, x, lb.Simulation(steps=steps), "reference")
        seconds += time.perf_counter() - start
        counts = np.asarray(result.counts[result.output])
        agree[steps] = float(np.mean(counts.argmax(1) == ann))
    return agree, len(x) * sum(STEPS) / seconds


def main(argv: list[str] | None = None) -> None:
    """Convert and run each net with both tools; print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--nets", nargs="+", choices=sorted(GRAPH_NETS), default=sorted(GRAPH_NETS))
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--calibration", type=int, default=1000, help="training images")
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", help=f"MNIST folder (default ${DATA_DIR_ENV})")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    test = load_mnist("test", data_dir=args.data_dir, limit=args.images)
    calib = load_mnist("train", data_dir=args.data_dir, limit=args.calibration).x
    for name in args.nets:
        model = GRAPH_NETS[name]()
        state = torch.load(args.model_dir / f"{name}.state.pt", weights_only=True)
        model.load_state_dict(state)
        model.eval()
        with torch.no_grad():
            ann = model(torch.from_numpy(test.x)).argmax(1).numpy()
        print(f"{name}: ANN accuracy {np.mean(ann == test.y):.2%} on {len(ann)} test images")
        sj, sj_rate = spikingjelly_agreement(model, calib, test.x, ann, args.batch)
        ours = lif_bridge_agreement(model, calib, test.x, ann)
        print(f"  {'T':>5} {'SpikingJelly':>13} {'lif-bridge':>11}")
        for t in STEPS:
            mine = f"{ours[0][t]:.2%}" if not isinstance(ours, str) else "n/a"
            print(f"  {t:>5} {sj[t]:>13.2%} {mine:>11}")
        rate = f"{ours[1]:,.0f}" if not isinstance(ours, str) else "n/a"
        print(f"  throughput [images x steps / s]: SpikingJelly {sj_rate:,.0f}, lif-bridge {rate}")
        if isinstance(ours, str):
            print(f"  lif-bridge: {ours}")


if __name__ == "__main__":
    main()
