"""The reference backend against SpikingJelly 2.0 and the dense-GEMM limit (prints; not a test).

One run prints everything side by side (issue 11): for each net and each ``T``, the reference
backend's default path (``get_backend("reference")``: its compiled kernels, one population over
a block of steps at a time) and SpikingJelly's throughput [sample-steps/s] with 1 and 2 threads
(torch threads for SpikingJelly; numba and BLAS threads for the reference), the ratio of the
best of each, ``--step-loop`` the backend's NumPy fallback (``compiled=False``) too, and the
bound that dense float64 GEMM at the rates measured in the same run puts on a simulator that does
every layer's multiply-accumulates densely (conv-shaped GEMM for convolutions, MLP-shaped GEMM for
dense layers).

Nets, trained here in a few seconds when not shipped (seeded), all converted from the same torch
model by both frameworks (percentile 99.9 on 1,000 training images):

* ``paper_mlp``: the zoo's 784-600-10 (shipped weights),
* ``mlp``: 784-300-100-10 with biases (trained here, one pass over 10,000 images),
* ``bn_cnn``: conv 8@5x5 + BN, ReLU, avgpool 2, conv 16@3x3 + BN, ReLU, maxpool 2, fc 10
  (trained here, one pass over 10,000 images),
* ``paper_cnn``: the zoo's Table 5 ConvNet (shipped weights).

Inputs: the first ``--samples`` MNIST test images, regular-rate coded at ``p = x`` per step
(dt = 0.01 s, 100 Hz); SpikingJelly receives the very same 0/1 trains (float32) and runs its
IF neurons in multi-step mode (one call per layer over all T steps, its fastest CPU path), in
chunks of samples that keep its activations under ``--sj-mib``.

Usage::

    python benchmarks/bench_speed.py [--samples 1000] [--steps 32,100,300] [--nets ...]
        [--repeats 3] [--budget 20] [--threads 1,2] [--data-dir DIR]

``--clock cpu`` times CPU seconds of the process instead of wall seconds (see :data:`CLOCK`).
Each figure is the median of up to ``--repeats`` runs (fewer once a configuration has used
``--budget`` seconds; the count is printed). The machine's load average is printed before and
after each net. Needs torch and SpikingJelly (``pip install -e '.[bench]'``; SpikingJelly with
``--no-deps``, see the README).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

import lif_bridge as lb
from lif_bridge.data import load_mnist

DT, RATE = 0.01, 100.0

#: The clock of every figure: wall time (default) or, with ``--clock cpu``, the process's CPU
#: time summed over its threads (on a loaded machine it excludes the waits for a core; with two
#: threads it is then CPU-seconds, not elapsed seconds).
CLOCK: list[Callable[[], float]] = [time.perf_counter]


def load() -> str:
    """The 1/5/15-minute load averages and the core count, as a string."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} / {five:.2f} / {fifteen:.2f} on {os.cpu_count()} cores"


def models(train_x: np.ndarray, train_y: np.ndarray, names: list[str]) -> dict[str, object]:
    """Torch models ``names``: zoo nets with shipped weights, the others trained here (seeded)."""
    import torch
    from torch import nn

    from lif_bridge.zoo import pretrained

    def fit(model: nn.Module) -> nn.Module:
        torch.manual_seed(0)
        x = torch.from_numpy(train_x.astype(np.float32))
        y = torch.from_numpy(train_y.astype(np.int64))
        opt = torch.optim.Adam(model.parameters(), lr=2e-3)
        model.train()
        for i in range(0, len(x), 100):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x[i : i + 100]), y[i : i + 100]).backward()
            opt.step()
        return model.eval()

    torch.manual_seed(0)
    mlp = nn.Sequential(
        OrderedDict(
            [
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(784, 300)),
                ("relu1", nn.ReLU()),
                ("fc2", nn.Linear(300, 100)),
                ("relu2", nn.ReLU()),
                ("fc3", nn.Linear(100, 10)),
            ]
        )
    )
    bn_cnn = nn.Sequential(
        OrderedDict(
            [
                ("conv1", nn.Conv2d(1, 8, 5, padding=2)),
                ("bn1", nn.BatchNorm2d(8)),
                ("relu1", nn.ReLU()),
                ("pool1", nn.AvgPool2d(2)),
                ("conv2", nn.Conv2d(8, 16, 3)),
                ("bn2", nn.BatchNorm2d(16)),
                ("relu2", nn.ReLU()),
                ("pool2", nn.MaxPool2d(2)),
                ("flatten", nn.Flatten()),
                ("fc1", nn.Linear(16 * 6 * 6, 10)),
            ]
        )
    )
    build = {
        "paper_mlp": lambda: pretrained("paper_mlp"),
        "mlp": lambda: fit(mlp),
        "bn_cnn": lambda: fit(bn_cnn),
        "paper_cnn": lambda: pretrained("paper_cnn"),
    }
    return {name: build[name]() for name in names}


def median_rate(run: Callable[[], object], work: int, repeats: int, budget: float) -> str:
    """``work`` sample-steps / median wall time of up to ``repeats`` calls of ``run``."""
    times: list[float] = []
    while len(times) < repeats and (not times or sum(times) < budget):
        t0 = CLOCK[0]()
        run()
        times.append(CLOCK[0]() - t0)
    return f"{work / statistics.median(times):>9,.0f} ({len(times)})"


def gemm_rates(repeats: int = 5) -> dict[str, float]:
    """Float64 GEMM rates [FLOP/s] of this machine now: conv-shaped and MLP-shaped, 1-2 threads."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    shapes = {
        # im2col of a 5x5 conv, 12 -> 64 channels on 14x14, 20 samples x 1 step
        "conv": (20 * 196, 300, 64),
        # a dense layer over a batch of sample-steps
        "mlp": (4096, 784, 300),
    }
    rates: dict[str, float] = {}
    for name, (m, k, n) in shapes.items():
        a, b = rng.random((m, k)), rng.random((k, n))
        for threads in (1, 2):
            with threadpool_limits(threads):
                best = min(_timed(np.matmul, a, b) for _ in range(repeats + 1))
            rates[f"{name}{threads}"] = 2.0 * m * k * n / best
    return rates


def _timed(fn: Callable[..., object], *args: object) -> float:
    t0 = CLOCK[0]()
    fn(*args)
    return CLOCK[0]() - t0


def dense_bound(net: lb.Network, rates: dict[str, float]) -> float:
    """Sample-steps/s of a simulator doing every layer's MACs as dense float64 GEMM at ``rates``."""
    from lif_bridge.connectivity import synapse_count

    seconds = 0.0
    for pop in net.populations:
        flops = 2.0 * synapse_count(pop.layer, pop.input_shape)  # type: ignore[arg-type]
        kind = "conv" if len(pop.input_shape) == 3 else "mlp"
        seconds += flops / max(rates[f"{kind}1"], rates[f"{kind}2"])
    return 1.0 / seconds


def spikingjelly(model: object, cal: np.ndarray) -> object:
    """SpikingJelly 2.0 ann2snn (rate coding, IF neurons, soft reset), multi-step mode."""
    import torch
    from spikingjelly.activation_based import ann2snn, functional

    loader = [torch.from_numpy(cal[i : i + 100].astype(np.float32)) for i in range(0, 1000, 100)]
    recipe = ann2snn.RateCodingRecipe(dataloader=loader, mode="99.9%")
    snn = ann2snn.Converter(recipe, device="cpu").convert(model)
    functional.set_step_mode(snn, "m")
    return snn


def sj_runner(snn: object, trains: np.ndarray, chunk: int) -> Callable[[], object]:
    """One SpikingJelly pass over all samples, ``chunk`` samples at a time."""
    import torch
    from spikingjelly.activation_based import functional

    x = torch.from_numpy(trains)  # (T, samples, 1, 28, 28)

    def run() -> object:
        outs = []
        with torch.no_grad():
            for lo in range(0, x.shape[1], chunk):
                functional.reset_net(snn)
                outs.append(snn(x[:, lo : lo + chunk]).sum(0))  # type: ignore[operator]
        return outs

    return run


def main() -> None:
    """Parse arguments, build the nets, run and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="MNIST folder ($LIF_BRIDGE_DATA_DIR)")
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--steps", default="32,100,300")
    parser.add_argument("--nets", default="paper_mlp,mlp,bn_cnn,paper_cnn")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per configuration")
    parser.add_argument(
        "--step-loop", action="store_true", help="also time the NumPy fallback (compiled=False)"
    )
    parser.add_argument("--sj-mib", type=float, default=512.0, help="SpikingJelly chunk memory")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall", help="cpu: process CPU time (loaded)"
    )
    args = parser.parse_args()
    if args.clock == "cpu":
        CLOCK[0] = time.process_time
    print(f"clock: {args.clock}")
    os.environ.setdefault("TQDM_DISABLE", "1")  # SpikingJelly's calibration progress bars
    steps = [int(s) for s in args.steps.split(",")]
    threads = [int(t) for t in args.threads.split(",")]
    print(f"start: {load()}")
    train = load_mnist("train", data_dir=args.data_dir, limit=10_000)
    cal = train.x[:1000]
    x = load_mnist("test", data_dir=args.data_dir, limit=args.samples).x
    if train.y is None:
        raise SystemExit("MNIST training labels missing")
    zoo = models(train.x, train.y, args.nets.split(","))
    rates = gemm_rates()
    print(
        "float64 GEMM [GFLOP/s]: "
        + ", ".join(f"{k[:-1]} x{k[-1]} {v / 1e9:.1f}" for k, v in rates.items())
    )
    head = ["net", "T", *[f"ref x{t}" for t in threads], *[f"SJ x{t}" for t in threads]]
    tail = [f"step loop x{t}" for t in threads] + ["check"] if args.step_loop else []
    print(" | ".join([*head, "ref/SJ", "GEMM bound", "ref/bound", "agree", *tail]))
    for name in args.nets.split(","):
        model = zoo[name]
        net = lb.from_torch(
            model, input_shape=(1, 28, 28), normalize="percentile", calibration=cal, max_rate=RATE
        )
        snn = spikingjelly(model, cal)
        bound = dense_bound(net, rates)
        print(f"{name}: {load()}")
        for t in steps:
            row = measure(net, snn, x, t, threads, bound, args)
            cut = 2 * len(threads) + 1  # rates and ratio | bound | of bound, agreement, step loop
            print(" | ".join([name, str(t), *row[:cut], f"{bound:,.0f}", *row[cut:]]))
        print(f"{name} done: {load()}")
    print(f"end: {load()}")


def measure(
    net: lb.Network,
    snn: object,
    x: np.ndarray,
    t: int,
    threads: list[int],
    bound: float,
    args: argparse.Namespace,
) -> list[str]:
    """One table row: rates per thread count, ref/SJ ratio, fraction of the bound, agreement."""
    import torch
    from threadpoolctl import threadpool_limits

    sim = lb.Simulation(steps=t, dt=DT, max_rate=RATE)
    trains = sim.encode(net, x, 0).astype(np.float32)  # (samples, T, 784)
    trains = np.ascontiguousarray(trains.transpose(1, 0, 2)).reshape(t, len(x), 1, 28, 28)
    widest = max(p.size for p in net.populations)
    chunk = max(1, min(len(x), int(args.sj_mib * 2**20 / (4 * t * widest * 3))))
    program = lb.get_backend("reference").lower(net, sim)  # the default path: compiled
    numpy_path = lb.get_backend("reference", compiled=False).lower(net, sim)
    work, reps, budget = len(x) * t, args.repeats, args.budget
    ref, sj, loop = [], [], []
    program.run(x[:32])  # compile (or load) the serial and threaded kernels outside the timing
    for k in threads:
        with threadpool_limits(k):
            _set_numba_threads(k)
            ref.append(median_rate(lambda: program.run(x), work, reps, budget))
            if args.step_loop:
                loop.append(median_rate(lambda: numpy_path.run(x), work, 1, 0.0))
        torch.set_num_threads(k)
        sj.append(median_rate(sj_runner(snn, trains, chunk), work, reps, budget))
    best = [max(float(r.split()[0].replace(",", "")) for r in col) for col in (ref, sj)]
    counts = program.run(x).output_counts
    if args.step_loop:  # the kernels give the NumPy step path's very counts
        same = np.array_equal(counts, numpy_path.run(x).output_counts)
        loop.append("same counts" if same else "COUNTS DIFFER")
    program.close()
    numpy_path.close()
    agree = lb.agreement(counts, lb.ann_forward(net, x, max_rate=RATE))
    ratio, of_bound = f"{best[0] / best[1]:.2f}x", f"{best[0] / bound:.2f}"
    return [*ref, *sj, ratio, of_bound, f"{agree.fraction:.3f}", *loop]


def _set_numba_threads(k: int) -> None:
    try:
        import numba
    except ImportError:  # the reference backend without numba kernels
        return
    numba.set_num_threads(min(k, numba.config.NUMBA_NUM_THREADS))


if __name__ == "__main__":
    main()
