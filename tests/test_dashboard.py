"""The dashboard: its engine in code, its command line reproduced, its page in Chromium."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from browser import ConsoleLog, chromium

from sim.dashboard import engine

SMALL = ("customers.n=150", "international.n=20", "horizon=30", "start=2026-07")


def test_a_lever_changes_the_view_but_not_the_reference():
    moved = engine.View("baseline", (("us.rule_level", 1.0), ("domestic.growth", 0.04)), 2, SMALL)
    assert moved.overrides(("uncertainty",)) == ["domestic.growth=0.04", *SMALL]
    out = engine.evaluate(moved)
    table = out.effects.set_index(["group", "metric"])
    assert out.effects.attrs["reference"] == engine.REFERENCE
    view = table.loc[(engine.VIEW, "china_spend_foreign")]
    ref = table.loc[(engine.REFERENCE, "china_spend_foreign")]
    assert view["mean"] < ref["mean"] and view["pairs"] == 2
    runs = out.aggregate.runs.set_index(["scenario", "seed"])["china_spend_foreign"]
    assert view["diff_vs_reference"] == pytest.approx(
        (runs.loc[engine.VIEW] - runs.loc[engine.REFERENCE]).mean(), rel=1e-12
    )
    unmoved = engine.evaluate(engine.View("baseline", (("domestic.growth", 0.04),), 2, SMALL))
    same = unmoved.effects.dropna(subset=["diff_vs_reference"])
    assert (same["diff_vs_reference"] == 0).all()


def test_scenario_values_are_the_starting_points():
    values = engine.scenario_values("reseller_evasion")
    assert values["customers.evade_propensity"] == 0.8
    assert engine.scenario_values("baseline")["intermediaries.azure.monitoring0"] == 0.5
    assert engine.scenarios()["domestic_catch_up"]["kind"] == "context"


@pytest.mark.slow
def test_the_command_reproduces_the_view(tmp_path):
    view = engine.View("closed_channel", (("us.audit_prob", 0.3),), 2, SMALL)
    out = engine.evaluate(view)
    for line in engine.commands(view, "sweep"):
        args = shlex.split(line)
        assert args[0] == "python"
        proc = subprocess.run(
            [sys.executable, *args[1:]], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
    runs = pd.read_csv(tmp_path / "sweep" / "comparison" / "runs.csv")
    mine = out.aggregate.runs.set_index(["scenario", "seed"])
    for scenario, label in (("closed_channel", engine.VIEW), ("baseline", engine.REFERENCE)):
        got = runs[runs["scenario"] == scenario].set_index("seed")["gap_closed_months_final"]
        assert got.sort_index().tolist() == mine.loc[label, "gap_closed_months_final"].tolist()


@pytest.fixture(scope="module")
def server():
    """``python -m sim.dashboard --port 0`` with a small population; its printed address."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim.dashboard", "--port", "0", *[f"--set={s}" for s in SMALL]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=Path(__file__).parent,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://localhost:(\d+)/", line)
        assert match, line
        url = match.group(0)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                import urllib.request

                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError(f"the dashboard did not answer at {url}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
@pytest.mark.browser
def test_the_page_loads_and_a_slider_reruns_the_model(server):
    done = "#outcomes[data-state=done]"
    cell = f"{done} td[data-key=china_spend_foreign][data-col=view]"
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 950})
        console = ConsoleLog(page)
        page.goto(server)
        page.wait_for_selector(cell, timeout=180_000)
        before = page.get_attribute(cell, "data-value")
        reference = page.get_attribute(
            f"{done} td[data-key=china_spend_foreign][data-col=reference]", "data-value"
        )
        assert float(before) == pytest.approx(float(reference))  # baseline against itself
        thumb = page.locator(".control-us-rule-level [role=slider]")
        thumb.focus()
        page.keyboard.press("End")  # restrict every customer
        page.wait_for_function(
            """b => { const c = document.querySelector(
                 '#outcomes[data-state=done] td[data-key=china_spend_foreign][data-col=view]');
               return c && c.getAttribute('data-value') !== b; }""",
            arg=before,
            timeout=180_000,
        )
        after = float(page.get_attribute(cell, "data-value"))
        assert after < float(before)
        page.get_by_role("tab", name="Command").click()
        command = page.locator("#command").inner_text()
        assert "us.rule_level=1" in command and "customers.n=150" in command
        # Only the lever moved: no other slider changed the view on its own (snapping).
        view_line = command.splitlines()[0]
        skip = ("scenario=", "seed=")
        assert [a for a in shlex.split(view_line) if "=" in a and not a.startswith(skip)] == [
            "us.rule_level=1",
            *SMALL,
            "hydra.sweep.dir=multirun/dashboard_view/view",
        ]
        assert console.errors == []
