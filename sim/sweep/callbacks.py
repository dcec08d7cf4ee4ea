"""Hydra callback around a sweep: one sweep per folder, then aggregation and a verdict.

At the start the folder's lock is taken (:mod:`sim.sweep.lock`) and the temporary files
killed writes left behind are deleted (:func:`open_sweep_folder`): by the callback for any
sweeper but the project's, which does it itself once it has checked the whole sweep, so a
refused sweep creates nothing. At the end the callback writes the comparison (tables,
figures, report; skipped when nothing changed since the last one) and says how the sweep
went: exit status 1 with a message when no run of the sweep finished (every run failed or
was refused), a warning listing the others when only some did.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger("sim.sweep")
#: Sweepers that check the sweep, then open its folder themselves (see :func:`open_sweep_folder`).
SELF_LOCKING_SWEEPERS = ("hydra_plugins.sim_sweeper.replicating_sweeper.ReplicatingSweeper",)


def stop(message: str, status: int = 1) -> NoReturn:
    """Print one message and end the process with ``status`` (1: the sweep could not go on;
    2: a refused input). Hydra turns exceptions raised in callbacks into warnings, so callers
    exit themselves."""
    print(f"Error: {message}", file=sys.stderr)
    sys.stderr.flush()
    raise SystemExit(status)


def remove_temp_files_under(root: Path) -> int:
    """Delete every temporary file of an interrupted write under ``root``; how many."""
    from sim.results import is_temp_file

    removed = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if is_temp_file(name):
                Path(folder, name).unlink(missing_ok=True)
                removed += 1
    return removed


#: The files Hydra rewrites in a run folder before the run is validated: its record
#: (``.hydra/``) and the job's log.
RECORD_DIR, LOG_SUFFIX = ".hydra", ".log"


class RecordBefore:
    """What a single run's folder held before Hydra wrote the new run's record into it, kept
    so that a refused run can put an earlier run's record back (:func:`discard_refused_run`)."""

    folder: Path | None = None  # absolute, as Hydra's runtime.output_dir
    created: list[Path] = []  # noqa: RUF012 - the folders the run creates, deepest first
    files: dict[Path, bytes] = {}  # noqa: RUF012 - replaced, never mutated

    @classmethod
    def take(cls, folder: Path) -> None:
        """Keep the record files (``.hydra/*``, ``*.log``) ``folder`` holds now, and note
        which of its folders do not exist yet."""
        cls.folder = folder = Path(os.path.abspath(folder))
        cls.created = [p for p in (folder, *folder.parents) if not p.exists()]
        found = [*folder.glob(f"{RECORD_DIR}/*"), *folder.glob(f"*{LOG_SUFFIX}")]
        cls.files = {p: p.read_bytes() for p in found if p.is_file() and not p.is_symlink()}


def discard_refused_run(folder: Path, job_name: str) -> None:
    """Undo what Hydra wrote for a refused run: its record (``.hydra/``) and the job's log go,
    an earlier run's record and log in the same folder come back as they were, and the
    folders the run created go if nothing else is in them (a user's folder always stays)."""
    import shutil

    folder = Path(os.path.abspath(folder))
    shutil.rmtree(folder / RECORD_DIR, ignore_errors=True)
    (folder / f"{job_name}{LOG_SUFFIX}").unlink(missing_ok=True)
    if RecordBefore.folder != folder:
        return
    for path, content in RecordBefore.files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(content)
    for created in RecordBefore.created:
        try:
            created.rmdir()
        except OSError:
            break


class CheckRunFolder(Callback):
    """Before a single run, make its folder, or stop with one message if that is impossible
    (Hydra would otherwise fail later with a traceback); keep what an earlier run left there
    (:class:`RecordBefore`)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        folder = Path(str(config.hydra.run.dir))
        RecordBefore.take(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            stop(
                f"cannot create the run folder {folder}: {e.strerror or e}. "
                "Choose a writable folder with hydra.run.dir=..."
            )


def open_sweep_folder(sweep_dir: Path) -> None:
    """Take the lock of ``sweep_dir`` (creating the folder) and delete the temporary files
    interrupted writes left in it. Stops with one message and status 1 when another sweep
    holds the folder, or the folder cannot be created or written."""
    from sim.sweep import lock

    existed = sweep_dir.is_dir()
    try:
        lock.acquire(sweep_dir)
    except lock.SweepLocked as e:
        stop(str(e))
    except OSError as e:
        verb = "write" if existed else "create"
        stop(
            f"cannot {verb} the sweep folder {sweep_dir}: {e.strerror or e}. "
            "Choose a writable folder with hydra.sweep.dir=..."
        )
    if existed:
        removed = remove_temp_files_under(sweep_dir)
        if removed:
            log.info("Removed %d temporary files left by interrupted writes", removed)


class AggregateSweep(Callback):
    """Lock the sweep folder, then aggregate and compare the sweep when it ends.

    Jobs catch their own failures, so Hydra reaches the end even when some failed.
    """

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from omegaconf import OmegaConf

        if OmegaConf.select(config, "hydra.sweeper._target_") not in SELF_LOCKING_SWEEPERS:
            open_sweep_folder(Path(config.hydra.sweep.dir))

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from sim.results import StorageError
        from sim.sweep import lock
        from sim.sweep.compare import compare

        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            out = compare([sweep_dir], sweep_dir / "comparison")
        except StorageError as e:
            stop(
                f"{e}. The runs are intact; free space and run "
                f"python -m sim.compare {sweep_dir} to write the comparison."
            )
        except Exception:
            log.exception(
                "Aggregating %s failed; run python -m sim.compare %s", sweep_dir, sweep_dir
            )
            return
        finally:
            lock.release(sweep_dir)
        log.info("Sweep aggregated: %s (report: %s)", out.tables.get("runs"), out.report)
        runs = out.aggregate.runs
        ok = int((runs["status"] == "ok").sum()) if len(runs) else 0
        if len(runs) and ok == 0:
            stop(
                f"none of the {len(runs)} runs in {sweep_dir} finished: every run failed or "
                f"was refused. Each run's status.json says why; the list is in "
                f"{sweep_dir / 'comparison' / 'runs.csv'}."
            )
