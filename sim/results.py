"""Writing results atomically: a file either appears complete or not at all.

Every file goes to a hidden temporary name beside its target (``.NAME.XXXX.tmp``) and is
renamed into place. A write killed half-way leaves only such a temporary file, which no
reader takes for a result and :func:`remove_temp_files` deletes. A full disk or a folder
that cannot be written raises :class:`StorageError`, naming the path, so callers can stop
with one clear message instead of recording every following run as failed.
"""

from __future__ import annotations

import errno
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

TEMP_SUFFIX = ".tmp"
STORAGE_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EACCES,
        errno.EPERM,
        errno.EROFS,
        errno.ENOTDIR,
        errno.EEXIST,
    }
)


class StorageError(OSError):
    """A result could not be written: disk full, quota, read-only or unwritable folder.

    ``path`` is what was being written; the message says why and that nothing partial was
    left behind under a result's name.
    """

    def __init__(self, path: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.path = Path(path)
        self.filename = str(path)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_storage_error, (str(self.path), self.errno, self.strerror))


def _rebuild_storage_error(path: str, code: int, text: str) -> StorageError:
    return StorageError(Path(path), OSError(code, text))


def is_storage_error(error: BaseException) -> bool:
    """True for an OSError that means "this location cannot take the data" (not a bug)."""
    return isinstance(error, StorageError) or (
        isinstance(error, OSError) and error.errno in STORAGE_ERRNOS
    )


def is_temp_file(name: str) -> bool:
    """True for the name of a temporary file left by an interrupted :func:`atomic_write`."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def remove_temp_files(folder: Path) -> int:
    """Delete the temporary files interrupted writes left directly in ``folder``; how many."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for entry in entries:
        if is_temp_file(entry.name) and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it into place.

    Raises :class:`StorageError` when the disk is full or the folder cannot be written; the
    temporary file is removed in every case.
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent
        )
        os.close(fd)
        tmp = Path(tmp_name)
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as e:
        if is_storage_error(e) and not isinstance(e, StorageError):
            raise StorageError(path, e) from e
        raise
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def write_json(path: Path, data: dict[str, Any]) -> Path:
    """Strict JSON (non-finite numbers become null), written atomically."""
    text = json.dumps(_json_safe(data), indent=2, allow_nan=False) + "\n"
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_table(path: Path, frame: Any, fmt: str = "csv") -> Path:
    """A pandas DataFrame as CSV or Parquet, written atomically."""
    if fmt == "parquet":
        return atomic_write(path, lambda tmp: frame.to_parquet(tmp, index=False))
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))


def parquet_available() -> bool:
    """True when pyarrow can be imported."""
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True
