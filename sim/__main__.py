"""``python -m sim``: the Hydra app. Compose, validate, simulate, write; nothing else."""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig

from sim.config import register_plugins
from sim.overrides import check_command_line

register_plugins()
log = logging.getLogger("sim")


def _discard_refused_run(out_dir: Path, job_name: str) -> None:
    """Remove what Hydra wrote for a refused run (its .hydra/ record and the job's log),
    then the folder itself only if that leaves it empty: no result was produced."""
    shutil.rmtree(out_dir / ".hydra", ignore_errors=True)
    (out_dir / f"{job_name}.log").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        out_dir.rmdir()


def headline(summary: dict) -> str:
    """The run's headline figures on one line, labelled and formatted by the metric registry."""
    from sim.metrics import HEADLINE, format_value, metric

    return "; ".join(
        f"{metric(key).label} {format_value(key, summary.get(key))}" for key in HEADLINE
    )


@hydra.main(version_base="1.3", config_path="../conf", config_name="config")
def main(cfg: DictConfig) -> None:
    """Run one simulation (or one job of a sweep) into Hydra's output directory."""
    from sim.sweep.jobs import run_job
    from sim.validate import ConfigError

    for noisy in ("MESA", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    hc = HydraConfig.get()
    out_dir = Path(hc.runtime.output_dir)
    sweep = hc.mode == RunMode.MULTIRUN
    try:
        status, summary = run_job(cfg, out_dir, list(hc.overrides.task), sweep=sweep, log=log)
    except ConfigError as e:
        _discard_refused_run(out_dir, hc.job.name)
        print(f"Error: {e}", file=sys.stderr)
        sys.exit(2)
    if status.status == "ok":
        log.info("Results written to %s | Headline: %s", out_dir, headline(summary))


if __name__ == "__main__":
    check_command_line(sys.argv[1:])  # before Hydra creates any folder
    main()
