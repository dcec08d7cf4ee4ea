"""``python -m sim.dashboard``: serve the dashboard on localhost and print its address."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys


def free_port(host: str) -> int:
    """A port the operating system says is free on ``host``."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> None:
    """Parse the options, then hand over to Solara's server (runs until interrupted)."""
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
    args = parser.parse_args(argv)
    try:
        from solara.__main__ import cli
    except ImportError:
        sys.exit("The dashboard needs its optional dependencies: pip install -e '.[dashboard]'")
    port = args.port or free_port(args.host)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    if args.sweep:
        os.environ["SIM_DASHBOARD_SWEEP"] = args.sweep
    if args.scenario:
        from sim.dashboard.engine import scenarios

        if args.scenario not in scenarios():
            parser.error(f"--scenario {args.scenario!r}: not one of {', '.join(scenarios())}")
        os.environ["SIM_DASHBOARD_SCENARIO"] = args.scenario
    bad = [item for item in args.set if "=" not in item]
    if bad:
        parser.error(f"--set needs KEY=VALUE, got {bad[0]!r}")
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
