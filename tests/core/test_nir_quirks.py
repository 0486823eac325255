"""What nirtorch-based exporters write beyond NIR's own conventions, built node for node with
``nir`` as Norse 1.1's ``to_nir`` writes it: ``None`` for an unmapped ``nn.Flatten`` and the
sample's batch axis kept in the ``Input``/``Output`` types (``tests/core/test_nir_norse.py``
reads the same from Norse's real exporter)."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge import LifBridgeError, from_nir
from lif_bridge.network import Dense, Flatten

pytestmark = [pytest.mark.nir]


def _norse_style(in_shape: list[int], out_shape: list[int], flatten: object = None):  # type: ignore[no-untyped-def]
    import nir

    rng = np.random.default_rng(0)
    nodes = {
        "input": nir.Input(input_type={"input": np.array(in_shape)}),
        "0": flatten,
        "1": nir.Affine(weight=rng.uniform(0, 1, (3, 4)), bias=np.zeros(3)),
        "2": nir.LIF(
            tau=np.array(0.02),
            r=np.array(1.0),
            v_leak=np.array(0.0),
            v_threshold=np.array(1.0),
            v_reset=np.array(0.0),
        ),
        "output": nir.Output(output_type={"output": np.array(out_shape)}),
    }
    edges = [("input", "0"), ("0", "1"), ("1", "2"), ("2", "output")]
    return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)


def test_a_none_node_is_refused_by_name_unless_read_as_flatten() -> None:
    g = _norse_style([1, 2, 2], [1, 3])
    with pytest.raises(LifBridgeError, match=r"node '0' is None.*none_as_flatten=True"):
        from_nir(g)
    net = from_nir(g, none_as_flatten=True)
    (proj,) = net.nodes[0].projections
    assert proj.stages == (Flatten(name="0"),)
    assert isinstance(proj.map, Dense) and proj.map.weight.shape == (3, 4)


def test_the_batch_axis_of_a_graph_traced_with_one_sample_is_dropped() -> None:
    # Input (1, 2, 2) and Output (1, 3) around a readout of 3: traced with a batch of one.
    assert from_nir(_norse_style([1, 2, 2], [1, 3]), none_as_flatten=True).input_shape == (2, 2)
    # Output (3,): no batch axis; the Input's leading 1 is a channel and stays.
    assert from_nir(_norse_style([1, 2, 2], [3]), none_as_flatten=True).input_shape == (1, 2, 2)


def test_a_leading_one_stays_when_the_output_does_not_match_without_it() -> None:
    import nir

    # Output (1, 4) does not match the readout of 3 once its leading axis is dropped either.
    flatten = nir.Flatten(input_type=None, start_dim=0)
    net = from_nir(_norse_style([1, 4], [1, 4], flatten))
    assert net.input_shape == (1, 4)
