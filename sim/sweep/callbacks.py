"""Hydra callback: aggregate and compare a sweep when it ends."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("sim.sweep")


class AggregateSweep(Callback):
    """At the end of a multirun, write the tidy tables, comparison figures and HTML report.

    Jobs catch their own failures, so Hydra reaches this callback even when some failed.
    """

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.sweep.compare import compare

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            out = compare([sweep_dir], sweep_dir / "comparison")
        except Exception:
            log.exception(
                "Aggregating %s failed; run python -m sim.compare %s", sweep_dir, sweep_dir
            )
            return
        log.info("Sweep aggregated: %s (report: %s)", out.tables["runs"], out.report)
