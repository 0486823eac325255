r"""NIR (Neuromorphic Intermediate Representation) export and import.

:func:`to_nir` turns a :class:`~lif_bridge.network.Network` into a ``nir.NIRGraph`` and
:func:`from_nir` turns such a graph (or a ``.nir`` file) back into the same network, exactly.
The ``nir`` package is an optional extra (``pip install "lif-bridge[nir]"``), imported only here.

Graph layout
------------
* ``input``: ``nir.Input`` of the network's input shape; the readout feeds ``nir.Output``
  (named ``output``, or ``output.nir`` if a population is called ``output``).
* One neuron node per population, named as the population: ``nir.IF`` when no neuron leaks
  (``g_l = 0``), else ``nir.LIF``; parameters have the population's shape.
* Projection ``k`` of population ``P`` is a path ``source -> P.p<k>.s<j> (stages) -> P.p<k>
  (map) -> P``: a population with several projections is several edges into one neuron node
  (NIR sums them). Maps: Dense -> ``Affine`` (weight ``(out, in)``), Conv2d -> ``Conv2d``,
  Identity -> ``Scale``; stages: Flatten -> ``Flatten``, AvgPool2d -> ``AvgPool2d``, MaxPool2d ->
  ``AvgPool2d`` (NIR has no max pool: a stand-in of the same window).

Parameters in NIR's conventions
-------------------------------
lif-bridge's membrane ``C_m dv/dt = -g_l (v - v_rest) + I`` divided by ``g_l`` is NIR's LIF
``tau dv/dt = (v_leak - v) + R I`` with

.. math::

    \tau = C_m / g_l\ [s], \quad R = 1 / g_l\ [\Omega], \quad v_{leak} = v_{rest},
    \quad v_{threshold} = V_{th}, \quad v_{reset} = v_{reset}

and without leak (NIR's IF, ``dv/dt = R I``) ``R = 1 / C_m``. A spike through weight ``w`` [C]
is the current ``w δ(t)``, so ``v`` jumps by ``R w / tau = w / C_m`` either way. The bias current
``I_bias`` [A] is the bias of the first Affine (or Conv2d, when constant per channel) feeding the
population.

The ``lif_bridge`` metadata key
-------------------------------
``graph.metadata["lif_bridge"]`` is a dict ``{"format": "lif-bridge-nir", "version": 1,
"header": <JSON>, "refs": <JSON>, "arrays": {"a<i>": float64 array}}``: ``header`` is the network
(and simulation) description of :func:`lif_bridge.network.io.encode_network` (file format 2),
whose ``"@a<i>"`` arrays are either in ``arrays`` or, for weights, referenced by ``refs`` as
``[node, field]`` of the NIR graph (not stored twice). It carries what NIR cannot say: subtractive
reset, the ``v >= v_th`` rule and the discrete step order of :mod:`lif_bridge.semantics`,
refractoriness, delays, the spiking max pool, the encoder and simulation settings, ``max_rate``
and the ANN-view fields. A reader that ignores it still gets a valid graph; :func:`to_nir` warns
(:class:`NirExportWarning`) with what such a reader loses.
"""

from lif_bridge.nir.export import METADATA_KEY, NirExportWarning, to_nir, write_nir
from lif_bridge.nir.importer import from_nir, read_nir
from lif_bridge.nir.options import SNNTORCH_DT, NirImportOptions

__all__ = [
    "METADATA_KEY",
    "SNNTORCH_DT",
    "NirExportWarning",
    "NirImportOptions",
    "from_nir",
    "read_nir",
    "to_nir",
    "write_nir",
]
