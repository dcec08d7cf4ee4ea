"""One job of a run or sweep: status recorded in its folder, failures contained, resume.

Every run folder holds ``status.json``: ``running`` when the run starts, then ``ok``,
``failed`` (an exception, with its traceback) or ``refused`` (a config that failed
validation). A run killed mid-way leaves ``running`` behind and no ``summary.json``, which
aggregation reports as incomplete. Re-running a sweep into the same folder skips every run
whose folder already says ``ok`` for the same config hash and the same code version, so a
changed model never silently reuses old results.

A sweep job may run several replications of one config (:func:`run_replications`): the
config is composed and validated once, then each seed runs exactly as a single run of that
config and seed would, into its own ``seed=N`` folder beside the job's first one.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import time
import traceback
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sim.results import StorageError, remove_temp_files, write_json

STATUS_FILE = "status.json"
SUMMARY_FILE = "summary.json"
PACKAGE = "china-channel-sim"
SEED_FOLDER = "seed={seed}"
# Modules that only present or collect results: changing them never changes a run's numbers,
# so they are left out of the code version (everything else under sim/ counts, new files too).
PRESENTATION_MODULES = (
    "__main__.py",
    "cli_help.py",
    "compare.py",
    "naming.py",
    "plots.py",
    "dashboard",
    "sweep/aggregate.py",
    "sweep/callbacks.py",
    "sweep/compare.py",
    "sweep/figures.py",
    "sweep/lock.py",
    "sweep/report.py",
    "sweep/style.py",
)


@dataclass
class JobStatus:
    """What a run folder says about its run."""

    status: str
    overrides: list[str] = field(default_factory=list)
    config_hash: str = ""
    error: str = ""
    traceback: str = ""
    started: float = 0.0
    seconds: float = 0.0
    plots: bool = False
    code_version: str = ""
    model_seconds: float = 0.0

    def write(self, folder: Path) -> None:
        """Write atomically as ``folder/status.json``."""
        write_json(folder / STATUS_FILE, asdict(self))


def read_status(folder: Path) -> dict[str, Any] | None:
    """The run's status dict, or None when the folder has none (or an unreadable one)."""
    try:
        data = json.loads((folder / STATUS_FILE).read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def config_hash(config: Any) -> str:
    """A stable hash of everything that determines a run's numbers (output settings excluded)."""
    if dataclasses.is_dataclass(config):
        data = dataclasses.asdict(config)
    else:
        from omegaconf import OmegaConf

        node = OmegaConf.structured(config) if not OmegaConf.is_config(config) else config
        data = OmegaConf.to_container(node, resolve=True)
    return _digest(_hash_text(data))


def config_hashes(config: Any, seeds: list[int]) -> dict[int, str]:
    """``{seed: config_hash(config with that seed)}``, serialising the config only once."""
    data = dataclasses.asdict(config)
    data["seed"] = _SEED_MARK
    text = _hash_text(data)
    mark = json.dumps(_SEED_MARK)
    return {seed: _digest(text.replace(mark, json.dumps(seed), 1)) for seed in seeds}


_SEED_MARK = "\x00seed\x00"


def _hash_text(data: dict[str, Any]) -> str:
    data.pop("output", None)
    return json.dumps(data, sort_keys=True, default=str)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@functools.cache
def code_version() -> str:
    """The package version and a hash of the source that computes a run's numbers.

    ``0.1.0+3f2a9c1d0b7e``: see :func:`source_hash`; a changed model never reuses results.
    """
    try:
        version = metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{source_hash(Path(__file__).resolve().parent.parent)}"


def source_hash(root: Path) -> str:
    """A hash of every ``.py`` file under ``root`` (the ``sim`` package) except the
    presentation and sweep modules (:data:`PRESENTATION_MODULES`): editing the model, its
    mechanisms, schema, validation or world changes it; editing a figure does not."""
    digest = hashlib.sha256()
    for file in sorted(root.rglob("*.py")):
        rel = file.relative_to(root).as_posix()
        if rel.startswith(PRESENTATION_MODULES):
            continue
        digest.update(rel.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def already_done(folder: Path, digest: str, version: str | None = None) -> bool:
    """True when ``folder`` holds a complete, successful run of config ``digest`` made by the
    current code (``version``, default :func:`code_version`) whose results are still intact:
    a run whose ``summary.json`` is missing or unreadable, or whose ``timeseries.csv`` is
    gone, is run again (see :func:`sim.sweep.run_folders.results_problem`)."""
    from sim.sweep.run_folders import results_problem

    status = read_status(folder)
    return (
        status is not None
        and status.get("status") == "ok"
        and status.get("config_hash") == digest
        and status.get("code_version") == (version or code_version())
        and results_problem(folder) is None
    )


def replication_folder(job_dir: Path, first_seed: int, seed: int) -> Path:
    """Where seed ``seed`` of a job writes: the job's own folder for its first seed, else the
    sibling ``seed=N`` folder (the job folder is named ``seed=FIRST`` by the sweep layout)."""
    if seed == first_seed:
        return job_dir
    if job_dir.name != SEED_FOLDER.format(seed=first_seed):
        raise ValueError(
            f"a job running several seeds needs its folder named seed={first_seed} "
            f"(hydra.sweep.subdir must end in seed=${{seed}}), got {job_dir}"
        )
    return job_dir.parent / SEED_FOLDER.format(seed=seed)


def with_seed(overrides: list[str], seed: int) -> list[str]:
    """``overrides`` with its ``seed=`` entry set to ``seed`` (added when missing)."""
    out = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") != "seed"]
    return [*out, f"seed={seed}"]


def run_job(
    cfg: Any, folder: Path, overrides: list[str], *, sweep: bool, log: Any
) -> tuple[JobStatus, dict[str, Any] | None]:
    """Validate, simulate and write one run into ``folder``; never raise inside a sweep.

    Returns the run's status and, when it ran, the run summary.

    Outside a sweep a refused config raises :class:`~sim.validate.ConfigError` (the caller
    turns it into an exit code) and an exception propagates, as a user expects of one run.
    A full disk or unwritable folder raises :class:`~sim.results.StorageError` in both cases:
    nothing can be recorded, and every following run would fail the same way.
    """
    from sim.config import as_config
    from sim.validate import ConfigError

    started = time.time()
    try:
        config = as_config(cfg)
    except ConfigError as e:
        if not sweep:
            raise
        return _refused(folder, overrides, e, started, log), None
    status, result = _run_config(config, folder, overrides, sweep=sweep, log=log, started=started)
    return status, result.summary if result is not None else None


def run_replications(
    cfg: Any, job_dir: Path, overrides: list[str], seeds: list[int], *, log: Any
) -> list[JobStatus]:
    """Run every seed of ``seeds`` with the config ``cfg`` (composed and validated once).

    Seed ``n`` writes to :func:`replication_folder` and gives exactly the numbers of a single
    run of the same config with ``seed=n``. Failures are recorded per seed and never raised;
    a :class:`~sim.results.StorageError` stops the job and propagates. The job ends by
    writing its runs into one Parquet file (:mod:`sim.sweep.job_part`).
    """
    from sim.config import as_config
    from sim.sweep.job_part import write_part
    from sim.validate import ConfigError

    started = time.time()
    folders = [replication_folder(job_dir, seeds[0], n) for n in seeds]
    try:
        config = as_config(cfg)
    except ConfigError as e:
        return [
            _refused(folder, with_seed(overrides, n), e, started, log)
            for n, folder in zip(seeds, folders, strict=True)
        ]
    statuses, done = [], []
    for n, folder in zip(seeds, folders, strict=True):
        runs_overrides = with_seed(overrides, n)
        try:
            replication = as_config(config, seed=n)
        except ConfigError as e:
            statuses.append(_refused(folder, runs_overrides, e, time.time(), log))
            continue
        status, result = _run_config(
            replication, folder, runs_overrides, sweep=True, log=log, started=time.time()
        )
        statuses.append(status)
        if status.status != "skipped":
            done.append((folder, result))
    write_part(job_dir, done)
    return statuses


def _refused(folder: Path, overrides: list[str], error: Exception, started: float, log: Any):
    status = JobStatus("refused", overrides, error=str(error), started=started)
    status.code_version = code_version()
    status.write(folder)
    log.error("Refused: %s", error)
    return status


def _run_config(
    config: Any, folder: Path, overrides: list[str], *, sweep: bool, log: Any, started: float
) -> tuple[JobStatus, Any]:
    """Run one validated config into ``folder``: the status and the ``RunResult`` (None when
    skipped or failed)."""
    from sim.runner import plots_wanted, simulate, write_results

    digest, version = config_hash(config), code_version()
    if sweep and already_done(folder, digest, version):
        log.info("Skipped: %s already finished with the same config", folder)
        return JobStatus("skipped", overrides, digest, started=started, code_version=version), None
    remove_temp_files(folder)
    plots = plots_wanted(config, sweep)
    status = JobStatus("running", overrides, digest, started=started, plots=plots)
    status.code_version = version
    status.write(folder)
    try:
        t0 = time.perf_counter()
        result = simulate(config, progress=config.output.progress and not sweep)
        status.model_seconds = time.perf_counter() - t0
        write_results(result, folder, plots=plots)
    except StorageError:
        raise
    except Exception as e:
        status.status = "failed"
        status.error = f"{type(e).__name__}: {e}"
        status.traceback = traceback.format_exc()
        status.seconds = time.time() - started
        status.write(folder)
        if not sweep:
            raise
        log.error("Failed: %s", status.error)
        return status, None
    status.status = "ok"
    status.seconds = time.time() - started
    status.write(folder)
    return status, result
