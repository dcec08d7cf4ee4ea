"""The condition grammar of PRIM and satisficing: what it accepts, refuses and computes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.analysis.conditions import parse_condition
from sim.analysis.space import summary_outcomes
from sim.validate import ConfigError

ALLOWED = summary_outcomes()
FRAME = pd.DataFrame(
    {
        "capability_gap_months_final": [1.0, 3.0, 5.0, np.nan],
        "revenue_intermediary": [2e10, 2e10, 1e9, 5e10],
    }
)


def holds(text: str) -> list[bool]:
    return parse_condition(text, ALLOWED).evaluate(FRAME).tolist()


def test_and_or_not_and_chained_comparisons_evaluate_row_by_row():
    assert holds("capability_gap_months_final > 2 and revenue_intermediary > 1e10") == [
        False,
        True,
        False,
        False,
    ]
    assert holds("capability_gap_months_final > 4 or revenue_intermediary >= 5e10") == [
        False,
        False,
        True,
        True,
    ]
    assert holds("not capability_gap_months_final <= 2") == [False, True, True, True]
    assert holds("2 < capability_gap_months_final <= 5") == [False, True, True, False]
    assert holds("revenue_intermediary == 2e10 and -1 < capability_gap_months_final") == [
        True,
        True,
        False,
        False,
    ]


def test_and_binds_tighter_than_or_and_parentheses_override():
    a = holds(
        "capability_gap_months_final > 4 or capability_gap_months_final < 2 and revenue_intermediary > 3e10"
    )
    b = holds(
        "(capability_gap_months_final > 4 or capability_gap_months_final < 2) and revenue_intermediary > 3e10"
    )
    assert a == [False, False, True, False]
    assert b == [False, False, False, False]


def test_a_missing_value_never_meets_a_condition():
    assert holds("capability_gap_months_final != 0")[3] is False


def test_the_condition_reports_the_outcomes_it_reads():
    cond = parse_condition("fines < 1 and violations < 2 or fines > 5", ALLOWED)
    assert cond.outcomes == ("fines", "violations")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("gap > 2", "unknown outcome 'gap'"),
        ("capability_gap_months_final >", "malformed expression"),
        ("fines > 1 && fines < 2", "malformed expression"),
        ("fines + 1 > 2", "not an outcome name or a number"),
        ('__import__("os").system("true")', "is not a comparison"),
        ("fines", "is not a comparison"),
        ("1 < 2", "compares no outcome"),
        ("fines > 'a'", "not an outcome name or a number"),
        ("fines is None", "not a comparison"),
        ("fines > True", "not an outcome name or a number"),
        ("fines > [1]", "not an outcome name or a number"),
        ("", "empty"),
    ],
)
def test_malformed_or_unknown_conditions_are_refused_naming_the_problem(text, expected):
    with pytest.raises(ConfigError, match=None) as info:
        parse_condition(text, ALLOWED)
    assert expected in str(info.value)
