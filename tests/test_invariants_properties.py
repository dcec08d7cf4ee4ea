"""Property-based tests: random valid configs and scenario timelines keep every invariant.

Each example is a whole run with ``check.invariants=true``: any month that breaks an
invariant raises :class:`~sim.invariants.InvariantError`, and hypothesis shrinks the config
to a small one that still breaks it. The examples are derandomised (no example database),
so a run of the suite tries the same configs on every machine. The small profile runs in the
default suite; the large one on demand:

    SIM_PROPERTIES=large .venv/bin/python -m pytest tests/test_invariants_properties.py \\
        --hypothesis-show-statistics
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, given, settings
from properties import active_profile, configs

from sim.model import MarketModel

PROFILE = active_profile()

#: Under mutation testing (mutmut sets MUTANT_UNDER_TEST) only the verdict matters: a failing
#: config is reported as found, without minutes spent shrinking it.
PHASES = (
    (Phase.explicit, Phase.generate)
    if "MUTANT_UNDER_TEST" in os.environ
    else (Phase.explicit, Phase.generate, Phase.shrink)
)


@settings(
    max_examples=PROFILE.examples,
    phases=PHASES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(config=configs(PROFILE))
def test_every_month_of_a_random_valid_run_keeps_every_invariant(config):
    model = MarketModel(config)
    assert model.config.check.invariants
    model.run()
    assert len(model.records) == config.horizon
