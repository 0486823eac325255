r"""Input and output axons per core of a lowered network, counted projection by projection.

The core model of :mod:`lif_bridge_lava.loihi`: a population of ``n`` neurons on ``k`` cores
keeps neurons ``[c·p, (c+1)·p)`` on core ``c``, ``p = ceil(n / k)`` (rows of its matrices in
order). A core needs

* one **input axon** per distinct source unit that has a synapse onto one of its neurons,
  over all the population's projections (the columns of ``[W_1 | W_2 | ...]`` restricted to
  the core's rows that hold a nonzero);
* one **output axon** per (source neuron, destination core) pair it reaches, over every
  projection leaving the population. A source neuron reaches a destination core when the
  projection's matrix has a nonzero in one of that core's rows in a column the neuron feeds:
  its own column, or through spiking max pooling the column of every window it belongs to
  (a gate passes any unit of its window, so every one needs the axon).

Pure NumPy/SciPy; no Lava.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lif_bridge_lava.lowering import LoweredEdge

__all__ = ["input_axons_per_core", "output_axons_per_core", "reached_cores"]


def _core_of_rows(n_rows: int, cores: int) -> np.ndarray:
    per_core = max(1, math.ceil(n_rows / max(cores, 1)))
    return np.arange(n_rows) // per_core


def input_axons_per_core(matrix: sp.spmatrix, cores: int) -> np.ndarray:
    """Distinct source units with a synapse onto each core, ``(cores,)`` int64.

    Parameters
    ----------
    matrix
        ``(n_target, n_inputs)`` stored matrix of a population, its projections side by side.
    cores
        Cores the population is spread over.
    """
    coo = sp.coo_matrix(matrix)
    core = _core_of_rows(matrix.shape[0], cores)[coo.row[coo.data != 0]]
    col = coo.col[coo.data != 0]
    pairs = sp.csr_matrix(
        (np.ones(core.size, dtype=np.int8), (core, col)), shape=(cores, matrix.shape[1])
    )
    pairs.sum_duplicates()
    return np.asarray(pairs.getnnz(axis=1), dtype=np.int64)


def _window_incidence(windows: np.ndarray, n_in: int) -> sp.csr_matrix:
    """``(n_in, n_out)`` 0/1 matrix: input unit ``j`` belongs to window ``u``."""
    n_out, k = windows.shape
    cols = np.repeat(np.arange(n_out), k)
    data = np.ones(n_out * k, dtype=np.int8)
    m = sp.csr_matrix((data, (windows.ravel(), cols)), shape=(n_in, n_out))
    m.sum_duplicates()
    m.data[:] = 1
    return m


def reached_cores(edge: LoweredEdge, target_cores: int) -> np.ndarray:
    """Destination cores each source neuron of ``edge`` reaches, ``(n_source,)`` int64."""
    m = sp.coo_matrix(edge.jumps)
    keep = m.data != 0
    core = _core_of_rows(m.shape[0], target_cores)[m.row[keep]]
    reach = sp.csr_matrix(
        (np.ones(core.size, dtype=np.int8), (m.col[keep], core)),
        shape=(m.shape[1], target_cores),
    )
    reach.sum_duplicates()
    reach.data[:] = 1
    sizes = [edge.n_source] + [w.shape[0] for w in edge.windows]
    for windows, n_in in zip(reversed(edge.windows), reversed(sizes[:-1]), strict=True):
        reach = sp.csr_matrix(_window_incidence(windows, n_in).astype(np.int32) @ reach)
        reach.data[:] = 1
    return np.asarray(reach.getnnz(axis=1), dtype=np.int64)


def output_axons_per_core(
    edges: Sequence[Sequence[LoweredEdge]], sizes: Sequence[int], cores: Sequence[int]
) -> list[np.ndarray]:
    """Output axons each core of each population needs, one ``(cores_i,)`` array per population.

    Parameters
    ----------
    edges
        Per population, its lowered incoming projections (the encoder's, ``source < 0``, need
        no axon on the chip and are skipped).
    sizes, cores
        Neurons and cores of every population.
    """
    per_neuron = [np.zeros(n, dtype=np.int64) for n in sizes]
    for target, es in enumerate(edges):
        for edge in es:
            if edge.source >= 0:
                per_neuron[edge.source] += reached_cores(edge, cores[target])
    out = []
    for counts, k in zip(per_neuron, cores, strict=True):
        core = _core_of_rows(counts.size, k)
        out.append(np.bincount(core, weights=counts, minlength=k).astype(np.int64))
    return out
