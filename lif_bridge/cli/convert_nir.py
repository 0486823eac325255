"""``lif-bridge convert FILE.nir``: a NIR graph -> a saved network description."""

from __future__ import annotations

import argparse
import os

from lif_bridge.cli.common import emit
from lif_bridge.errors import ConversionError

__all__ = ["add_nir_args", "convert_nir", "refuse_nir_options"]

#: Options of a torch conversion that a NIR graph (already spiking) cannot take.
_TORCH_ONLY = ("weights", "calibrate_on", "g_l", "v_rest", "reset", "max_rate", "layer_rate")
#: ``--nir-*`` options: the fields of lif_bridge.nir.NirImportOptions.
_NIR_ONLY = ("nir_spike_dt", "nir_dt", "nir_tau_syn_max")


def add_nir_args(p: argparse.ArgumentParser) -> None:
    """The options of reading a graph of another tool (``lif_bridge.nir.NirImportOptions``)."""
    g = p.add_argument_group("NIR graphs of other tools (no lif_bridge metadata)")
    g.add_argument(
        "--nir-spike-dt",
        type=float,
        default=None,
        metavar="S",
        help="a spike is a unit pulse of S seconds, the exporting tool's step (snnTorch: 1e-4); "
        "default: a Dirac delta (NIR's continuous reading)",
    )
    g.add_argument(
        "--nir-dt",
        type=float,
        default=None,
        metavar="S",
        help="the step [s] the network will run at: Delay nodes become delays of whole steps",
    )
    g.add_argument(
        "--nir-tau-syn-max",
        type=float,
        default=None,
        metavar="S",
        help="read CubaLIF nodes with tau_syn <= S in the limit tau_syn -> 0 (default: refuse)",
    )


def refuse_nir_options(args: argparse.Namespace) -> None:
    """A torch conversion given ``--nir-*`` options: one clear error."""
    given = [o for o in _NIR_ONLY if getattr(args, o, None) is not None]
    if given:
        raise ConversionError(
            f"{args.model}: "
            + ", ".join("--" + g.replace("_", "-") for g in given)
            + " apply to .nir graphs only"
        )


def convert_nir(args: argparse.Namespace) -> int:
    """``convert FILE.nir``: the graph's network (and simulation) saved as ``.npz``."""
    from lif_bridge import save_network
    from lif_bridge.fileio import check_writable
    from lif_bridge.nir import NirImportOptions, read_nir

    given = [o for o in _TORCH_ONLY if getattr(args, o) is not None]
    given += [o for o in ("input_shape",) if args.input_shape is not None]
    given += [o for o, d in (("normalize", "none"), ("coding", "rate")) if getattr(args, o) != d]
    if given:
        raise ConversionError(
            f"{args.model}: a NIR graph is converted as it is; drop "
            + ", ".join("--" + g.replace("_", "-") for g in given)
        )
    options = NirImportOptions(
        spike_dt=args.nir_spike_dt,
        dt=args.nir_dt,
        tau_syn_max=0.0 if args.nir_tau_syn_max is None else args.nir_tau_syn_max,
    )
    out = args.output if args.output.endswith(".npz") else args.output + ".npz"
    check_writable(out, what="-o/--output", inputs=[args.model])
    net, sim = read_nir(args.model, options)
    path = save_network(args.output, net, sim)
    payload = {
        "output": os.fspath(path),
        "input_shape": list(net.input_shape),
        "populations": [p.name for p in net.populations],
        "simulation": sim is not None,
    }
    emit(payload, args.json, f"{net.summary()}\nwrote {path}")
    return 0
