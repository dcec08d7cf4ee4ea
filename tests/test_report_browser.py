"""The HTML report rendered by headless Chromium: summary first, numbers right, tables sort.

The comparison mixes a policy (closed_channel), a market shock (domestic_catch_up), a
scenario run with one seed only (leaky_safeguards), a baseline run given twice, and a
refused job, so the report's honesty rules are all exercised.
"""

from __future__ import annotations

import logging
import shutil

import numpy as np
import pandas as pd
import pytest
from browser import ConsoleLog, chromium

from sim import run
from sim.config import compose
from sim.metrics import metric
from sim.sweep.compare import compare
from sim.sweep.jobs import run_job

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SMALL = ["customers.n=150", "international.n=20", "horizon=30", "start=2026-07"]


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    runs = root / "runs"
    plan = {"baseline": 3, "closed_channel": 3, "domestic_catch_up": 3, "leaky_safeguards": 1}
    for scenario, n in plan.items():
        for seed in range(n):
            run(
                scenario=scenario,
                overrides=[f"seed={seed}", *SMALL],
                output_dir=runs / scenario / f"seed={seed}",
                plots=False,
            )
    shutil.copytree(runs / "baseline" / "seed=0", runs / "baseline_again" / "seed=0")
    run_job(
        compose(None, ["customers.n=-1"]),
        runs / "bad",
        ["customers.n=-1"],
        sweep=True,
        log=logging.getLogger("test"),
    )
    out = compare([runs], root / "comparison")
    return out, pd.read_csv(root / "comparison" / "runs.csv")


@pytest.fixture(scope="module")
def page(comparison):
    out, _ = comparison
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console = ConsoleLog(page)
        page.goto(out.report.as_uri())
        page.wait_for_function("document.body.hasAttribute('data-images-loaded')")
        page.console = console
        yield page


def cells(page, table: str, col: str) -> dict[str, str]:
    """Group name to the ``data-value`` of a column in a summary table."""
    rows = page.locator(f"table[data-table='{table}'] tbody tr")
    out = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        group = row.locator("td[data-col='group']").inner_text()
        out[group] = row.locator(f"td[data-col='{col}']").get_attribute("data-value")
    return out


def table_rows(page, table: str) -> list[dict[str, dict[str, str | None]]]:
    """Every body row of a table as column name to its text, data-value and data-key."""
    return page.locator(f"table[data-table='{table}'] tbody tr").evaluate_all(
        """rows => rows.map(r => Object.fromEntries(Array.from(r.cells).map(c => [
            c.getAttribute('data-col'),
            {text: c.textContent, value: c.getAttribute('data-value'),
             key: c.getAttribute('data-key')}])))"""
    )


def test_the_summary_comes_first_and_fits_the_first_screen(page):
    assert page.locator("h2").first.inner_text() == "Policy summary"
    first_table = page.locator("table").first.get_attribute("data-table")
    assert first_table == "summary-policy"
    box = page.locator("#answer").bounding_box()
    assert box is not None and box["y"] < 900
    answer = page.locator("#answer").inner_text()
    assert "closed_channel" in answer and "gap closed by leakage" in answer


def test_every_embedded_image_loads_and_no_console_errors(page):
    total = page.evaluate("document.body.getAttribute('data-images-total')")
    loaded = page.evaluate("document.body.getAttribute('data-images-loaded')")
    assert int(total) >= 4 and loaded == total
    assert page.console.errors == []


def test_summary_changes_are_the_paired_differences_by_seed(page, comparison):
    _, runs = comparison
    ok = runs[runs["status"] == "ok"].groupby(["scenario", "seed"]).mean(numeric_only=True)
    base = ok.loc["baseline"]
    for key in ("china_spend_foreign", "gap_closed_months_final", "revenue_domestic"):
        expected = (ok.loc["closed_channel", key] - base[key]).mean()
        shown = float(cells(page, "summary-policy", key)["closed_channel"])
        assert shown == pytest.approx(expected, rel=1e-9)


def test_market_shocks_are_shown_apart_from_policy_choices(page):
    policies = cells(page, "summary-policy", "n")
    context = cells(page, "summary-context", "n")
    assert set(context) == {"domestic_catch_up"}
    assert "domestic_catch_up" not in policies and "closed_channel" in policies


def test_a_group_with_one_seed_is_flagged_and_has_no_interval(page):
    row = page.locator("table[data-table='summary-policy'] tbody tr", has_text="leaky_safeguards")
    assert "(flagged)" in row.locator("td[data-col='n']").inner_text()
    cell = row.locator("td[data-col='gap_closed_months_final']")
    assert cell.get_attribute("data-verdict") == "single run"
    assert "no interval" in cell.inner_text()
    assert "leaky_safeguards" in page.locator("ul.notes").inner_text()


def test_a_run_given_twice_counts_once(page):
    rows = table_rows(page, "headline")
    seeds = {r["group"]["text"] for r in rows if r["group"]["text"] == "baseline"}
    assert seeds and all(r["n"]["text"] == "3" for r in rows if r["group"]["text"] == "baseline")
    notes = page.locator("ul.notes").inner_text()
    assert "counted once: baseline_again/seed=0 (same as baseline/seed=0)" in notes


def test_colour_follows_what_is_better_for_whom(page):
    cells = page.locator("table.summary td[data-verdict]").evaluate_all(
        """cells => cells.map(c => [c.getAttribute('data-col'), c.getAttribute('data-value'),
                                   c.getAttribute('data-verdict'), c.className])"""
    )
    seen = set()
    for key, value, verdict, classes in cells:
        if verdict in ("better", "worse"):
            up = float(value) > 0
            assert (verdict == "better") == (up == (metric(key).better == "higher")), key
            assert verdict in classes.split()
            seen.add(verdict)
        else:
            assert "better" not in classes.split() and "worse" not in classes.split()
    # Closing the channel cuts channel spend (worse for the intermediary) and raises domestic
    # revenue (better for domestic providers).
    assert seen == {"better", "worse"}


def test_clicking_a_heading_sorts_the_rows_by_value(page):
    table = "table[data-table='headline']"
    page.locator("details", has=page.locator(table)).locator("summary").click()
    heading = page.locator(f"{table} th[data-col='mean']")
    values = lambda: [  # noqa: E731
        float(v) if v else np.nan
        for v in page.locator(f"{table} td[data-col='mean']").evaluate_all(
            "cells => cells.map(c => c.getAttribute('data-value'))"
        )
    ]
    heading.click()
    up = [v for v in values() if np.isfinite(v)]
    assert up == sorted(up) and up != values()[::-1]
    heading.click()
    down = [v for v in values() if np.isfinite(v)]
    assert down == sorted(down, reverse=True)


def test_levels_match_the_runs_and_respect_their_range(page, comparison):
    _, runs = comparison
    ok = runs[runs["status"] == "ok"].drop_duplicates(["scenario", "seed"])
    checked = 0
    for row in table_rows(page, "headline"):
        group, key = row["group"]["text"], row["metric"]["key"]
        expected = ok.loc[ok["scenario"] == group, key].dropna()
        assert float(row["mean"]["value"]) == pytest.approx(expected.mean(), rel=1e-9, abs=1e-12)
        assert row["n"]["text"] == str(len(expected))
        if row["lo"]["value"] and metric(key).nonneg:
            assert float(row["lo"]["value"]) >= 0, (group, key)
        checked += 1
    assert checked >= 30


def test_failed_jobs_are_listed_with_their_error(page):
    failed = page.locator("table[data-table='failed'] tbody tr")
    assert failed.count() == 1
    text = failed.first.inner_text()
    assert "refused" in text and "customers.n = -1" in text
    assert page.locator("details#failed").get_attribute("open") is not None
