"""``python -m sim.analyze``: decision analysis from the command line (see :mod:`sim.analysis.cli`)."""

from __future__ import annotations

import sys

from sim.analysis.cli import main

if __name__ == "__main__":
    sys.exit(main())
