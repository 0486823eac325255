"""TTFS on graph networks: refused with one clear error until a backend implements the spec."""

from __future__ import annotations

import dataclasses

import pytest

from lif_bridge.errors import ValidationError
from lif_bridge.testing import random_graph
from lif_bridge.ttfs.coding import layer_plan


@pytest.mark.parametrize(
    ("architecture", "joined"), [("identity_skip1", "a"), ("concat2_avg", "c")]
)
def test_graph_refused_naming_the_joined_population(architecture: str, joined: str) -> None:
    net = random_graph(0, architecture)
    names = [p.name for p in net.populations]
    doc = {"tau_c": 1e-3, "input_window": 1e-3, "windows": dict.fromkeys(names, 1e-3)}
    net = dataclasses.replace(net, metadata={"coding": "ttfs", "ttfs": doc})
    with pytest.raises(ValidationError, match=rf"TTFS runs chains only.*: {joined}\b.*rate"):
        layer_plan(net)
