"""``python -m sim.compare PATH... [--out DIR]``: aggregate and compare runs and sweeps.

Writes ``runs.csv`` (one row per run), ``timeseries.csv`` (long), their Parquet twins when
pyarrow is installed, comparison figures and a self-contained ``report.html``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.compare", description=__doc__.splitlines()[0]
    )
    parser.add_argument("paths", nargs="+", type=Path, help="run or sweep folders")
    parser.add_argument("--out", type=Path, help="where to write (default: FIRST_PATH/comparison)")
    parser.add_argument("--no-plots", action="store_true", help="tables only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    missing = [p for p in args.paths if not p.exists()]
    if missing:
        parser.error(f"no such folder: {', '.join(map(str, missing))}")
    from sim.sweep.compare import compare

    out = args.out or args.paths[0] / "comparison"
    result = compare(args.paths, out, plots=not args.no_plots)
    runs = result.aggregate.runs
    print(f"{len(runs)} runs ({(runs['status'] == 'ok').sum()} ok) -> {out}")
    for name, path in {**result.tables, **result.figures}.items():
        if "." in name:
            print(f"  {path}")
    if result.report:
        print(f"  report: {result.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
