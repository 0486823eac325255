"""Run a converted network on Brian2's C++ standalone device, and print its equations.

    .venv/bin/python examples/brian2_standalone.py

1. describe a small network (conv → spiking max pool → dense; Linear LIF neurons);
2. print every population's equations with units, for a methods section (``describe``);
3. get hold of the ``brian2.Network`` itself (``to_brian2``) to inspect or extend it;
4. compile it once with ``cpp_standalone`` and run a batch of samples through it, checking
   the counts against the reference backend.

Build folders go to ``$LIF_BRIDGE_CACHE/brian2`` (default ``~/.cache/lif-bridge/brian2``) or to
``build_dir=``; nothing is written to the working folder.
"""

from __future__ import annotations

import numpy as np
from lif_bridge_brian2 import describe, to_brian2

from lif_bridge.backend import get_backend, simulate
from lif_bridge.network import (
    Conv2d,
    Dense,
    Flatten,
    MaxPool2d,
    Network,
    Neurons,
    Readout,
    RegularRate,
    Simulation,
)

rng = np.random.default_rng(0)
lif = Neurons(c_m=1.0, g_l=0.5, v_th=1.0, reset="subtract")  # Linear LIF, tau_m = 2 s
network = Network(
    input_shape=(1, 8, 8),
    layers=(
        Conv2d(name="conv", weight=rng.normal(0.1, 0.5, (4, 1, 3, 3)), padding=1, neurons=lif),
        MaxPool2d(name="pool", kernel_size=2),
        Flatten(name="flat"),
        Dense(name="out", weight=rng.normal(0.1, 0.4, (3, 64)), neurons=lif),
    ),
)
simulation = Simulation(steps=100, dt=0.01, encoder=RegularRate(), readout=Readout(counts="all"))

# 2. The equations, in biophysical units (mV, nF, nS: the results are the same as in SI).
_, layer_map = to_brian2(network, simulation, units="biophysical")
print(describe(layer_map))

# 3. The Brian2 objects: one NeuronGroup per population, Synapses per layer, max-pool windows.
print("\nBrian2 objects:", ", ".join(sorted(layer_map.objects)))

# 4. Compile once, run a batch (a larger batch would reuse the same binary).
x = rng.random((8, 1, 8, 8))
backend = get_backend("brian2", device="cpp_standalone", samples_per_run=8)
program = backend.lower(network, simulation)
try:
    print(f"\ncompiled in {program.compile():.1f} s")
    result = program.run(x)
finally:
    program.close()
reference = simulate(network, x, simulation, "reference")
print("output counts:\n", result.output_counts)
same = all(np.array_equal(result.counts[k], reference.counts[k]) for k in reference.counts)
print("identical to the reference backend:", same)
