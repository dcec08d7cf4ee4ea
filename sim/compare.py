"""python -m sim.compare PATH... [--out DIR]: aggregate and compare runs and sweeps."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

DESCRIPTION = """\
Aggregate and compare any mix of run folders and sweep folders.

Writes into the output folder:
  runs.csv, runs.parquet              one row per run: parameters, scenario, seed,
                                      status, error and every summary figure
  timeseries.csv, timeseries.parquet  every successful run's monthly records, long
  *.png                               comparison figures
  report.html                         one self-contained file with every figure,
                                      the numbers behind it and the failed runs

Folders that cannot be read are listed (status "unreadable") and left out; a run
found twice is counted once. When no run changed since the last comparison into the
same folder, nothing is recomputed."""

EPILOG = """\
examples:
  python -m sim.compare multirun/2026-11-26/10-00-00
  python -m sim.compare multirun/my_sweep outputs/2026-11-26/10-00-00_baseline --out cmp"""


def parser() -> argparse.ArgumentParser:
    """The command line: plain-text help, folders, ``--out`` and ``--no-plots``."""
    p = argparse.ArgumentParser(
        prog="python -m sim.compare",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", type=Path, help="run or sweep folders")
    p.add_argument("--out", type=Path, help="where to write (default: FIRST_PATH/comparison)")
    p.add_argument("--no-plots", action="store_true", help="tables only: no figures, no report")
    return p


def input_problem(paths: list[Path], out: Path) -> str | None:
    """What is wrong with the folders to compare or ``--out``, checked before any work: a
    path that is missing, is not a folder or holds no run; an ``--out`` that is a file."""
    from sim.sweep.compare import out_folder_problem
    from sim.sweep.run_folders import MARKERS, holds_a_run

    missing = [p for p in paths if not p.exists()]
    if missing:
        return f"no such folder: {', '.join(map(str, missing))}"
    files = [p for p in paths if not p.is_dir()]
    if files:
        return f"not a folder: {', '.join(map(str, files))} (give run or sweep folders)"
    if problem := out_folder_problem(out):
        return f"--out {out}: {problem}"
    empty = [p for p in paths if not holds_a_run(p)]
    if empty:
        return (
            f"no runs in {', '.join(map(str, empty))}: a run folder holds "
            f"{' or '.join(MARKERS)} (links to folders are not followed)"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    cli = parser()
    args = cli.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from sim.results import StorageError
    from sim.sweep.compare import compare
    from sim.sweep.lock import is_locked

    out = args.out or args.paths[0] / "comparison"
    problem = input_problem(args.paths, out)
    if problem:
        cli.error(problem)
    for path in args.paths:
        holder = is_locked(path)
        if holder:
            print(f"Note: a sweep is still running in {path} ({holder}); comparing it part-way.")
    try:
        result = compare(args.paths, out, plots=not args.no_plots)
    except StorageError as e:
        print(f"Error: {e}. Free space or choose another folder with --out.", file=sys.stderr)
        return 1
    runs = result.aggregate.runs
    state = " (up to date, nothing redrawn)" if result.up_to_date else ""
    print(f"{len(runs)} runs ({(runs['status'] == 'ok').sum()} ok) -> {out}{state}")
    for name, path in {**result.tables, **result.figures}.items():
        if "." in name or name in result.figures:
            print(f"  {path}")
    if result.report:
        print(f"  report: {result.report}")
    skipped = result.aggregate.skipped
    if len(skipped):
        print(f"  {len(skipped)} folders could not be read and were left out (see runs.csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
