"""``python -m sim.dashboard``: serve the dashboard on localhost and print its address."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from pathlib import Path


def free_port(host: str) -> int:
    """A port the operating system says is free on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


MAX_PORT = 65535


def option_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, checked before the server starts: a port outside
    0-65535 (0 picks a free one), a ``--sweep`` that is not a folder, an unknown scenario,
    or ``--set`` overrides the simulator refuses (composed and validated with the reference
    scenario and with ``--scenario``, as the dashboard's runs will be)."""
    from sim.dashboard.engine import REFERENCE, scenarios

    if not 0 <= args.port <= MAX_PORT:
        return f"--port {args.port}: must be 1-{MAX_PORT}, or 0 for any free port"
    if args.sweep:
        sweep = Path(args.sweep).expanduser()
        if not sweep.is_dir():
            what = "is not a folder" if sweep.exists() else "no such folder"
            return f"--sweep {args.sweep}: {what} (give a sweep, comparison or run folder)"
    if args.scenario and args.scenario not in scenarios():
        return f"--scenario {args.scenario!r}: not one of {', '.join(scenarios())}"
    bad = [item for item in args.set if "=" not in item]
    if bad:
        return f"--set needs KEY=VALUE, got {bad[0]!r}"
    chosen_elsewhere = {
        "scenario": "choose the scenario with --scenario or in the dashboard",
        "seed": "the dashboard runs seeds 0, 1, ... itself; choose how many in the dashboard",
    }
    for item in args.set:
        key = item.partition("=")[0].lstrip("+~")
        if key in chosen_elsewhere:
            return f"--set {item}: {chosen_elsewhere[key]}"
    if args.set:
        from sim.config import as_config, compose
        from sim.validate import ConfigError

        for scenario in dict.fromkeys([REFERENCE, args.scenario or REFERENCE]):
            try:
                as_config(compose(scenario, args.set))
            except ConfigError as e:
                return f"--set {' '.join(args.set)}: refused for scenario {scenario}: {e}"
    return None


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m sim.dashboard``."""
    parser = argparse.ArgumentParser(
        prog="python -m sim.dashboard",
        description="Interactive policy dashboard: scenario, levers and uncertainties as "
        "sliders; outcomes against the baseline over several seeds; monthly paths; the "
        "network; the command that reproduces the view; a browser for sweep folders.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    parser.add_argument("--host", default="localhost", help="interface to listen on")
    parser.add_argument("--scenario", default="", help="the scenario shown first")
    parser.add_argument("--sweep", default="", help="a sweep folder to open in the Sweeps tab")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override applied to every run of the dashboard (e.g. customers.n=500); "
        "repeatable; it appears in the reproducing command",
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse and check the options, then hand over to Solara's server (runs until
    interrupted); refused options exit with status 2 before the server starts."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problem = option_problem(args)
    if problem:
        parser.error(problem)
    try:
        from solara.__main__ import cli
    except ImportError:
        sys.exit("The dashboard needs its optional dependencies: pip install -e '.[dashboard]'")
    port = args.port or free_port(args.host)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    if args.sweep:
        os.environ["SIM_DASHBOARD_SWEEP"] = args.sweep
    if args.scenario:
        os.environ["SIM_DASHBOARD_SCENARIO"] = args.scenario
    os.environ["SIM_DASHBOARD_SET"] = json.dumps(args.set)
    print(f"Dashboard: http://{args.host}:{port}/  (Ctrl+C to stop)", flush=True)
    cli(
        [
            "run",
            "sim.dashboard.app",
            "--host",
            args.host,
            "--port",
            str(port),
            "--no-open",
            "--no-check-version",
            "--log-level",
            "warning",
        ]
    )


if __name__ == "__main__":
    main()
