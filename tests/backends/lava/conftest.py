"""Shared helpers of the Lava backend tests (the MLP builder lives in ``mlp.py``)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
