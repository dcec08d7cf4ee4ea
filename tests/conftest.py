"""Shared fixtures: small, fast configs for model-level tests."""

from __future__ import annotations

import functools
import os

import pytest

from sim.config import as_config, compose

SMALL = ["customers.n=300", "international.n=50", "horizon=24", "history=none"]


@functools.cache
def _composed(scenario: str | None, overrides: tuple[str, ...]):
    return compose(scenario, list(overrides))


def small_config(*overrides: str, scenario: str | None = None):
    """A validated small config (300 customers, 24 months) with extra overrides.

    Hydra composes each distinct set of overrides once per session (composing is most of
    a small test's time); every call still returns a freshly validated Config of its own.
    """
    return as_config(_composed(scenario, (*SMALL, *overrides)))


def _shared(fixture_name: str, config: pytest.Config) -> str:
    """Session scope, except under mutation testing: mutmut (which sets MUTANT_UNDER_TEST)
    maps each test to the code it runs, and a session fixture's run would count only for
    the first test that asked for it."""
    return "function" if "MUTANT_UNDER_TEST" in os.environ else "session"


@pytest.fixture(scope=_shared)
def baseline_run():
    """One small baseline run shared by read-only tests."""
    from sim.runner import simulate

    return simulate(small_config("seed=11"))
