"""``python -m sim.analyze``: Morris, Sobol, PRIM and robustness from the command line.

Every subcommand samples designs from the declared experiment space, runs them for one seed
list in a process pool (``--n-jobs``), keeps finished runs in ``OUT/runs`` (run the same
command again to resume: only missing runs are computed) and writes CSV and Parquet tables
and PNG figures into ``--out``. Bad input (an unknown parameter or outcome, a value out of
range, a malformed condition) is refused with exit code 2 before anything runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.validate import ConfigError

log = logging.getLogger("sim.analysis")
EXAMPLES = """examples:
  python -m sim.analyze space
  python -m sim.analyze morris --trajectories 10 --seeds 3 --n-jobs 2
  python -m sim.analyze sobol --samples 128 --top 5 --morris outputs/analysis/morris/morris.csv
  python -m sim.analyze prim --condition "capability_gap_months_final > 2 and revenue_intermediary > 1e10"
  python -m sim.analyze robust --policies baseline,strict_safeguards,tightened_export_rules \\
      --satisfice "gap_closed_months_final < 1"
  python -m sim.analyze morris --set customers.n=300 --set horizon=24 --trajectories 4
"""


def _value(text: str) -> Any:
    """A ``--set`` value: YAML scalars and lists (``500``, ``0.3``, ``true``, ``[a,b]``)."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str):
        try:
            return float(value)  # YAML 1.1 reads 1e6 as text
        except ValueError:
            return value
    return value


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``["customers.n=500", "horizon=24"]`` to a dict; refuses items without ``=``."""
    out = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: write KEY=VALUE, e.g. --set customers.n=500")
        out[key.strip()] = _value(text.strip())
    return out


def _seeds(text: str) -> int | list[int]:
    try:
        if "," in text:
            return [int(t) for t in text.split(",") if t.strip()]
        return int(text)
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: a count (3) or a list (0,1,2)") from None


def _names(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m sim.analyze``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.analyze",
        description="Decision analysis of the simulator: Morris screening, Sobol indices, "
        "PRIM scenario discovery and robustness of policies.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--out", type=Path, help="output folder (default outputs/analysis/COMMAND)")
    common.add_argument("--scenario", default="baseline", help="starting scenario (baseline)")
    common.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter for every run, e.g. --set customers.n=500 (repeatable)",
    )
    common.add_argument(
        "--seeds", default="3", help="seeds of every design: a count or a list (default 3)"
    )
    common.add_argument("--n-jobs", type=int, default=1, help="worker processes (-1: all cores)")
    common.add_argument(
        "--lever-month", type=int, default=0, help="month the levers' events apply (0)"
    )
    common.add_argument("--outcomes", help="comma-separated summary keys (default: the headline)")
    common.add_argument(
        "--sample-seed", type=int, default=0, help="seed of the sampler (default 0)"
    )
    common.add_argument("--quiet", action="store_true", help="no progress bar")

    sub.add_parser("space", parents=[common], help="list the uncertainties, levers and outcomes")

    morris = sub.add_parser("morris", parents=[common], help="Morris screening")
    morris.add_argument("--trajectories", type=int, default=10)
    morris.add_argument("--levels", type=int, default=4)
    morris.add_argument("--factors", help="comma-separated factors (default: all)")
    morris.add_argument("--exclude", help="comma-separated factors to leave out")

    sobol = sub.add_parser("sobol", parents=[common], help="Sobol indices of a few parameters")
    sobol.add_argument("--samples", type=int, default=64, help="base sample N, a power of 2")
    sobol.add_argument("--params", help="comma-separated parameters")
    sobol.add_argument("--top", type=int, help="take the top K of a Morris table instead")
    sobol.add_argument("--morris", type=Path, help="the morris.csv for --top")

    prim = sub.add_parser("prim", parents=[common], help="PRIM scenario discovery")
    prim.add_argument("--condition", required=True, help='e.g. "gap_closed_months_final > 1"')
    prim.add_argument("--samples", type=int, default=200)
    prim.add_argument("--factors", help="comma-separated factors (default: the uncertainties)")
    prim.add_argument("--min-density", type=float, default=0.8)
    prim.add_argument("--boxes", type=int, default=2)

    robust = sub.add_parser("robust", parents=[common], help="robustness of policies")
    robust.add_argument(
        "--policies", help="comma-separated scenario or policy names (default: library policies)"
    )
    robust.add_argument("--policy-file", type=Path, help="YAML: name -> settings")
    robust.add_argument("--samples", type=int, default=50, help="sampled worlds")
    robust.add_argument("--factors", help="comma-separated factors (default: the uncertainties)")
    robust.add_argument(
        "--satisfice", action="append", default=[], help="a condition to meet (repeatable)"
    )
    return parser


def settings_from(args: argparse.Namespace):
    """The :class:`~sim.analysis.experiment.Settings` of parsed arguments."""
    from sim.analysis.experiment import Settings

    return Settings(
        out=args.out or Path("outputs") / "analysis" / args.command,
        scenario=args.scenario,
        common=parse_sets(args.set),
        seeds=_seeds(args.seeds),
        n_jobs=args.n_jobs,
        lever_month=args.lever_month,
        outcomes=_names(args.outcomes),
        sample_seed=args.sample_seed,
        progress=not args.quiet and sys.stderr.isatty(),
    )


def option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the paths given as options, checked before any work: an ``--out``
    that is a file, a ``--morris`` or ``--policy-file`` that is not a file."""
    from sim.sweep.compare import out_folder_problem

    if args.command != "space" and args.out is not None:
        problem = out_folder_problem(args.out)
        if problem:
            return f"--out {args.out}: {problem}"
    for option in ("morris", "policy_file"):
        path = getattr(args, option, None)
        if path is not None and not path.is_file():
            what = "is not a file" if path.exists() else "no such file"
            return f"--{option.replace('_', '-')} {path}: {what}"
    return None


def run_command(args: argparse.Namespace) -> Path:
    """Run the chosen analysis; returns its output folder."""
    settings = settings_from(args)
    if args.command == "space":
        space = settings.space()
        print(space.describe().to_string(index=False))
        for note in space.notes:
            print(f"note: {note}")
        return settings.out
    if args.command == "morris":
        from sim.analysis import morris

        factors = _names(args.factors)
        if args.exclude:
            space = settings.space()
            dropped = {f.key for f in space.select(_names(args.exclude))}
            pool = space.select(factors) if factors else space.factors()
            factors = [f.key for f in pool if f.key not in dropped]
        morris.run(settings, trajectories=args.trajectories, levels=args.levels, factors=factors)
    elif args.command == "sobol":
        from sim.analysis import sobol

        sobol.run(
            settings,
            samples=args.samples,
            params=_names(args.params),
            top=args.top,
            morris=args.morris,
        )
    elif args.command == "prim":
        from sim.analysis import prim

        prim.run(
            settings,
            condition=args.condition,
            samples=args.samples,
            factors=_names(args.factors),
            min_density=args.min_density,
            boxes=args.boxes,
        )
    else:
        from sim.analysis import robust

        robust.run(
            settings,
            policies=_names(args.policies) or [],
            policy_file=args.policy_file,
            samples=args.samples,
            factors=_names(args.factors),
            satisfice=args.satisfice,
        )
    from sim.analysis.report import write_report

    write_report(settings.out, f"python -m sim.analyze {args.command}: {settings.out}")
    return settings.out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code (2 for refused input)."""
    import matplotlib

    matplotlib.use("Agg")
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = option_problem(args)
    if problem:
        parser.error(problem)
    try:
        import SALib  # noqa: F401

        from sim.analysis.ema import _ema

        _ema()
    except ImportError as e:
        print(
            f"Error: {e.name} is missing: install the analysis extra, pip install -e '.[analysis]'",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s] %(message)s")
    for noisy in ("MESA", "matplotlib", "EMA", "ema_workbench"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        out = run_command(args)
    except ConfigError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted: finished runs are kept; run the same command to resume.")
        return 130
    if args.command != "space":
        log.info("Results written to %s", out)
    return 0
