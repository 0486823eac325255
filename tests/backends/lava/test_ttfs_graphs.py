"""The Lava TTFS backend refuses graph networks with one clear error (chains only)."""

from __future__ import annotations

import numpy as np
import pytest

from lif_bridge.errors import ValidationError
from lif_bridge.testing import random_graph
from lif_bridge.ttfs import convert_ttfs, get_ttfs_backend

pytestmark = pytest.mark.lava


def test_graph_refused_naming_the_joined_population() -> None:
    raw = random_graph(0, "identity_skip1")
    net = convert_ttfs(raw, calibration=np.full((2, 2, 6, 6), 0.5))
    with pytest.raises(
        ValidationError,
        match=r"Lava TTFS backend runs TTFS chains only.*: a\b.*--backend reference",
    ):
        get_ttfs_backend("lava").lower(net, 1e-4)
