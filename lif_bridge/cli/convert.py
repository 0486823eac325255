"""``lif-bridge convert``: a trained PyTorch model or a NIR graph -> a saved network description."""

from __future__ import annotations

import argparse
import os
from typing import Any

from lif_bridge.cli.common import emit, resolve_data_dir
from lif_bridge.cli.convert_nir import add_nir_args, convert_nir, refuse_nir_options
from lif_bridge.errors import ConversionError

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``convert`` sub-command."""
    p = sub.add_parser(
        "convert",
        help="convert a trained PyTorch ReLU network into a Linear LIF network file",
        description="Trace a feed-forward ReLU network (Linear, Conv2d, pooling, BatchNorm "
        "folded), map it onto Linear LIF neurons (Lu & Xu 2022) with the chosen bias mode and "
        "normalisation, and save the description (.npz) with lif_bridge.save_network.",
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        help="a TorchScript file (.pt), a torch.export program (.pt2, torch.export.save), "
        "'module.path:factory' (e.g. lif_bridge.zoo:paper_mlp) with --weights, or a NIR "
        "graph (.nir, lif_bridge.from_nir; the conversion options do not apply)",
    )
    p.add_argument("-o", "--output", required=True, metavar="NET", help="network file to write")
    p.add_argument("--weights", metavar="FILE", help="state_dict for a factory: .pt/.pth or .npz")
    p.add_argument(
        "--factory-weights",
        action="store_true",
        help="convert a factory's model without --weights, with the weights the factory "
        "itself sets (refused otherwise: they are usually random)",
    )
    p.add_argument(
        "--input-shape",
        type=int,
        nargs="+",
        default=None,
        metavar="N",
        help="shape of one sample, e.g. 1 28 28 (required for torch models; a .nir graph "
        "has its own)",
    )
    p.add_argument(
        "--bias-mode",
        choices=("current", "leak", "none"),
        default="current",
        help="ReLU bias as a constant current, as a leak g_l (b <= 0 only), or dropped "
        "(default current)",
    )
    p.add_argument(
        "--normalize",
        choices=("none", "max", "percentile", "l4"),
        default="none",
        help="data-based weight normalisation on --calibrate-on (default none)",
    )
    p.add_argument("--percentile", type=float, default=99.9, help="for --normalize percentile")
    p.add_argument(
        "--calibrate-on",
        metavar="DATA",
        help="calibration set (training split): 'mnist', 'digits' or an .npz with array x",
    )
    p.add_argument(
        "--calibration-samples", type=int, default=1000, metavar="N", help="default 1000"
    )
    p.add_argument(
        "--data-dir", default=None, help="folder of the MNIST files; default $LIF_BRIDGE_DATA_DIR"
    )
    p.add_argument(
        "--max-rate", type=float, default=None, help="input rate [Hz] for x = 1 (default 100)"
    )
    p.add_argument(
        "--layer-rate",
        type=float,
        default=None,
        help="rate [Hz] a normalised activation of 1 maps to in every layer (default: max-rate)",
    )
    p.add_argument("--g-l", type=float, default=None, help="leak g_l [S] of the neurons")
    p.add_argument(
        "--v-rest",
        type=float,
        default=None,
        metavar="V",
        help="initial membrane potential [V] (without a leak it is only that); 0.5 = V_th/2 "
        "rounds each neuron's count instead of truncating it (Bu et al. 2022), which halves "
        "the rate error of deep nets at short windows (default 0)",
    )
    p.add_argument(
        "--reset",
        choices=("subtract", "zero"),
        default=None,
        help="reset by subtraction (Linear LIF, the default) or to v_reset",
    )
    p.add_argument(
        "--coding",
        choices=("rate", "ttfs"),
        default="rate",
        help="rate (Linear LIF, default) or ttfs (time-to-first-spike, Stanojevic et al. 2023; "
        "needs --calibrate-on)",
    )
    from lif_bridge.ttfs.cli import add_convert_args

    add_convert_args(p)
    add_nir_args(p)
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_convert)


def _convert(args: argparse.Namespace) -> int:
    from lif_bridge import Neurons, save_network
    from lif_bridge.fileio import check_writable
    from lif_bridge.network.summary import map_synapses

    if args.model.endswith(".nir"):
        return convert_nir(args)
    refuse_nir_options(args)
    if args.model.endswith(".npz") and os.path.isfile(args.model):
        raise ConversionError(
            f"{args.model}: a lif-bridge network file (already converted); run it with "
            "`lif-bridge run`, or give the torch model (.pt, .pt2 or module.path:factory) to "
            "convert"
        )
    if args.input_shape is None:
        raise ConversionError("--input-shape is required to convert a torch model, e.g. 1 28 28")
    calibration = None
    if args.coding == "ttfs" and not args.calibrate_on:
        raise ConversionError(
            "--coding ttfs needs a calibration set to size its time windows: add --calibrate-on "
            "mnist|digits|FILE.npz"
        )
    is_file = os.path.isfile(args.model)
    if not is_file and ":" in args.model and args.weights is None and not args.factory_weights:
        raise ConversionError(
            f"{args.model}: a factory without --weights would convert the weights it creates "
            "(usually random); give --weights FILE, or --factory-weights if the factory sets "
            "trained weights itself"
        )
    inputs = [args.model if is_file else None, args.weights]
    out = args.output if args.output.endswith(".npz") else args.output + ".npz"  # as saved
    check_writable(out, what="-o/--output", inputs=inputs)

    if args.normalize != "none" or args.coding == "ttfs":
        if not args.calibrate_on:
            raise ConversionError(
                f"--normalize {args.normalize} needs a calibration set: add --calibrate-on "
                "mnist|digits|FILE.npz"
            )
        if args.calibration_samples < 1:
            raise ConversionError("--calibration-samples must be >= 1")
        from lif_bridge.data import load_dataset

        calibration = load_dataset(
            args.calibrate_on,
            split="train",
            data_dir=resolve_data_dir(args.data_dir),
            limit=args.calibration_samples,
        ).x
    template: dict[str, Any] = {}
    if args.g_l is not None:
        template["g_l"] = args.g_l
    if args.reset is not None:
        template["reset"] = args.reset
    if args.v_rest is not None:
        if args.bias_mode == "leak" or args.g_l:
            raise ConversionError(
                "--v-rest is the initial potential of neurons without a leak; with --bias-mode "
                "leak or --g-l > 0 it would move the leak's rest and break the mapping: drop it"
            )
        template["v_rest"] = args.v_rest
    neurons = Neurons(**template) if template else None

    from lif_bridge.convert import from_torch
    from lif_bridge.ttfs.cli import convert_options, convert_summary

    net = from_torch(
        args.model,
        input_shape=tuple(args.input_shape),
        bias_mode=args.bias_mode,
        normalize=args.normalize,
        percentile=args.percentile,
        calibration=calibration,
        neurons=neurons,
        max_rate=args.max_rate,
        layer_rate=args.layer_rate,
        weights=args.weights,
        progress=not args.json,
        coding=args.coding,
        ttfs_options=convert_options(args),
    )
    path = save_network(args.output, net)
    if args.coding == "ttfs":
        emit(*convert_summary(net, path, args.json))
        return 0

    layers = []

    n_neurons = n_syn = 0
    for pop in net.populations:  # every incoming projection (a chain has one)
        syn = sum(map_synapses(e.map, e.input_shape) for e in pop.projections)
        n_neurons += pop.size
        n_syn += syn
        layers.append(
            {
                "name": pop.name,
                "type": "+".join(type(e.map).__name__ for e in pop.projections),
                "sources": [e.source_name for e in pop.projections],
                "shape": list(pop.shape),
                "neurons": pop.size,
                "synapses": syn,
                "activation": pop.ann_activation,
                "rate_scale": pop.rate_scale,
            }
        )
    conv = net.metadata["conversion"]
    payload = {
        "output": os.fspath(path),
        "input_shape": list(net.input_shape),
        "max_rate": net.max_rate,
        "bias_mode": conv["bias_mode"],
        "normalize": conv["normalize"],
        "normalization_factors": conv["factors"],
        "calibration_samples": conv["calibration_samples"],
        "layers": layers,
        "neurons": n_neurons,
        "synapses": n_syn,
    }
    factors = ", ".join(f"{k}={v:.4g}" for k, v in conv["factors"].items())
    text = (
        f"{net.summary()}\n"
        f"{len(layers)} populations, {n_neurons:,} neurons, {n_syn:,} synapses; "
        f"bias mode {conv['bias_mode']}, normalisation {conv['normalize']} ({factors}); "
        f"max_rate {net.max_rate:g} Hz\nwrote {path}"
    )
    emit(payload, args.json, text)
    return 0
