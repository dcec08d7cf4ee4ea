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
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable
from typing import Any

#: Customers from which ``SIM_KERNELS=auto`` uses the compiled kernels.
MIN_CUSTOMERS = 20_000

#: The environment variable that chooses the kernels, and its allowed values.
ENV = "SIM_KERNELS"
MODES = ("auto", "numpy", "numba")

_compiled: dict[Callable[..., Any], Callable[..., Any]] = {}


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
    than raising as in Python.
    """
    fast = _compiled.get(kernel)
    if fast is None:
        import numba

        fast = numba.njit(cache=True, nogil=True, error_model="numpy")(kernel)
        _compiled[kernel] = fast
    return fast


def kernel(loop: Callable[..., Any], size: int) -> Callable[..., Any]:
    """The compiled ``loop`` when :func:`use_numba` says so for ``size``, else ``loop`` itself."""
    return compiled(loop) if use_numba(size) else loop
