"""Shared fixtures: small, fast configs for model-level tests."""

from __future__ import annotations

import pytest

from sim.config import as_config, compose

SMALL = ["customers.n=300", "international.n=50", "horizon=24", "history=none"]


def small_config(*overrides: str, scenario: str | None = None):
    """A validated small config (300 customers, 24 months) with extra overrides."""
    return as_config(compose(scenario, [*SMALL, *overrides]))


@pytest.fixture(scope="session")
def baseline_run():
    """One small baseline run shared by read-only tests."""
    from sim.runner import simulate

    return simulate(small_config("seed=11"))
