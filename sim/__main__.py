"""``python -m sim``: the Hydra app. Compose, validate, simulate, write; nothing else.

``--help`` is answered before Hydra is imported (see :mod:`sim.cli_help`); everything else
goes through Hydra. Exit status: 0 done, 1 a run failed or its results could not be written
(or every run of a sweep failed), 2 a config refused by validation.

The app does no dense linear algebra, so OpenBLAS gets one thread unless
``OPENBLAS_NUM_THREADS`` is set: its idle threads otherwise spin on the other core while
numpy loads (about 0.25 s of CPU in a default run), and in a sweep every worker would start
them again.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before anything imports numpy

import atexit
import gc
import logging
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger("sim")
HELP_FLAGS = ("--help", "-h")


def headline(summary: dict) -> str:
    """The run's headline figures on one line, labelled and formatted by the metric registry."""
    from sim.metrics import HEADLINE, format_value, metric

    return "; ".join(
        f"{metric(key).label} {format_value(key, summary.get(key))}" for key in HEADLINE
    )


def task(cfg: Any) -> None:
    """Run one simulation, or the seeds of one sweep job, into Hydra's output directory."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from hydra_plugins.sim_sweeper.replicating_sweeper import job_seeds
    from sim.results import StorageError
    from sim.sweep.callbacks import discard_refused_run
    from sim.sweep.jobs import run_job, run_replications
    from sim.validate import ConfigError

    for noisy in ("MESA", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    overrides = list(hc.overrides.task)
    if hc.mode == RunMode.MULTIRUN:
        seeds = job_seeds(hc)
        if seeds:
            run_replications(cfg, out_dir, overrides, seeds, log=log)
        else:
            run_job(cfg, out_dir, overrides, sweep=True, log=log)
        return
    try:
        status, summary = run_job(cfg, out_dir, overrides, sweep=False, log=log)
    except ConfigError as e:
        discard_refused_run(out_dir, hc.job.name)
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(2)
    except StorageError as e:
        print(
            f"Error: {e}. The run's results are incomplete (no summary.json was written); "
            "free space or choose a writable folder (hydra.run.dir=...) and run again.",
            file=sys.stderr,
        )
        sys.exit(1)
    if status.status == "ok":
        log.info("Results written to %s | Headline: %s", out_dir, headline(summary))


def main(argv: list[str] | None = None) -> None:
    """Entry point: plain help without Hydra, otherwise Hydra's app around :func:`task`."""
    args = sys.argv[1:] if argv is None else argv
    if any(a in HELP_FLAGS for a in args):
        from sim.cli_help import help_text

        print(help_text())
        return
    from sim.overrides import check_command_line

    check_command_line(args)  # before Hydra creates any folder
    import hydra

    from sim.config import register_plugins
    from sim.naming import register_resolvers
    from sim.paths import CONF_DIR

    register_plugins()
    register_resolvers()
    # At the process's exit, its files written and closed, spare the interpreter a last
    # collection over everything it imported (about 0.3 s of a default run). Done at exit, not
    # here: a caller that runs the app in its own process goes on collecting as before.
    atexit.register(gc.freeze)
    hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="config")(task)()


if __name__ == "__main__":
    main()
