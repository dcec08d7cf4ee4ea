"""Optional compiled kernels: numba when it is installed and the run is large, numpy otherwise.

A few hot loops of the month (and the network generator) exist twice: a numpy (or plain
Python) version and a loop compiled by numba. Both give the same numbers bit for bit (the
compiled loops do only arithmetic that IEEE 754 rounds exactly the same way in both; every
``exp``, ``log`` and random draw stays in numpy for both), and the tests check it, so the
choice changes speed, never results.

``SIM_KERNELS`` chooses: ``auto`` (default) compiles for runs of at least
:data:`MIN_CUSTOMERS` customers when numba is installed (below that, importing numba and
loading its cache costs more than it saves); ``numpy`` never compiles; ``numba`` always
does and fails if numba is missing. Compiled code is cached on disk (``numba.njit(cache=True)``)
so only the first run on a machine pays for compiling.

Loops over customers marked :func:`parallel` run their rows over numba's threads
(``numba.prange``; ``NUMBA_NUM_THREADS`` sets how many, joblib's workers set it to their
share of the cores), which sleep between loops (``OMP_WAIT_POLICY=PASSIVE`` unless set).
Each row writes only its own outputs and every sum inside a row is added in the same order
as in one thread, so the thread count changes speed, never bits.
Such a kernel takes each array it writes as an argument of its own: numba 0.68 drops
writes made in a ``prange`` loop through arrays held in a tuple.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

# OpenMP's threads sleep between the compiled loops instead of spinning: spinning was no
# faster here on an idle machine, and whenever another process held a core, the spinning
# thread kept the core its partner needed and a large run took 2-10 times as long
# (benchmarks/README.md). Read once, when numba first starts its threads; a value set by the
# user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

#: Customers from which ``SIM_KERNELS=auto`` uses the compiled kernels.
MIN_CUSTOMERS = 20_000

#: The environment variable that chooses the kernels, and its allowed values.
ENV = "SIM_KERNELS"
MODES = ("auto", "numpy", "numba")

_compiled: dict[Callable[..., Any], Callable[..., Any]] = {}

#: The loop over rows in a :func:`parallel` kernel: ``range`` when run by Python,
#: ``numba.prange`` once a kernel has been compiled (numba reads it at compile time).
prange = range


def numba_installed() -> bool:
    """Whether numba can be imported (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def mode() -> str:
    """The ``SIM_KERNELS`` setting, checked: one of :data:`MODES`."""
    value = os.environ.get(ENV, "auto").strip().lower() or "auto"
    if value not in MODES:
        raise ValueError(f"{ENV} = {value!r} is not allowed: use one of {', '.join(MODES)}")
    if value == "numba" and not numba_installed():
        raise ValueError(
            f"{ENV} = 'numba' but numba is not installed: "
            "pip install -e '.[fast]', or use auto or numpy"
        )
    return value


def use_numba(size: int) -> bool:
    """Whether a run over ``size`` customers (or nodes) uses the compiled kernels."""
    chosen = mode()
    if chosen == "auto":
        return size >= MIN_CUSTOMERS and numba_installed()
    return chosen == "numba"


def compiled(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """``kernel`` compiled by ``numba.njit(cache=True)``, compiled once per process.

    ``error_model="numpy"``: a division by zero gives ``inf`` or ``nan`` as in numpy, rather
    than raising as in Python. Kernels marked :func:`parallel` are compiled with
    ``parallel=True`` (only their ``accel.prange`` loop is split; they hold no array
    expressions numba could parallelise on its own, which could reorder a sum).
    """
    global prange
    fast = _compiled.get(kernel)
    if fast is None:
        import numba

        prange = numba.prange
        fast = numba.njit(
            cache=True,
            nogil=True,
            error_model="numpy",
            parallel=getattr(kernel, "parallel_rows", False),
        )(kernel)
        _compiled[kernel] = fast
    return fast


def parallel(kernel: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``kernel`` as a loop whose iterations (``for i in accel.prange(n)``) are
    independent rows: :func:`compiled` spreads them over numba's threads."""
    kernel.parallel_rows = True  # type: ignore[attr-defined]
    return kernel


def kernel(loop: Callable[..., Any], size: int) -> Callable[..., Any]:
    """The compiled ``loop`` when :func:`use_numba` says so for ``size``, else ``loop`` itself."""
    return compiled(loop) if use_numba(size) else loop
