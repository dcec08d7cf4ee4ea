"""Progress bars for long loops, drawn only on a terminal and starting no helper process."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable
from typing import Any


def progress_bar(iterable: Iterable[Any] | None = None, **options: Any) -> Any:
    """A tqdm bar over ``iterable`` when standard error is a terminal, else ``None``.

    tqdm's default lock is a multiprocessing one, and the first such lock in a process starts
    multiprocessing's resource-tracker process (about 0.4 s of a default run, most of it at
    exit). The bars here are drawn from one thread, so a threading lock is enough.
    """
    if not sys.stderr.isatty():
        return None
    from tqdm.auto import tqdm

    tqdm.set_lock(threading.RLock())
    return tqdm(iterable, **options)
