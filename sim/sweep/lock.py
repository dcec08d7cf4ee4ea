"""One sweep at a time in a folder: an operating-system lock held for the whole sweep.

The lock is ``FOLDER/.sweep.lock`` (``filelock``: ``flock`` on Unix, ``msvcrt`` on
Windows); the operating system releases it when the holding process ends, however it
ends, so a killed sweep never leaves a stale lock. Who holds it is written beside it, in
``.sweep.owner.json``, so the refusal can name the holder.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from sim.results import write_json

LOCK_FILE = ".sweep.lock"
OWNER_FILE = ".sweep.owner.json"
_HELD: dict[Path, Any] = {}


class SweepLocked(RuntimeError):
    """Another process is sweeping into the same folder."""


def _owner_text(folder: Path) -> str:
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
        started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(owner["started"]))
        return f"process {owner['pid']} on {owner['host']}, started {started}: {owner['command']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (no owner record)"


def acquire(folder: Path) -> None:
    """Take the sweep lock of ``folder`` (created if needed) or raise :class:`SweepLocked`
    naming the folder and the holder. Held until :func:`release` or the process ends."""
    from filelock import FileLock, Timeout

    folder = Path(folder).resolve()
    if folder in _HELD:
        return
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise SweepLocked(
            f"Another sweep is working in {folder} ({_owner_text(folder)}). Wait for it to "
            "finish, or give this sweep its own folder (hydra.sweep.dir=...)."
        ) from None
    _HELD[folder] = lock
    write_json(
        folder / OWNER_FILE,
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.time(),
            "command": " ".join(sys.argv),
        },
    )


def release(folder: Path) -> None:
    """Give the lock of ``folder`` back (nothing happens when this process does not hold it)."""
    lock = _HELD.pop(Path(folder).resolve(), None)
    if lock is not None:
        (Path(folder) / OWNER_FILE).unlink(missing_ok=True)
        lock.release()


def is_locked(folder: Path) -> str | None:
    """The holder's description when some other process holds ``folder``'s lock, else None."""
    from filelock import FileLock, Timeout

    folder = Path(folder)
    if not (folder / LOCK_FILE).exists() or folder.resolve() in _HELD:
        return None
    probe = FileLock(folder / LOCK_FILE, timeout=0)
    try:
        probe.acquire()
    except Timeout:
        return _owner_text(folder)
    except OSError:
        return None
    probe.release()
    return None
