"""Invariants every month of every run must satisfy (switch on with ``check.invariants=true``).

A placeholder that checks nothing yet; the checks are added with their tests.
"""

from __future__ import annotations

from typing import Any


class InvariantError(AssertionError):
    """A month broke one of the model's invariants; the message names it and the month."""


def check_month(model: Any, outcome: Any, metrics: dict[str, float]) -> None:
    """Check the month just stepped; raise :class:`InvariantError` on the first violation."""
