"""Studies of a converted network: parameter sweeps (on Dask) and a diagnosis of one setting.

:func:`run_sweep` runs a grid of conversion and simulation parameters, every point and every
shard of samples on Dask (or in-process), resumable; :func:`write_sweep_report` turns its rows
into ``report.md`` and figures; :func:`diagnose` measures where one setting departs from the
ANN and what to change. Importing this package imports neither Dask nor torch.
"""

from lif_bridge.study.diagnose import diagnose
from lif_bridge.study.diagnose_report import write_diagnosis
from lif_bridge.study.points import PARAMETERS, encoder_from_name, grid_points, parse_grid, point_id
from lif_bridge.study.report import write_sweep_report
from lif_bridge.study.store import SweepStore
from lif_bridge.study.sweep import SweepOutcome, fingerprint, run_sweep

__all__ = [
    "PARAMETERS",
    "SweepOutcome",
    "SweepStore",
    "diagnose",
    "encoder_from_name",
    "fingerprint",
    "grid_points",
    "parse_grid",
    "point_id",
    "run_sweep",
    "write_diagnosis",
    "write_sweep_report",
]
