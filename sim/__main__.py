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

register_plugins()
log = logging.getLogger("sim")

HEADLINE = (
    ("china_spend_foreign", "China spend on foreign models", "usd"),
    ("revenue_intermediary", "intermediary revenue", "usd"),
    ("revenue_domestic", "domestic providers' revenue", "usd"),
    ("leakage_capability", "capability leaked (index pts)", "num"),
    ("capability_gap_months_final", "final gap (months)", "num"),
    ("violations", "violations", "num"),
    ("fines", "fines", "usd"),
    ("compliance_rate", "compliance rate", "pct"),
)


def _discard_refused_run(out_dir: Path, job_name: str) -> None:
    """Remove what Hydra wrote for a refused run (its .hydra/ record and the job's log),
    then the folder itself only if that leaves it empty: no result was produced."""
    shutil.rmtree(out_dir / ".hydra", ignore_errors=True)
    (out_dir / f"{job_name}.log").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        out_dir.rmdir()


def headline(summary: dict) -> str:
    """The run's headline figures on one line."""
    parts = []
    for key, label, kind in HEADLINE:
        value = summary.get(key)
        if value is None:
            text = "n/a"
        elif kind == "usd":
            text = f"${value / 1e9:,.2f}bn" if abs(value) >= 1e8 else f"${value / 1e6:,.2f}M"
        elif kind == "pct":
            text = f"{100 * value:.2f}%"
        else:
            text = f"{value:,.3g}"
        parts.append(f"{label} {text}")
    return "; ".join(parts)


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
    main()
