"""One job of a run or sweep: status recorded in its folder, failures contained, resume.

Every job folder holds ``status.json``: ``running`` when the job starts, then ``ok``,
``failed`` (an exception, with its traceback) or ``refused`` (a config that failed
validation). A job killed mid-way leaves ``running`` behind and no ``summary.json``, which
aggregation reports as incomplete. Re-running a sweep into the same folder skips every job
whose folder already says ``ok`` for the same config hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from sim.results import write_json

STATUS_FILE = "status.json"


@dataclass
class JobStatus:
    """What a job folder says about its job."""

    status: str
    overrides: list[str] = field(default_factory=list)
    config_hash: str = ""
    error: str = ""
    traceback: str = ""
    started: float = 0.0
    seconds: float = 0.0
    plots: bool = False

    def write(self, folder: Path) -> None:
        """Write atomically as ``folder/status.json``."""
        write_json(folder / STATUS_FILE, asdict(self))


def read_status(folder: Path) -> dict[str, Any] | None:
    """The job's status dict, or None when the folder has none."""
    try:
        return json.loads((folder / STATUS_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def config_hash(config: Any) -> str:
    """A stable hash of everything that determines a run's numbers (output settings excluded)."""
    if dataclasses.is_dataclass(config):
        data = dataclasses.asdict(config)
    else:
        node = OmegaConf.structured(config) if not OmegaConf.is_config(config) else config
        data = OmegaConf.to_container(node, resolve=True)
    data.pop("output", None)
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def already_done(folder: Path, digest: str) -> bool:
    """True when ``folder`` holds a complete, successful run of the config ``digest``."""
    status = read_status(folder)
    return (
        status is not None
        and status.get("status") == "ok"
        and status.get("config_hash") == digest
        and (folder / "summary.json").is_file()
    )


def run_job(
    cfg: Any, folder: Path, overrides: list[str], *, sweep: bool, log: Any
) -> tuple[JobStatus, dict[str, Any] | None]:
    """Validate, simulate and write one job into ``folder``; never raise inside a sweep.

    Returns the job's status and, when it ran, the run summary.

    Outside a sweep a refused config raises :class:`~sim.validate.ConfigError` (the caller
    turns it into an exit code) and an exception propagates, as a user expects of one run.
    """
    from sim.config import as_config
    from sim.runner import plots_wanted, simulate, write_results
    from sim.validate import ConfigError

    started = time.time()
    try:
        config = as_config(cfg)
    except ConfigError as e:
        if not sweep:
            raise
        status = JobStatus("refused", overrides, error=str(e), started=started)
        status.write(folder)
        log.error("Refused: %s", e)
        return status, None
    digest = config_hash(config)
    if sweep and already_done(folder, digest):
        log.info("Skipped: %s already finished with the same config", folder)
        return JobStatus("skipped", overrides, digest, started=started), None
    plots = plots_wanted(config, sweep)
    JobStatus("running", overrides, digest, started=started, plots=plots).write(folder)
    try:
        result = simulate(config, progress=config.output.progress and not sweep)
        write_results(result, folder, plots=plots)
    except Exception as e:
        status = JobStatus(
            "failed",
            overrides,
            digest,
            f"{type(e).__name__}: {e}",
            traceback.format_exc(),
            started,
            time.time() - started,
            plots,
        )
        status.write(folder)
        if not sweep:
            raise
        log.error("Failed: %s", status.error)
        return status, None
    status = JobStatus(
        "ok", overrides, digest, started=started, seconds=time.time() - started, plots=plots
    )
    status.write(folder)
    return status, result.summary
