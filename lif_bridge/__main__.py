"""``python -m lif_bridge`` runs the command line."""

import sys

from lif_bridge.cli import main

sys.exit(main())
